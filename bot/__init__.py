"""The async core (ordering, timers, outbox) and the platform adapters."""
