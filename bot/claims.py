"""Work several replicas share: what the core does differently on a shared store.

A store that implements `storage.base.WorkClaims` (PostgresStore) may be used by several
identical bot processes at once. The core then:

- sends only outbox rows it has claimed (under a lease), each conversation's under that
  conversation's lock, and never a row while an older row of the same conversation is
  held by someone else's lease (a replica that died mid-delivery: its rows are taken
  over once the lease runs out, then sent in order);
- fires only due timeouts and closes only due rounds it has claimed;
- trusts no in-process copy of a profile or conversation state: another replica may
  have handled the conversation's previous update.

Single-process stores (SQLite) declare none of this and keep the in-process shortcuts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from leavewell.storage.base import OutboxItem, WorkClaims

CLAIM_LEASE_SECONDS = 30.0  # how long a claim holds before another replica may take over


@runtime_checkable
class SharedStore(WorkClaims, Protocol):
    """A store several replicas share: the capability `storage.base.WorkClaims` declares."""


def claims_of(store: object) -> WorkClaims | None:
    """The store's claims when replicas may share it; None for a single-process store."""
    return store if isinstance(store, SharedStore) else None


async def claim_in_order(claims: WorkClaims, conversation_key: str, lease_seconds: float,
                         held: Sequence[OutboxItem] = ()) -> tuple[list[OutboxItem], bool]:
    """Claim a conversation's unsent rows; return the ones that may be sent now (oldest
    first) and whether some must wait for a lease (another claimer's, or this one's on
    rows that could not go yet). `held`: rows this claimer holds already (its commit
    inserted them claimed, `Store.commit_held`).

    A row unsent but not claimable is leased elsewhere: nothing newer goes before it (nor
    is claimed). Call with the conversation's lock held. One statement: a row committed
    meanwhile (a reply routed from another conversation) is either claimed here, or left
    to the replica that committed it, which sends it under this lock afterwards."""
    ready, blocked = await claims.claim_outbox_in_order(
        conversation_key, lease_seconds=lease_seconds, held=[item.id for item in held])
    return ready, blocked is not None
