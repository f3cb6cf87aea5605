"""The slash commands, localised from our catalogs with discord.py's Translator."""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from leavewell.bot.texts import PlatformTexts
from leavewell.dialogs.modes import MODES
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import PLAIN, Renderer

DESCRIPTION_LIMIT = 100
SIMPLE_COMMANDS = ("start", "retry", "history", "stop", "help", "forget", "export", "role")
CHANNEL_ACTIONS = ("add", "remove", "list", "clear")
ROUND_ACTIONS = ("start", "end", "status", "comment")
ROUND_EACH = "each"  # the situation option's value for "each member's own"
WINDOW_LIMIT = 20  # characters of the window option ("1h30m", "3 days")
COMMENT_LIMIT = 1000  # characters of a comment option (the round keeps fewer)
WHY_LIMIT = 99  # the highest point number /why takes (a feedback has far fewer)
_SPACES = re.compile(r"[\s,，、;；]+")


class CommandHandler(Protocol):
    async def on_command(self, interaction: discord.Interaction[Any], name: str,
                         args: str) -> None: ...

    async def on_channels(self, interaction: discord.Interaction[Any], action: str,
                          channel: int | None) -> None: ...


def round_args(action: str, *, situation: str | None = None, window: str | None = None,
               followups: bool | None = None, answer: int | None = None,
               text: str | None = None, skeptical: bool | None = None) -> str:
    """The /round options as the text the round's parser reads after "/round"
    (dialogs/rounds/commands.py): "start window=30m situation=laid_off followups=off",
    "comment 2 Clear and short"."""
    if action == "start":
        parts = ["start"]
        if window:
            # "2 hours" or "1h, 30m" is one duration: no separators inside it
            parts.append("window=" + _SPACES.sub("", window))
        if situation:
            parts.append(f"situation={situation}")
        if followups is not None:
            parts.append("followups=" + ("on" if followups else "off"))
        if skeptical is not None:
            parts.append("mode=" + ("skeptical" if skeptical else "coach"))
        return " ".join(parts)
    if action == "comment":
        number = str(answer) if answer is not None else ""
        return " ".join(p for p in ("comment", number, (text or "").strip()) if p)
    return action if action in ROUND_ACTIONS else "status"


class ChannelId(app_commands.Transformer):
    """A text channel option, taken as its id (resolved data or not)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text]

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> int:
        return int(value.id)


class CatalogTranslator(app_commands.Translator):
    """Reads our catalogs: a locale_str's `key` extra names the text ("commands.practice",
    "situations.laid_off.label", "labels.lang_zh"), or this adapter's own texts
    ("discord.option_situation", bot/discord/texts.yaml)."""

    def __init__(self, renderer: Renderer, texts: PlatformTexts,
                 default_lang: str = "en") -> None:
        self.renderer = renderer
        self.texts = texts
        self.default_lang = default_lang

    def text(self, key: str, lang: str) -> str | None:
        catalog = self.renderer.script.catalogs.get(lang)
        if catalog is None:
            return None
        section, _, name = key.partition(".")
        if section == "discord":
            return self.texts.render(name, lang, PLAIN)
        if section == "messages":
            return self.renderer.render(Outgoing(name, lang), PLAIN).text
        if section == "situations":
            sid, _, field = name.partition(".")
            return catalog.situations.get(sid, {}).get(field)
        texts = getattr(catalog, section, None)
        return texts.get(name) if texts is not None else None

    async def translate(self, string: locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        key = string.extras.get("key")
        code = str(locale.value).lower()
        lang = code[:2]
        if not key or lang == self.default_lang or lang not in self.renderer.script.catalogs:
            return None
        text = self.text(key, lang)
        return text[:DESCRIPTION_LIMIT] if text else None


def build_commands(tree: app_commands.CommandTree[Any], renderer: Renderer,
                   texts: PlatformTexts, handler: CommandHandler,
                   guild: discord.abc.Snowflake | None) -> None:
    translator = CatalogTranslator(renderer, texts)

    def text(key: str) -> locale_str:
        english = translator.text(key, "en") or key
        return locale_str(english[:DESCRIPTION_LIMIT], key=key)

    script = renderer.script

    def simple(name: str) -> app_commands.Command[Any, ..., None]:
        async def callback(interaction: discord.Interaction[Any]) -> None:
            await handler.on_command(interaction, name, "")

        return app_commands.Command(name=name, description=text(f"commands.{name}"),
                                    callback=callback)

    @app_commands.command(name="practice", description=text("commands.practice"))
    @app_commands.describe(situation=text("discord.option_situation"))
    @app_commands.choices(situation=[
        Choice(name=text(f"situations.{sid}.label"), value=sid)
        for sid in script.situation_order][:25])
    async def practice(interaction: discord.Interaction[Any],
                       situation: str | None = None) -> None:
        await handler.on_command(interaction, "practice", situation or "")

    @app_commands.command(name="lang", description=text("commands.lang"))
    @app_commands.describe(language=text("discord.option_language"))
    @app_commands.choices(language=[Choice(name=text(f"labels.lang_{code}"), value=code)
                                    for code in script.catalogs])
    async def lang(interaction: discord.Interaction[Any], language: str | None = None) -> None:
        await handler.on_command(interaction, "lang", language or "")

    @app_commands.command(name="mode", description=text("commands.mode"))
    @app_commands.describe(interviewer=text("discord.option_mode"))
    @app_commands.choices(interviewer=[Choice(name=text(f"labels.mode_pick_{mode}"), value=mode)
                                       for mode in MODES])
    async def mode(interaction: discord.Interaction[Any], interviewer: str | None = None) -> None:
        await handler.on_command(interaction, "mode", interviewer or "")

    @app_commands.command(name="channels", description=text("discord.command_channels"))
    @app_commands.describe(action=text("discord.option_action"),
                           channel=text("discord.option_channel"))
    @app_commands.choices(action=[Choice(name=text(f"discord.action_{a}"), value=a)
                                  for a in CHANNEL_ACTIONS])
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def channels(interaction: discord.Interaction[Any], action: str,
                       channel: app_commands.Transform[int, ChannelId] | None = None) -> None:
        await handler.on_channels(interaction, action, channel)

    @app_commands.command(name="round", description=text("commands.round"))
    @app_commands.describe(action=text("discord.round_option_action"),
                           situation=text("discord.round_option_situation"),
                           window=text("discord.round_option_window"),
                           followups=text("discord.round_option_followups"),
                           skeptical=text("discord.round_option_skeptical"),
                           answer=text("discord.round_option_answer"),
                           comment=text("discord.round_option_text"))
    @app_commands.rename(comment="text")
    @app_commands.choices(
        action=[Choice(name=text(f"discord.round_action_{a}"), value=a)
                for a in ROUND_ACTIONS],
        situation=[*(Choice(name=text(f"situations.{sid}.label"), value=sid)
                     for sid in script.situation_order[:24]),
                   Choice(name=text("discord.round_each"), value=ROUND_EACH)])
    @app_commands.guild_only()
    async def round_(interaction: discord.Interaction[Any], action: str = "status",
                     situation: str | None = None,
                     window: app_commands.Range[str, 1, WINDOW_LIMIT] | None = None,
                     followups: bool | None = None,
                     answer: app_commands.Range[int, 1, 999_999] | None = None,
                     comment: app_commands.Range[str, 1, COMMENT_LIMIT] | None = None,
                     skeptical: bool | None = None) -> None:
        await handler.on_command(interaction, "round", round_args(
            action, situation=situation, window=window, followups=followups, answer=answer,
            text=comment, skeptical=skeptical))

    @app_commands.command(name="why", description=text("commands.why"))
    @app_commands.describe(number=text("discord.why_option_number"))
    async def why(interaction: discord.Interaction[Any],
                  number: app_commands.Range[int, 1, WHY_LIMIT] | None = None) -> None:
        await handler.on_command(interaction, "why", str(number or ""))

    for command in (practice, lang, mode, channels, round_, why,
                    *(simple(n) for n in SIMPLE_COMMANDS)):
        tree.add_command(command, guild=guild)

