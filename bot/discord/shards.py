"""Discord's sharding rule: which shard (gateway connection) carries whose events."""

from __future__ import annotations


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """A server's events go to shard (guild_id >> 22) % count; DMs to shard 0."""
    if guild_id is None or shard_count <= 1:
        return 0
    return (guild_id >> 22) % shard_count
