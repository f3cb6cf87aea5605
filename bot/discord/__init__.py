"""The Discord adapter (discord.py 2): slash commands, persistent buttons, private
practice. `plugin` is imported without the SDK; the rest needs the `discord` extra."""
