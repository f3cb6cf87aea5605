"""Per-guild settings (the channels /practice may run in), kept durably in the store as a
profile-like record under the key "discord-guild:<guild id>"."""

from __future__ import annotations

from leavewell.storage.base import StepRecord, Store, UserRecord


def guild_key(guild_id: int) -> str:
    return f"discord-guild:{guild_id}"


async def allowed_channels(store: Store, guild_id: int) -> list[int]:
    """Channel ids /practice is limited to; empty means every channel."""
    key = guild_key(guild_id)
    user, _ = await store.load(key, key)
    if user is None:
        return []
    return [int(c) for c in user.profile.get("allowed_channels") or []]


async def save_allowed_channels(store: Store, guild_id: int, channels: list[int],
                                at: float) -> None:
    profile = {"allowed_channels": [str(c) for c in sorted(set(channels))]}
    await store.commit(StepRecord(event_id=None, at=at, conversation=None,
                                  user=UserRecord(guild_key(guild_id), profile)))
