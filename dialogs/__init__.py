"""The interview as pure code and data: no I/O, no asyncio, no platform types."""
