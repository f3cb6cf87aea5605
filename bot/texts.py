"""An adapter's own message texts: what only its platform says (a private thread was
opened, a slash command's option descriptions), in every interface language.

A YAML file maps each language to its texts; every language defines exactly the keys
of the first. Texts are jinja2 templates rendered like the interview's: a value passes
through the output format's escaper unless it is `Safe`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

from leavewell.dialogs.render import FORMATS, PLAIN, Safe
from leavewell.dialogs.script import LANGS


class PlatformTexts:
    def __init__(self, path: Path) -> None:
        self.path = path
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict) or set(loaded) != set(LANGS):
            raise ValueError(f"{path}: needs texts for exactly {sorted(LANGS)}")
        first = set(loaded[LANGS[0]])
        for lang, texts in loaded.items():
            if not isinstance(texts, dict) or set(texts) != first:
                missing = first - set(texts or {})
                extra = set(texts or {}) - first
                raise ValueError(f"{path}: {lang} differs from {LANGS[0]}: "
                                 f"missing {sorted(missing)}, extra {sorted(extra)}")
            for key, text in texts.items():
                if not isinstance(text, str) or not text.strip():
                    raise ValueError(f"{path}: {lang}.{key} must be a non-empty text")
        self._sources: dict[str, dict[str, str]] = loaded
        for fmt in FORMATS:  # compile every text now: a broken one fails at start-up
            for lang in LANGS:
                for key in first:
                    self._template(fmt, lang, key)

    @cached_property
    def _environments(self) -> dict[str, Environment]:
        def environment(fmt: str) -> Environment:
            escape = FORMATS[fmt].escape
            return Environment(undefined=StrictUndefined, autoescape=False,
                               finalize=lambda v: v if isinstance(v, Safe) else escape(str(v)))
        return {name: environment(name) for name in FORMATS}

    def _template(self, fmt: str, lang: str, key: str) -> Template:
        cache = self.__dict__.setdefault("_templates", {})
        template = cache.get((fmt, lang, key))
        if template is None:
            template = self._environments[fmt].from_string(self._sources[lang][key])
            cache[(fmt, lang, key)] = template
        return template

    def keys(self) -> list[str]:
        return sorted(self._sources[LANGS[0]])

    def raw(self, lang: str, key: str) -> str:
        """The text as written (for places that take no formatting: command options)."""
        return self._sources[lang][key]

    def render(self, key: str, lang: str, fmt: str = PLAIN, **params: Any) -> str:
        lang = lang if lang in self._sources else LANGS[0]
        return self._template(fmt, lang, key).render(**params).strip()
