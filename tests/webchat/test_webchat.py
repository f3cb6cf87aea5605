"""A third platform through the core's boundary only: the webchat plugin is registered in
this process, the real `run_platforms` serves it, and a person talks to it over HTTP."""

from __future__ import annotations

import ast
import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from leavewell.bot import registry
from leavewell.bot.settings import SettingsError, load_settings
from leavewell.storage import open_store
from tests.webchat.conftest import Person, RunningWebchat
from tests.webchat.plugin import PLUGIN

# Answers written for these tests: one negative phrase each, for the feedback to quote.
ANSWER_EN = (
    "The company closed our whole Berlin office after a bad year, so my job went with "
    "it. Honestly the last manager there was a nightmare, but I learned a lot: I rebuilt "
    "the billing reports in SQL and cut the month-end close from five days to two. I want "
    "to bring that to a team that ships every week."
)
FOLLOWUP_EN = ("I kept in touch with my old team lead, and I finished a course on data "
               "modelling while I looked.")
ANSWER_ZH = (
    "公司去年业务收缩，整个上海办公室都关了，我的岗位也没了。说实话老板很糟糕，但我在那里学到"
    "很多：我用 SQL 重做了账单报表，把月末结账从五天缩短到两天。"
)
FOLLOWUP_ZH = "找工作期间我一直和原来的组长保持联系，还学完了一门数据建模课程。"


def choice(message: dict[str, Any], label_part: str) -> str:
    for offered in message["choices"]:
        if label_part.lower() in offered["label"].lower():
            return str(offered["id"])
    raise AssertionError(f"no choice like {label_part!r} in {message['choices']}")


def with_choices(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in reversed(messages) if m["choices"])


async def begin(person: Person, situation: str) -> list[dict[str, Any]]:
    """/start, skip the role and the company, pick the situation: the main question."""
    said = await person.say("/start")
    for _ in range(2):
        said = await person.press(with_choices(said)["choices"][0]["id"])
    return await person.press(choice(with_choices(said), situation))


async def finish(person: Person, followup: str) -> dict[str, Any]:
    """Answer follow-ups until the feedback comes; returns it."""
    for _ in range(4):
        said = await person.say(followup)
        feedback = next((m for m in said if "/100" in m["text"]), None)
        if feedback is not None:
            return feedback
    raise AssertionError([m["text"][:80] for m in await person.inbox()])


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(sql).fetchall()


# -- whole interviews --------------------------------------------------------------------


async def test_whole_interview_in_english(bot: RunningWebchat,
                                          http: aiohttp.ClientSession) -> None:
    ann = Person(bot, http, "ann", "en")
    greeting = await ann.say("/start")
    assert "mock interviewer" in greeting[0]["text"]
    assert with_choices(greeting)["choices"][0]["label"] == "Skip"
    question = await begin(ann, "laid off")
    assert "why did you leave your last job?" in question[-1]["text"]
    followup = await ann.say(ANSWER_EN)
    assert followup[-1]["text"].startswith("Interviewer:")  # a follow-up question
    feedback = await finish(ann, FOLLOWUP_EN)
    text = feedback["text"]
    assert "What the interviewer hears" in text
    assert "“was a nightmare”" in text  # the answer's own words, quoted (PLAIN quotes)
    assert feedback["format"] == "plain" and feedback["lang"] == "en"
    # the last prompt offers what comes next, as choices (Capabilities(buttons=True))
    last = (await ann.inbox())[-1]
    assert choice(last, "Try the same")
    assert "1. " not in last["text"]  # buttons, not numbered lines to type
    assert rows(bot.database, "SELECT COUNT(*) FROM inbox") == [(0,)]


async def test_whole_interview_in_chinese(bot: RunningWebchat,
                                          http: aiohttp.ClientSession) -> None:
    li = Person(bot, http, "li", "zh")
    greeting = await li.say("/start")
    assert "模拟面试官" in greeting[0]["text"]
    question = await begin(li, "裁员")
    assert "为什么离开上一份工作" in question[-1]["text"]
    await li.say(ANSWER_ZH)
    feedback = await finish(li, FOLLOWUP_ZH)
    assert feedback["lang"] == "zh"
    assert "面试官听到了什么" in feedback["text"] and "“老板很糟糕”" in feedback["text"]


async def test_two_people_at_once_each_get_their_own_interview(
        bot: RunningWebchat, http: aiohttp.ClientSession) -> None:
    ann, li = Person(bot, http, "ann", "en"), Person(bot, http, "li", "zh")
    await asyncio.gather(begin(ann, "laid off"), begin(li, "裁员"))
    assert all(m["lang"] == "en" for m in await ann.inbox())
    assert all(m["lang"] == "zh" for m in await li.inbox())


async def test_messages_posted_without_waiting_are_handled_in_order(
        bot: RunningWebchat, http: aiohttp.ClientSession) -> None:
    ann = Person(bot, http, "ann", "en")
    for body in ({"text": "/start"}, {"choice": "1.skip"}, {"choice": "2.skip"},
                 {"choice": "3.quit"}):
        status, _ = await ann.post({"user": "ann", "id": ann.next_id(), "lang": "en", **body})
        assert status == 202
    await bot.settle()
    said = await ann.new()
    assert "stale" not in " ".join(m["text"] for m in said)
    assert said[-1]["text"].startswith("Interviewer:")


async def test_markdown_output_escapes_the_users_words(
        webchat_plugin: Any, tmp_path: Path, http: aiohttp.ClientSession) -> None:
    bot = RunningWebchat(tmp_path / "md.db", webchat_format="markdown")
    await bot.start()
    try:
        ann = Person(bot, http, "ann", "en")
        await ann.say("/practice laid_off")
        await ann.say("My boss was a *terrible* person_and_the pay was bad, so I left.")
        feedback = await finish(ann, FOLLOWUP_EN)
        assert feedback["format"] == "markdown"
        assert "**What the interviewer hears**" in feedback["text"]  # our own bold
        # the user's asterisks and underscores quoted back stay text, not formatting
        quoted = "*“My boss was a \\*terrible\\* person\\_and\\_the pay was bad"
        assert quoted in feedback["text"]
    finally:
        await bot.stop()



async def test_a_file_it_cannot_show_is_named_in_words(bot: RunningWebchat,
                                                     http: aiohttp.ClientSession) -> None:
    """Capabilities(files=False): the core still attaches the export (it does not read
    the capabilities), so the adapter says in the user's language what it cannot show."""
    li = Person(bot, http, "li", "zh")
    await li.say("/start")
    export = (await li.say("/export"))[-1]
    assert export["attachments"] == ["export"]
    assert "这个聊天无法显示文件" in export["text"]

# -- at least once in, once handled ------------------------------------------------------


async def test_a_reposted_message_id_is_handled_once(bot: RunningWebchat,
                                                     http: aiohttp.ClientSession) -> None:
    ann = Person(bot, http, "ann", "en")
    await begin(ann, "laid off")
    turns = rows(bot.database, "SELECT COUNT(*) FROM turns")[0][0]
    body = {"user": "ann", "id": "answer-1", "text": ANSWER_EN}
    # twice at once (a client retrying a slow request), then once more later
    statuses = await asyncio.gather(ann.post(body), ann.post(body))
    assert [s for s, _ in statuses] == [202, 202]
    await bot.settle()
    assert (await ann.post(body))[0] == 202
    await bot.settle()
    said = await ann.new()
    assert len(said) == 1 and said[0]["text"].startswith("Interviewer:"), said
    assert rows(bot.database, "SELECT COUNT(*) FROM turns") == [(turns + 1,)]
    # the same id from someone else is their own message
    other = Person(bot, http, "bob", "en")
    assert len(await other.send("answer-1", text="/start")) >= 1


async def test_a_restart_keeps_the_conversation_going(bot: RunningWebchat,
                                                      http: aiohttp.ClientSession) -> None:
    ann = Person(bot, http, "ann", "en")
    await begin(ann, "laid off")
    await ann.send("answer-1", text=ANSWER_EN)
    await bot.restart()
    assert await ann.inbox() == []  # sent messages live in the adapter's memory only
    ann.seen = 0
    # re-posting what was handled before the restart changes nothing (stored dedupe)
    assert await ann.send("answer-1", text=ANSWER_EN) == []
    feedback = await finish(ann, FOLLOWUP_EN)
    assert "“was a nightmare”" in feedback["text"]  # the answer from before the restart


async def test_a_message_kept_before_a_crash_is_replayed_at_start(
        webchat_plugin: Any, tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """In the inbox but never processed (the process died after the 202): handled first
    thing at the next start, through the adapter's own order_key and interpret."""
    database = tmp_path / "crash.db"
    store = await open_store(f"sqlite:///{database}")
    await store.inbox_put([("webchat:ann:m-crash", {"user": "ann", "id": "m-crash",
                                                   "text": "/start", "at": 1.0,
                                                   "lang": "zh"})])
    await store.close()
    bot = RunningWebchat(database)
    await bot.start()
    try:
        await bot.settle()
        said = await Person(bot, http, "ann").inbox()
        assert "模拟面试官" in said[0]["text"]
        assert rows(database, "SELECT COUNT(*) FROM inbox") == [(0,)]
    finally:
        await bot.stop()


# -- bad input ---------------------------------------------------------------------------


async def test_bad_input_is_refused_clearly_and_loses_nothing(
        bot: RunningWebchat, http: aiohttp.ClientSession) -> None:
    ann = Person(bot, http, "ann", "en")
    said = await ann.say("/start")
    said = await ann.press(with_choices(said)["choices"][0]["id"])
    situations = with_choices(await ann.press(with_choices(said)["choices"][0]["id"]))

    status, answer = await ann.post(raw=b'{"user": "ann", "text": ', headers={
        "Content-Type": "application/json"})
    assert status == 400 and answer["error"] == "bad_json"
    assert "JSON object" in answer["message"]
    status, answer = await ann.post(raw=b"\xff\xfe not json", headers={
        "Accept-Language": "zh-CN,zh;q=0.9"})
    assert status == 400 and "JSON 对象" in answer["message"]
    refused = [
        ({"id": "x1", "text": "hi"}, "bad_user"),
        ({"user": "ann/../bob", "id": "x1", "text": "hi"}, "bad_user"),
        ({"user": "ann", "text": "hi"}, "bad_id"),
        ({"user": "ann", "id": "x1", "text": "hi", "choice": "3.quit"}, "text_or_choice"),
        ({"user": "ann", "id": "x1", "choice": 3}, "text_or_choice"),
        ({"user": "ann", "id": "x1"}, "text_or_choice"),
        ({"user": "ann", "id": "x1", "text": "x" * 4001}, "too_long"),
        ({"user": "ann", "id": "x1", "text": "hi", "lang": "fr"}, "bad_lang"),
        (["not", "an", "object"], "bad_json"),
    ]
    for body, error in refused:
        status, answer = await ann.post(body)
        assert (status, answer["error"]) == (400, error), body
        assert answer["message"]
    status, answer = await ann.post({"user": "ann", "id": "x1", "text": "x" * 4001,
                                     "lang": "zh"})
    assert "4000" in answer["message"] and "最多" in answer["message"]
    async with http.get(f"{bot.url}/inbox/no%20such") as response:
        assert response.status == 400
    await bot.settle()
    assert await ann.new() == []  # nothing refused reached the interview

    # A choice the interview never offered: a clear reply, and the question again.
    said = await ann.press("3.astronaut")
    assert said[0]["text"].startswith("That button belongs to an earlier question")
    again = with_choices(said)
    assert [c["label"] for c in again["choices"]] == [c["label"] for c in situations["choices"]]
    # Nothing was lost: the interview goes on to the end from where it was.
    await ann.press(choice(again, "laid off"))
    await ann.say(ANSWER_EN)
    feedback = await finish(ann, FOLLOWUP_EN)
    assert "“was a nightmare”" in feedback["text"]
    assert rows(bot.database, "SELECT COUNT(*) FROM inbox") == [(0,)]


# -- the plugin and its settings ---------------------------------------------------------


def test_webchat_is_enabled_only_when_its_address_is_set(
        webchat_plugin: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.delenv("WEBCHAT_LISTEN", raising=False)
    assert "webchat" not in load_settings({"database_url": database}).enabled_platforms()
    monkeypatch.setenv("WEBCHAT_LISTEN", "127.0.0.1:0")
    monkeypatch.setenv("WEBCHAT_FORMAT", "Markdown")
    settings = load_settings({"database_url": database})
    assert "webchat" in settings.enabled_platforms()
    assert settings.platform("webchat").format == "markdown"  # type: ignore[union-attr]
    monkeypatch.setenv("WEBCHAT_LISTEN", "")  # blank: not set
    assert "webchat" not in load_settings({"database_url": database}).enabled_platforms()


def test_webchat_settings_are_checked_at_load(webchat_plugin: Any) -> None:
    with pytest.raises(SettingsError, match=r"listen: .*host:port"):
        load_settings({"webchat_listen": "nowhere"})
    with pytest.raises(SettingsError, match="format"):
        load_settings({"webchat_listen": "127.0.0.1:0", "webchat_format": "html"})


def test_the_plugin_is_gone_once_unregistered() -> None:
    registry.register(PLUGIN)
    assert registry.plugins()["webchat"] is PLUGIN
    registry.unregister("webchat")
    assert "webchat" not in registry.plugins()
    assert load_settings({"webchat_listen": "127.0.0.1:0"}).platform("webchat") is None


def test_the_package_imports_no_storage_and_no_other_platform() -> None:
    """Only the contract: what the core offers through AdapterContext, never the store
    (the test above may open it; the adapter may not) nor another platform's code."""
    forbidden = ("leavewell.storage", "leavewell.bot.core", "leavewell.bot.telegram",
                 "leavewell.bot.discord", "telegram", "discord")
    for path in Path(__file__).parent.glob("*.py"):
        if path.name.startswith(("test_", "conftest")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
