"""How a spoken answer sounded: filler words and pace. Pure.

Counted on the transcript of a voice answer, with the duration the platform measured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Filler words per language. "like" is a filler only between pauses ("it was, like,
# hard"), never in "I'd like to" or "I like data".
FILLERS: Mapping[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    "en": (
        ("um", re.compile(r"\b(?:um+|umm+|erm+)\b", re.IGNORECASE)),
        ("uh", re.compile(r"\b(?:uh+|er)\b", re.IGNORECASE)),
        ("like", re.compile(r"(?<=,)\s*like\b|(?:^|(?<=[.!?]\s))like(?=\s*,)",
                            re.IGNORECASE)),
        ("you know", re.compile(r"\byou know\b(?=\s*[,.!?]|\s*$)", re.IGNORECASE)),
        ("I mean", re.compile(r"\bI mean\b(?=\s*,)", re.IGNORECASE)),
    ),
    "zh": (
        ("嗯", re.compile(r"嗯+")),
        ("呃", re.compile(r"[呃额]+")),
        ("那个", re.compile(r"那个(?=[，,、。…]|\s|那个)")),
        ("就是说", re.compile(r"就是说")),
    ),
}
# What "per minute" counts: words in English, characters in Chinese (as spoken pace is
# usually given in each language).
UNITS: Mapping[str, str] = {"en": "words", "zh": "chars"}


def fillers(text: str, lang: str) -> list[dict[str, Any]]:
    """[{"word", "count"}] for each filler heard, most frequent first."""
    counts = [(word, len(pattern.findall(text))) for word, pattern in FILLERS.get(lang, ())]
    return [{"word": w, "count": n} for w, n in sorted(counts, key=lambda c: -c[1]) if n]


def speech_stats(text: str, seconds: float, words: int, lang: str) -> dict[str, Any]:
    """Fillers and pace of one spoken answer; ``words`` as the analyzer counted them
    (Chinese characters count one each)."""
    per_minute = round(words * 60 / seconds) if seconds >= 1 else None
    return {"fillers": fillers(text, lang), "per_minute": per_minute,
            "unit": UNITS.get(lang, "words"), "seconds": seconds, "words": words}


def combine(stats: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """All spoken answers of an exchange as one report; None when none was spoken."""
    stats = [s for s in stats if s]
    if not stats:
        return None
    counts: dict[str, int] = {}
    for s in stats:
        for f in s["fillers"]:
            counts[f["word"]] = counts.get(f["word"], 0) + int(f["count"])
    seconds = sum(float(s["seconds"]) for s in stats)
    words = sum(int(s["words"]) for s in stats)
    return {
        "fillers": [{"word": w, "count": n}
                    for w, n in sorted(counts.items(), key=lambda c: -c[1])],
        "per_minute": round(words * 60 / seconds) if seconds >= 1 else None,
        "unit": stats[0]["unit"],
        "seconds": seconds,
        "words": words,
    }
