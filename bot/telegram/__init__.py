"""The Telegram adapter (python-telegram-bot 22): translate updates, render replies."""

import os

# PTB 22 returns durations as timedelta with this set, instead of ints plus a warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")
