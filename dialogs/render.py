"""Turn an Outgoing into text for one output format, with the user's words made inert.

Every `{{ expression }}` in a template passes through the format's escaper unless
it is `Safe` (markup we produced ourselves), so a user's `<b>`, `*`, `@everyone`
or URL can never become formatting, a ping or a link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, pass_context
from jinja2.runtime import Context

from leavewell.dialogs.outgoing import Choice, Outgoing
from leavewell.dialogs.script import TEMPLATE_FILES, TEMPLATES_DIR, Script, default_script

PLAIN = "plain"
HTML = "html"  # <b>, <i> and entities: chat platforms' HTML subset
MARKDOWN = "markdown"  # **bold**, *italic*, backslash escapes: chat platforms' markdown


class Safe(str):
    """Text already formatted for the output format; not escaped again."""

    __slots__ = ()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_MD_SPECIAL = re.compile(r"([\\*_~`|>#\-\[\]()<:])")
# A zero-width space (U+200B) breaks what a chat client would turn into a live link,
# mention or command, and stays invisible and readable. The strictest entity parser we
# serve (tdlib, MessageEntity.cpp) ends a domain, a mention and a command at any General
# Punctuation character except U+200C/U+200D, so a zero-width *joiner* would not do.
# <code> would also be inert, but some clients allow no code inside the italic quotes
# that carry the user's words, and it changes how the words look.
ZWSP = "\u200b"
_URL_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*)://")  # any scheme: apps have their own
# A dot that could end a domain label: "evil.com/login", "t.me/joinchat/x", "me@x.org",
# "1.2.3.4", "例子.中国", "🙂.com". The space goes before the dot, so no label is left
# touching it (3.50 gets one too, unseen). Domain characters as tdlib counts them: ASCII
# letters, digits, _ ~ -, and from U+00C0 on anything but spaces and General Punctuation
# (ZWNJ, ZWJ and dashes excepted). Like tdlib, a label with "_" before the dot ("rule_id.x")
# or a one-letter one after it ("e.g.") makes no domain, so those stay as they are.
_DOMAIN_CHARS = ("A-Za-z0-9_~\\-\u00c0-\u167f\u1681-\u1fff\u200c\u200d\u2010-\u2015"
                 "\u2070-\u2fff\u3001-\U0010ffff")
_DOMAIN_DOT = re.compile(f"([{_DOMAIN_CHARS}]+)\\.(?=([{_DOMAIN_CHARS}]+))")


def _break_domain_dot(match: re.Match[str]) -> str:
    left, right = match.group(1), match.group(2)
    if "_" in left or (len(right) < 2 and not right.isdigit()):
        return match.group(0)
    return f"{left}{ZWSP}."


_MENTION = re.compile(r"@(?=[A-Za-z0-9_])")  # @username, @everyone, @here
_COMMAND = re.compile(r"(?<![\w/<>])/(?=[A-Za-z0-9_])")  # "/forget": one tap would send it


def defang(text: str) -> str:
    """Make links, mentions and commands in a user's words inert, invisibly:
    'https://x.io' -> 'https:<ZWSP>//x<ZWSP>.io', '@ann' -> '@<ZWSP>ann'."""
    text = _URL_SCHEME.sub(lambda m: f"{m.group(1)}:{ZWSP}//", text)
    text = _DOMAIN_DOT.sub(_break_domain_dot, text)
    text = _MENTION.sub("@" + ZWSP, text)
    return _COMMAND.sub("/" + ZWSP, text)


def escape_plain(text: str) -> str:
    # Terminal control sequences and bidi overrides from users must not reach a screen.
    return _CONTROL.sub("", text)


def _html_text(text: str) -> str:
    return escape_plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_html(text: str) -> str:
    return _html_text(defang(escape_plain(text)))


def _markdown_text(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", escape_plain(text))


def escape_markdown(text: str) -> str:
    # After every '@', not only before names: "@ everyone" typed oddly stays inert too.
    return _markdown_text(defang(escape_plain(text).replace("@", "@" + ZWSP)))


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    escape: Callable[[str], str]  # any value: the user's words made inert
    bold: str
    italic: str
    quote: str
    escape_own: Callable[[str], str]  # our own catalog texts: their /commands stay live


FORMATS: dict[str, Format] = {
    PLAIN: Format(PLAIN, escape_plain, "{}", "{}", "“{}”", escape_plain),
    HTML: Format(HTML, escape_html, "<b>{}</b>", "<i>{}</i>", "<i>“{}”</i>", _html_text),
    MARKDOWN: Format(MARKDOWN, escape_markdown, "**{}**", "*{}*", "*“{}”*", _markdown_text),
}


def register_format(fmt: Format) -> None:
    """An output format of an adapter's own, beside the three built in."""
    FORMATS[fmt.name] = fmt


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    choices: tuple[Choice, ...] = ()
    attachments: tuple[str, ...] = ()


class Renderer:
    """One jinja2 environment per output format over every language's texts."""

    def __init__(
        self,
        script: Script | None = None,
        finding_text: Callable[[str, str, str], str] | None = None,
    ) -> None:
        self.script = script or default_script()
        self._finding_text = finding_text or _default_finding_text
        sources: dict[str, str] = {}
        for lang, catalog in self.script.catalogs.items():
            for key, text in catalog.template_sources().items():
                sources[f"{lang}/{key}"] = text
            for name in TEMPLATE_FILES:
                path = TEMPLATES_DIR / lang / f"{name}.j2"
                sources[f"{lang}/{name}"] = path.read_text(encoding="utf-8")
        self._sources = sources
        self._envs: dict[str, Environment] = {}
        for name in FORMATS:  # at once: a broken template fails at start-up, not later
            self._env(name)

    def _environment(self, fmt: Format, sources: Mapping[str, str]) -> Environment:
        def finalize(value: Any) -> str:
            if isinstance(value, Safe):
                return value
            return fmt.escape(str(value))

        env = Environment(
            loader=DictLoader(dict(sources)),
            undefined=StrictUndefined,
            finalize=finalize,
            autoescape=False,
            trim_blocks=True,
            keep_trailing_newline=False,
        )

        def wrap(pattern: str) -> Callable[[Any], Safe]:
            return lambda value: Safe(pattern.format(finalize(value)))

        # Texts without template syntax are escaped once, not rendered every time.
        static = {name: Safe(fmt.escape_own(source)) for name, source in sources.items()
                  if "{" not in source}

        @pass_context
        def text(ctx: Context, key: str) -> Safe:
            name = f"{ctx['lang']}/{key}"
            cached = static.get(name)
            if cached is not None:
                return cached
            return Safe(env.get_template(name).render(ctx.get_all()))

        @pass_context
        def text_in(ctx: Context, lang: str, key: str) -> Safe:
            """A text in another language than the message's (an English question
            inside a Chinese interface), rendered with the same parameters."""
            name = f"{lang}/{key}"
            cached = static.get(name)
            if cached is not None:
                return cached
            return Safe(env.get_template(name).render({**ctx.get_all(), "lang": lang}))

        @pass_context
        def finding(ctx: Context, finding_id: str) -> str:
            return self._finding_text(finding_id, ctx["lang"], "message")

        @pass_context
        def finding_name(ctx: Context, finding_id: str) -> str:
            return self._finding_text(finding_id, ctx["lang"], "name")

        @pass_context
        def tip_text(ctx: Context, finding_id: str) -> str:
            return self._finding_text(finding_id, ctx["lang"], "tip")

        @pass_context
        def infer_text(ctx: Context, finding_id: str) -> str:
            return self._finding_text(finding_id, ctx["lang"], "infer")

        @pass_context
        def situation_label(ctx: Context, situation_id: str) -> Safe:
            return text(ctx, f"situations.{situation_id}.label")

        @pass_context
        def model_answer(ctx: Context, situation_id: str, known: Mapping[str, Any],
                         lang: str | None = None) -> Safe:
            lang = lang or ctx["lang"]  # the interview's language, when it differs
            values: dict[str, Any] = {
                key: text_in(ctx, lang, f"placeholders.{key}")
                for key in self.script.catalogs[lang].placeholders
            }
            values.update({k: v for k, v in known.items() if v})
            template = env.get_template(f"{lang}/situations.{situation_id}.skeleton")
            return Safe(template.render(lang=lang, **values))

        @pass_context
        def quotes(ctx: Context, texts: list[str]) -> Safe:
            separator = "，" if ctx["lang"] == "zh" else ", "
            return Safe(separator.join(fmt.quote.format(finalize(t)) for t in texts))

        def signed(number: Any) -> str:
            return f"{int(number):+d}"

        env.globals.update(
            b=wrap(fmt.bold),
            i=wrap(fmt.italic),
            quote=wrap(fmt.quote),
            quotes=quotes,
            t=text,
            sub=text,
            sub_in=text_in,
            finding=finding,
            finding_name=finding_name,
            tip_text=tip_text,
            infer_text=infer_text,
            situation_label=situation_label,
            model_answer=model_answer,
            signed=signed,
        )
        env.filters.update(quote=wrap(fmt.quote), finding_name=finding_name)
        return env

    def template_name(self, outgoing: Outgoing) -> str:
        if outgoing.template in TEMPLATE_FILES:
            return f"{outgoing.lang}/{outgoing.template}"
        return f"{outgoing.lang}/messages.{outgoing.template}"

    def _env(self, fmt: str) -> Environment:
        env = self._envs.get(fmt)
        if env is None:
            env = self._envs[fmt] = self._environment(FORMATS[fmt], self._sources)
        return env

    def render(self, outgoing: Outgoing, fmt: str, *, numbered_choices: bool = False) -> Rendered:
        env = self._env(fmt)
        params = dict(outgoing.params)
        params["lang"] = outgoing.lang
        text = env.get_template(self.template_name(outgoing)).render(params).strip()
        if numbered_choices and outgoing.choices:
            escape = FORMATS[fmt].escape
            numbered = [c for c in outgoing.choices if c.typed is None]
            lines = [f"{n}. {escape(c.label)}" for n, c in enumerate(numbered, 1)]
            lines += [f"{escape(c.typed)}: {escape(c.label)}"
                      for c in outgoing.choices if c.typed is not None]
            text = "\n".join([text, "", *lines])
        return Rendered(text=text, choices=outgoing.choices, attachments=outgoing.attachments)


def _default_finding_text(finding_id: str, lang: str, field: str) -> str:
    from leavewell.dialogs.analyzer.messages import finding_field

    return finding_field(finding_id, lang, field)


@cache
def default_renderer() -> Renderer:
    return Renderer()
