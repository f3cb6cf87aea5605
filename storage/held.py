"""`Store.commit_held` for a single-process store (MemoryStore, SqliteStore).

No other process sends its rows, so there is nothing to hold: commit, then look whether
an older row of the step's conversation is still unsent. The look comes after the commit,
so it may see an older row that was unsent then and is sent by now (or one sent later):
it errs only towards `older_unsent=True`, which costs the caller a read, never the order.
"""

from __future__ import annotations

from leavewell.storage.base import HeldCommit, StepRecord, Store


def step_conversation_key(step: StepRecord) -> str | None:
    """The conversation a step's own outbox rows are addressed to."""
    if step.conversation_key is not None:
        return step.conversation_key
    return step.conversation.conversation_key if step.conversation is not None else None


async def commit_then_look(store: Store, step: StepRecord) -> HeldCommit | None:
    items = await store.commit(step)
    if items is None:
        return None
    key = step_conversation_key(step)
    if key is None:
        return HeldCommit(items, older_unsent=False)
    first_new = min((item.id for item in items), default=None)
    oldest = await store.pending_outbox(1, conversation_key=key)
    older = bool(oldest) and (first_new is None or oldest[0].id < first_new)
    return HeldCommit(items, older_unsent=older)
