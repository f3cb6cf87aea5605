"""End to end on Discord: "Why was this flagged?" and "I disagree" through the real
discord.py client, our core and SQLite, against the fake Discord server.

Each step waits for the very message it expects (not for a quiet moment), so a slow
machine cannot make a reply look like the answer to the next step."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

from leavewell.dialogs.analyzer.messages import finding_field
from leavewell.dialogs.script import default_script
from tests.discord.conftest import Driver, RunningBot, button, member
from tests.support.fake_discord import FakeDiscord, StoredMessage

BITTER_EN = "My boss was a jerk and the pay was terrible, so I left."
EN = default_script().catalogs["en"]
Wanted = Callable[[StoredMessage], bool]


def labelled(label: str) -> Wanted:
    return lambda m: any(label in (i.get("label") or "") for i in m.items)


def starting(prefix: str) -> Wanted:
    return lambda m: m.content.startswith(prefix)


async def arrived(driver: Driver, since: int, wanted: Wanted) -> StoredMessage:
    """The first message after the first `since` that is `wanted`, once it is there."""
    found = await driver.dc.wait_for(
        lambda: next((m for m in driver.messages()[since:] if wanted(m)), None), 10,
        f"a reply for {driver.user.name}")
    assert isinstance(found, StoredMessage)
    return found


async def click(driver: Driver, message: StoredMessage, label: str,
                wanted: Wanted) -> StoredMessage:
    since = len(driver.messages())
    await driver.dc.wait_acked(await driver.dc.click(driver.user, message,
                                                     button(message, label)))
    return await arrived(driver, since, wanted)


async def slash(driver: Driver, name: str, options: dict[str, Any] | None,
                wanted: Wanted) -> StoredMessage:
    since = len(driver.messages())
    await driver.slash(name, options, channel_id=driver.channel)
    return await arrived(driver, since, wanted)


async def feedback_with_a_red_flag(driver: Driver, since: int) -> StoredMessage:
    """Answer bitterly, skip the follow-ups; the feedback's part with the Why button."""
    await driver.dc.message_create(driver.channel or 0, driver.user, BITTER_EN)
    why_button = labelled(EN.labels["why_open"])
    while True:
        found = await arrived(driver, since, lambda m: why_button(m) or labelled("Skip")(m))
        if why_button(found):
            return found
        since = driver.messages().index(found) + 1
        await click(driver, found, "Skip", lambda m: True)


async def test_why_and_i_disagree_with_persistent_buttons(dc: FakeDiscord,
                                                          bot: RunningBot) -> None:
    eve = Driver(dc, member(dc, 4101, "eve"))
    await eve.practice_on_server({"situation": "let_go"})  # in a private thread
    feedback = await feedback_with_a_red_flag(eve, len(eve.messages()))
    scored = next(m for m in eve.messages() if "/100" in m.content)
    assert "✗ 1. " + finding_field("trash_talk", "en", "message") in scored.content
    assert button(feedback, EN.labels["why_open"]) == "lw:why.1.list"

    # the buttons outlive a restart: discord.py's dynamic item, not a view in memory
    await bot.restart()
    first_point = "1. " + finding_field("trash_talk", "en", "name")
    listing = await click(eve, feedback, EN.labels["why_open"], labelled(first_point))
    assert listing.items[0]["label"] == first_point and len(listing.items) > 1
    explanation = await click(eve, listing, first_point, starting("**Point 1"))
    text = re.sub(r"\\(.)", r"\1", explanation.content)  # as shown: escapes hidden
    assert text.startswith("**Point 1: Negative about the old job**")
    assert "*“jerk”*" in text
    assert finding_field("trash_talk", "en", "infer") in text
    assert finding_field("trash_talk", "en", "tip") in text
    assert "My manager and I had different views" in text  # the phrase bank's wording

    # "I disagree", clicked twice at once
    disagree = button(explanation, "I disagree")
    assert disagree == "lw:why.1.1.no"
    since = len(eve.messages())
    clicks = await asyncio.gather(*(dc.click(eve.user, explanation, disagree)
                                    for _ in range(2)))
    for ix in clicks:
        await dc.wait_acked(ix)
    await arrived(eve, since, starting("Thanks, noted"))
    await arrived(eve, since, starting("You already disagreed with point 1."))

    # the record is in the user's history, once
    stored = await slash(eve, "export", None, lambda m: bool(m.data["attachments"]))
    attachment = stored.data["attachments"][0]
    exported: dict[str, Any] = json.loads(stored.files[int(attachment["id"])])
    (record,) = exported["user"]["disagreements"]
    assert {k: record[k] for k in ("number", "finding", "situation", "answer_lang",
                                   "ui_lang")} == {
        "number": 1, "finding": "trash_talk", "situation": "let_go", "answer_lang": "en",
        "ui_lang": "en"}
    assert "jerk" in record["evidence"]
    assert all(words in BITTER_EN and f"*“{words}”*" in text for words in record["evidence"])
    assert f"{EN.messages['why_signal_' + record['signal']]} (rule {record['rule']})" in text
    answers = [m.content for m in eve.messages()[since:]]
    assert sum(a.startswith("Thanks, noted") for a in answers) == 1
    assert dc.errors == [], dc.errors


async def test_why_slash_command_with_a_number(dc: FakeDiscord, bot: RunningBot) -> None:
    why = dc.commands[None]["why"]
    assert why["description_localizations"]["zh-CN"] == \
        default_script().catalogs["zh"].commands["why"]
    (option,) = why["options"]
    assert (option["name"], option["type"], option["max_value"]) == ("number", 4, 99)
    gus = Driver(dc, dc.user(4102, "gus", "en-US"))
    gus.channel = dc.dm_channel(gus.user)
    await slash(gus, "why", None, starting("There is no feedback to explain yet"))
    await slash(gus, "practice", {"situation": "let_go"}, starting("**Interviewer"))
    await feedback_with_a_red_flag(gus, len(gus.messages()))
    explanation = await slash(gus, "why", {"number": 2}, starting("**Point 2"))
    assert explanation.content.startswith("**Point 2\\: ")
    assert dc.errors == [], dc.errors
