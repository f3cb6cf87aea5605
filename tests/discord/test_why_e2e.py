"""End to end on Discord: "Why was this flagged?" and "I disagree" through the real
discord.py client, our core and SQLite, against the fake Discord server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from dialogs.analyzer.messages import finding_field
from dialogs.script import default_script
from tests.discord.conftest import Driver, RunningBot, button, member
from tests.support.fake_discord import FakeDiscord, StoredMessage

BITTER_EN = "My boss was a jerk and the pay was terrible, so I left."
EN = default_script().catalogs["en"]


def with_button(driver: Driver, label: str) -> StoredMessage:
    return next(m for m in reversed(driver.messages())
                if any(label in (i.get("label") or "") for i in m.items))


async def test_why_and_i_disagree_with_persistent_buttons(dc: FakeDiscord,
                                                          bot: RunningBot) -> None:
    eve = Driver(dc, member(dc, 4101, "eve"))
    await eve.practice_on_server()
    await eve.press("")  # role: Skip
    await eve.press("")  # company: Skip
    await eve.press("let go")
    replies = await eve.say(BITTER_EN)
    while not any("/100" in m.content for m in replies):
        replies = await eve.press("skip")  # follow-ups
    scored = next(m for m in replies if "/100" in m.content)
    assert "✗ 1. " + finding_field("trash_talk", "en", "message") in scored.content
    feedback = with_button(eve, EN.labels["why_open"])  # the feedback's last part
    custom_id = button(feedback, EN.labels["why_open"])
    assert custom_id == "lw:why.1.list"

    # the buttons outlive a restart: discord.py's dynamic item, not a view in memory
    await bot.restart()
    (listing,) = await eve.press(EN.labels["why_open"], feedback)
    first_point = "1. " + finding_field("trash_talk", "en", "name")
    assert listing.items[0]["label"] == first_point and len(listing.items) > 1
    (explanation,) = await eve.press(first_point, listing)
    text = explanation.content.replace("\\:", ":")  # a colon is escaped (no :emoji:)
    assert text.startswith("**Point 1: Negative about the old job**")
    assert "*“jerk”*" in text and "*“terrible”*" in text
    assert finding_field("trash_talk", "en", "infer") in text
    assert EN.messages["why_signal_rule"] in text
    assert finding_field("trash_talk", "en", "tip") in text
    assert "My manager and I had different views" in text  # the phrase bank's wording

    # "I disagree", clicked twice at once
    disagree = button(explanation, "I disagree")
    assert disagree == "lw:why.1.1.no"
    before = len(eve.messages())
    clicks = await asyncio.gather(*(dc.click(eve.user, explanation, disagree)
                                    for _ in range(2)))
    for ix in clicks:
        await dc.wait_acked(ix)
    replies = await eve.settle(before)
    assert [m.content.split(":")[0] for m in replies] == [
        "Thanks, noted", "You already disagreed with point 1. It is noted once, and that is "
        "enough."]

    # the record is in the user's history, once
    replies = await eve.command("export")
    stored = next(m for m in replies if m.data["attachments"])
    attachment = stored.data["attachments"][0]
    exported: dict[str, Any] = json.loads(stored.files[int(attachment["id"])])
    (record,) = exported["user"]["disagreements"]
    assert {k: record[k] for k in ("number", "finding", "signal", "evidence", "situation",
                                   "answer_lang", "ui_lang")} == {
        "number": 1, "finding": "trash_talk", "signal": "rule",
        "evidence": ["jerk", "terrible"], "situation": "let_go", "answer_lang": "en",
        "ui_lang": "en"}
    assert dc.errors == [], dc.errors


async def test_why_slash_command_with_a_number(dc: FakeDiscord, bot: RunningBot) -> None:
    why = dc.commands[None]["why"]
    assert why["description_localizations"]["zh-CN"] == \
        default_script().catalogs["zh"].commands["why"]
    (option,) = why["options"]
    assert (option["name"], option["type"], option["max_value"]) == ("number", 4, 99)
    gus = Driver(dc, dc.user(4102, "gus", "en-US"))
    gus.channel = dc.dm_channel(gus.user)
    (none_yet,) = await gus.command("why")
    assert none_yet.content.startswith("There is no feedback to explain yet")
    await gus.command("practice", {"situation": "let_go"})
    replies = await gus.say(BITTER_EN)
    while not any("/100" in m.content for m in replies):
        replies = await gus.press("skip")
    (explanation,) = await gus.command("why", {"number": 2})
    assert explanation.content.startswith("**Point 2\\: ")
    assert dc.errors == [], dc.errors
