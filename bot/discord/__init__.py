"""Discord adapter (discord.py): slash commands, persistent buttons, private practice."""

from bot.discord.adapter import DiscordAdapter

__all__ = ["DiscordAdapter"]
