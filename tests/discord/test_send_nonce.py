"""A reply resent after its answer was lost shows once: each message of an outbox row
carries a nonce Discord enforces (the fake does too)."""

from __future__ import annotations

import time

from leavewell.bot.discord.send import DiscordSender, nonce_of
from leavewell.dialogs.outgoing import Outgoing
from leavewell.storage.base import OutboxItem
from tests.discord.conftest import RunningBot
from tests.support.fake_discord import FakeDiscord


def row(row_id: int, chat_id: int, key: str = "choice_made") -> OutboxItem:
    payload = Outgoing(key, "en", {"label": "Skip"}).to_dict()
    return OutboxItem(row_id, f"discord:{chat_id}", "discord",
                      {"platform": "discord", "chat_id": str(chat_id)}, payload, time.time())


async def test_a_row_sent_twice_is_one_message(dc: FakeDiscord, bot: RunningBot) -> None:
    await dc.wait_for(lambda: bot.adapters, 10, "the adapter")
    adapter = bot.adapters[0]
    sender = DiscordSender(adapter.client, adapter.renderer, adapter.core.export_user)
    chat = dc.dm_channel(dc.user(4400, "nia"))
    first, second = row(41, chat), row(42, chat)
    await sender.send(first)
    await sender.send(first)  # again, as after a crash before it was marked sent
    await sender.send(second)
    assert len(dc.sent_messages(chat)) == 2
    sent = dc.requests_to("POST", rf"/channels/{chat}/messages")
    assert [r.json["nonce"] for r in sent] == [nonce_of(first, "1")] * 2 + [
        nonce_of(second, "1")]
    assert all(r.json["enforce_nonce"] is True for r in sent)


def test_nonces_fit_discords_limit_and_tell_rows_and_parts_apart() -> None:
    rows = [row(1, 5), row(10**18, 5), row(2**63 - 1, 5)]
    nonces = {nonce_of(r, part) for r in rows for part in ("1", "2", "f0", "f10")}
    assert len(nonces) == 12 and all(len(n) <= 25 for n in nonces)
