"""Discord adapter (discord.py): slash commands, persistent buttons, private practice."""

from leavewell.bot.discord.adapter import DiscordAdapter

__all__ = ["DiscordAdapter"]
