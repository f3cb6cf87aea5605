"""End to end through the real discord.py client: mentions and links a user types come
back inert, and every message the bot sends, on every path (channel messages,
interaction callbacks, follow-up webhooks, edits), forbids pings (issue 14)."""

from __future__ import annotations

from typing import Any

from tests.dialogs.test_inert_words import GOOD_EN, discord_live, visible
from tests.discord.conftest import Driver, RunningBot, member
from tests.support.fake_discord import FakeDiscord

ROLE = "Analyst @evil_admin evil.com/login"
COMPANY = "discord.gg/EvilInvite"
ANSWER = ("My boss was a jerk, ask @everyone or @here or <@123>, see https://evil.com/x "
          "or t.me/joinchat/EvilInvite. " + GOOD_EN)


def content_and_mentions(path: str, body: Any) -> tuple[str | None, Any]:
    if not isinstance(body, dict):
        return None, None
    if "/interactions/" in path:  # a callback: {"type": 4|7, "data": {...}}
        body = body.get("data") or {}
    return body.get("content"), body.get("allowed_mentions")


async def test_typed_mentions_and_links_come_back_inert(dc: FakeDiscord,
                                                        bot: RunningBot) -> None:
    eve = Driver(dc, member(dc, 1401, "eve"))
    await eve.practice_on_server()
    await eve.say(ROLE)
    await eve.say(COMPANY)
    await eve.press("laid off")
    await eve.say(ANSWER)
    for _ in range(4):
        if any("/100" in m.content for m in eve.messages()):
            break
        await eve.say(f"I still meet my manager, see {COMPANY}.")
    messages = eve.messages()
    assert any("/100" in m.content for m in messages)
    seen = "\n".join(visible(m.content) for m in messages)
    for words in ("@evil_admin", "evil.com/login", COMPANY):
        assert words in seen  # echoed, readable
    for message in dc.sent_messages():
        assert discord_live(message.content) == [], message.content
        assert not dc.could_ping(message)
    sends = 0
    for request in dc.requests:
        if request.method not in ("POST", "PATCH"):
            continue
        content, mentions = content_and_mentions(request.path, request.json)
        if content:
            sends += 1
            assert mentions is not None and mentions.get("parse") == [], request
    assert sends >= 5
    paths = {request.path.split("/")[1] for request in dc.requests if request.json}
    assert {"channels", "webhooks", "interactions"} <= paths, paths
    assert dc.errors == []
