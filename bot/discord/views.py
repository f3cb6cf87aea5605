"""Buttons that survive restarts: the custom_id carries the choice ("lw:<choice id>"), and
one DynamicItem registered at start-up turns any such click back into a ChoicePressed."""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

import discord

from leavewell.dialogs.outgoing import Choice

log = logging.getLogger(__name__)

PREFIX = "lw:"
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
PER_ROW = 5
ROWS = 5


class ChoiceHandler(Protocol):
    async def on_choice(self, interaction: discord.Interaction[Any], choice: str) -> None: ...


class ChoiceButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=re.compile(re.escape(PREFIX) + r"(?P<choice>\S{1,97})")):
    def __init__(self, choice: str, label: str = "…", *, row: int | None = None) -> None:
        custom_id = PREFIX + choice
        if len(custom_id) > CUSTOM_ID_LIMIT:
            raise ValueError(f"custom_id over {CUSTOM_ID_LIMIT} characters: {custom_id!r}")
        super().__init__(discord.ui.Button(label=label[:LABEL_LIMIT] or "…", custom_id=custom_id,
                                           style=discord.ButtonStyle.secondary), row=row)
        self.choice = choice

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]
                             ) -> ChoiceButton:
        return cls(match["choice"], getattr(item, "label", None) or "…")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler: ChoiceHandler | None = getattr(interaction.client, "choice_handler", None)
        if handler is not None:
            await handler.on_choice(interaction, self.choice)


def choice_view(choices: tuple[Choice, ...]) -> discord.ui.View | None:
    """Up to 5 rows of 5 buttons. The view is finished before it is sent, so discord.py
    keeps nothing per message in memory: the DynamicItem handles every click."""
    if not choices:
        return None
    if len(choices) > PER_ROW * ROWS:
        log.error("%d choices do not fit on a Discord message; showing %d", len(choices),
                  PER_ROW * ROWS)
    view = discord.ui.View(timeout=None)
    for n, choice in enumerate(choices[:PER_ROW * ROWS]):
        view.add_item(ChoiceButton(choice.id, choice.label, row=n // PER_ROW))
    view.stop()
    return view


def button_label(message: discord.Message | None, custom_id: str) -> str | None:
    if message is None:
        return None
    for row in message.components:
        for child in getattr(row, "children", ()):
            if getattr(child, "custom_id", None) == custom_id:
                return getattr(child, "label", None)
    return None
