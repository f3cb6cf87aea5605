"""A loopback "webchat" platform, added without touching the core: the proof that the
adapter contract (leavewell.bot.plugin) is enough for a third platform."""
