"""What a candidate practising in a second language gets beside the feedback:
stronger English wordings for risky phrases and glosses of the harder words.

English answers get phrase help whatever the interface; the Chinese glosses are
shown to Chinese-interface users only (the templates decide), and the glossary of
the model answer is built only for them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from leavewell.dialogs.phrases import default_glossary, default_phrase_bank
from leavewell.dialogs.script import Script

PHRASE_HELP_LANGS = frozenset({"en"})  # answer languages the phrase bank covers
GLOSSARY_LIMIT = 6


def phrase_help(analysis: dict[str, Any], situation_id: str, ui_lang: str,
                script: Script, answer: str | None = None) -> dict[str, Any]:
    answer_lang = analysis.get("lang") or ui_lang
    help_: dict[str, Any] = {"answer_lang": answer_lang, "phrases": [], "glossary": []}
    if answer_lang not in PHRASE_HELP_LANGS:
        return help_
    phrases = default_phrase_bank().suggest(analysis, answer=answer)
    help_["phrases"] = phrases
    if ui_lang != answer_lang:
        model = script.catalogs[answer_lang].situations[situation_id]["skeleton"]
        texts = [model, *(a["text"] for p in phrases for a in p["alternatives"])]
        help_["glossary"] = _gloss_all(texts)
    return help_


def _gloss_all(texts: list[str], limit: int = GLOSSARY_LIMIT) -> list[dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for text in texts:
        for entry in _gloss(text):
            found.setdefault(entry["word"], entry)
    return list(found.values())[:limit]


@lru_cache(maxsize=1024)
def _gloss(text: str) -> tuple[dict[str, str], ...]:
    # Model answers and alternatives are our own fixed texts: each is scanned once.
    return tuple(default_glossary().gloss(text, limit=GLOSSARY_LIMIT))
