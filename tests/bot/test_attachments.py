"""Attachment names -> files, and how each sender delivers them."""

from __future__ import annotations

import io
import json
import logging
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import leavewell.bot.discord.send as discord_send
import leavewell.bot.telegram.send as telegram_send
from leavewell.bot.attachments import EXPORT_NAME, PROGRESS_NAME, File, build_files
from leavewell.bot.console import ConsoleSender
from leavewell.dialogs.feedback import history_params
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import default_renderer
from leavewell.storage.base import OutboxItem

PNG = b"\x89PNG\r\n\x1a\n"
ATTEMPTS = [
    {"at": 1_700_000_000.0, "situation": "laid_off", "score": 50, "verdict": "acceptable",
     "red_flags": ["blame"], "improvements": ["no_results"], "top": "blame"},
    {"at": 1_700_090_000.0, "situation": "laid_off", "score": 75, "verdict": "strong",
     "red_flags": [], "improvements": ["no_results"], "top": "no_results"},
]


def item_for(outgoing: Outgoing, platform: str = "telegram",
             **address: str) -> OutboxItem:
    return OutboxItem(
        id=7, conversation_key=f"{platform}:42:42:", platform=platform,
        address={"platform": platform, "chat_id": "42", "user_id": "42", **address},
        payload=outgoing.to_dict(), created_at=0.0,
    )


class Exports:
    """The store's export_user, recording who was asked for."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.asked: list[str] = []
        self.fail = fail

    async def __call__(self, user_key: str) -> dict[str, Any]:
        self.asked.append(user_key)
        if self.fail is not None:
            raise self.fail
        return {"user_key": user_key, "turns": [{"text": "我想成长 <b>"}]}


def history_outgoing(lang: str = "en") -> Outgoing:
    return Outgoing("history", lang, history_params(ATTEMPTS), attachments=("progress_chart",))


async def build(outgoing: Outgoing, exports: Exports | None = None) -> list[File]:
    return await build_files(outgoing, item_for(outgoing), exports or Exports())


# -- the mapping ---------------------------------------------------------------------------


async def test_export_is_the_users_json_document() -> None:
    exports = Exports()
    files = await build(Outgoing("export_ready", "en", attachments=("export",)), exports)
    assert exports.asked == ["telegram:42"]
    (file,) = files
    assert (file.name, file.kind, file.caption_key) == (EXPORT_NAME, "document", None)
    assert json.loads(file.data)["turns"][0]["text"] == "我想成长 <b>"
    assert "我想成长".encode() in file.data  # readable, not \\u-escaped


async def test_progress_chart_is_a_png_photo_from_the_params() -> None:
    (file,) = await build(history_outgoing())
    assert (file.name, file.kind) == (PROGRESS_NAME, "photo")
    assert file.data.startswith(PNG)
    again = await build(history_outgoing("zh"))  # one picture for both languages
    assert again[0] == file


async def test_round_chart_is_named_after_its_round() -> None:
    params = {"round_id": "../r 1", "chart": {"members": [{"score": 60, "red_flags": 1}]}}
    (file,) = await build(Outgoing("round_report", "en", params, attachments=("round_chart",)))
    assert (file.name, file.kind) == ("round-r-1.png", "photo")
    assert file.data.startswith(PNG)


@pytest.fixture
def fake_report(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """A stand-in for dialogs.rounds.report (written elsewhere): these tests check the
    mapping from names to calls and files, not the report's contents."""
    import leavewell.dialogs.rounds

    calls: list[tuple[str, Any]] = []
    module = types.ModuleType("leavewell.dialogs.rounds.report")

    def export_csv(params: dict[str, Any]) -> str:
        calls.append(("csv", params))
        return "member,score\n#1,60\n"

    def export_markdown(params: dict[str, Any], lang: str) -> str:
        calls.append(("md", (params, lang)))
        return "# 第一轮\n"

    module.export_csv = export_csv  # type: ignore[attr-defined]
    module.export_markdown = export_markdown  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "leavewell.dialogs.rounds.report", module)
    monkeypatch.setattr(leavewell.dialogs.rounds, "report", module, raising=False)
    return calls


async def test_round_csv_comes_from_the_round_report(fake_report: list[tuple[str, Any]]) -> None:
    params = {"round_id": "abc123", "members": []}
    (file,) = await build(Outgoing("round_report", "en", params, attachments=("round_csv",)))
    assert fake_report == [("csv", params)]
    assert (file.name, file.kind, file.data) == (
        "round-abc123.csv", "document", b"member,score\n#1,60\n")


async def test_round_markdown_is_written_in_the_rows_language(
        fake_report: list[tuple[str, Any]]) -> None:
    params = {"round_id": "abc123"}
    (file,) = await build(Outgoing("round_report", "zh", params, attachments=("round_md",)))
    assert fake_report == [("md", (params, "zh"))]
    assert (file.name, file.kind) == ("round-abc123.md", "document")
    assert file.data.decode("utf-8") == "# 第一轮\n"


async def test_files_come_in_the_order_asked(fake_report: list[tuple[str, Any]]) -> None:
    params = {"round_id": "r9", "chart": {"members": []}}
    names = ("round_md", "round_chart", "round_csv", "export")
    files = await build(Outgoing("round_report", "en", params, attachments=names))
    assert [f.name for f in files] == ["round-r9.md", "round-r9.png", "round-r9.csv",
                                       EXPORT_NAME]


async def test_nothing_asked_nothing_built() -> None:
    assert await build(Outgoing("help", "en")) == []


@pytest.mark.parametrize("outgoing", [
    Outgoing("history", "en", {}, attachments=("selfie",)),
    Outgoing("history", "en", {}, attachments=("progress_chart",)),  # no chart
    Outgoing("history", "en", {"chart": {"series": [{"scores": [500]}]}},
             attachments=("progress_chart",)),
    Outgoing("round_report", "en", {"chart": None}, attachments=("round_chart",)),
], ids=["unknown name", "no chart", "bad chart", "null chart"])
async def test_what_cannot_be_built_is_a_value_error(outgoing: Outgoing) -> None:
    with pytest.raises(ValueError):
        await build(outgoing)


async def test_a_failing_report_is_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import leavewell.dialogs.rounds

    module = types.ModuleType("leavewell.dialogs.rounds.report")

    def export_csv(params: dict[str, Any]) -> str:
        return str(params["members"])  # KeyError: a bug that no retry can fix

    module.export_csv = export_csv  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "leavewell.dialogs.rounds.report", module)
    monkeypatch.setattr(leavewell.dialogs.rounds, "report", module, raising=False)
    with pytest.raises(ValueError, match="round_csv") as caught:
        await build(Outgoing("round_report", "en", {}, attachments=("round_csv",)))
    assert isinstance(caught.value.__cause__, KeyError)


async def test_a_store_outage_is_not_a_value_error() -> None:
    with pytest.raises(ConnectionError):  # passes through: the row is retried later
        await build(Outgoing("export_ready", "en", attachments=("export",)),
                    Exports(fail=ConnectionError("database away")))


# -- stored rows ---------------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "expected"), [
    ({"attachment": "export"}, ("export",)),
    ({"attachment": None}, ()),
    ({}, ()),
    ({"attachments": ["progress_chart"]}, ("progress_chart",)),
    ({"attachments": None}, ()),
])
def test_rows_stored_before_and_after_attachments_became_a_list(
        stored: dict[str, Any], expected: tuple[str, ...]) -> None:
    outgoing = Outgoing.from_dict({"template": "x", "lang": "en", **stored})
    assert outgoing.attachments == expected


def test_rows_are_stored_with_the_list() -> None:
    data = Outgoing("history", "en", attachments=("progress_chart",)).to_dict()
    assert data["attachments"] == ["progress_chart"] and "attachment" not in data
    assert json.loads(json.dumps(data)) == data
    assert Outgoing.from_dict(data).attachments == ("progress_chart",)


# -- the senders ---------------------------------------------------------------------------


class StubTelegramBot:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self.calls.append(("message", text, kwargs))

    async def send_photo(self, chat_id: int, photo: bytes, **kwargs: Any) -> None:
        self.calls.append(("photo", photo, kwargs))

    async def send_document(self, chat_id: int, document: bytes, **kwargs: Any) -> None:
        self.calls.append(("document", document, kwargs))


def telegram_sender(exports: Exports | None = None
                    ) -> tuple[telegram_send.TelegramSender, StubTelegramBot]:
    stub = StubTelegramBot()
    sender = telegram_send.TelegramSender(stub, default_renderer(),  # type: ignore[arg-type]
                                          exports or Exports())
    return sender, stub


async def test_telegram_sends_the_text_then_the_chart_as_a_photo() -> None:
    sender, stub = telegram_sender()
    outgoing = history_outgoing()
    await sender.send(item_for(outgoing, thread_id="5"))
    kinds = [kind for kind, _, _ in stub.calls]
    assert kinds == ["message", "photo"]
    _, photo, kwargs = stub.calls[1]
    assert photo.startswith(PNG)
    assert kwargs["filename"] == PROGRESS_NAME and kwargs["caption"] is None
    assert kwargs["message_thread_id"] == 5
    assert "+25" in stub.calls[0][1]


async def test_telegram_sends_documents_and_captions(monkeypatch: pytest.MonkeyPatch) -> None:
    async def files(*_: Any) -> list[File]:
        return [File("a.json", b"{}", "document", caption_key="export_ready")]

    monkeypatch.setattr(telegram_send, "files_to_send", files)
    sender, stub = telegram_sender()
    await sender.send(item_for(Outgoing("export_ready", "en", attachments=("export",))))
    kind, data, kwargs = stub.calls[-1]
    assert (kind, data, kwargs["filename"]) == ("document", b"{}", "a.json")
    assert kwargs["caption"] and len(kwargs["caption"]) <= telegram_send.CAPTION_LIMIT
    assert kwargs["parse_mode"] == "HTML"


async def test_a_file_that_cannot_be_made_does_not_hold_back_the_text(
        caplog: pytest.LogCaptureFixture) -> None:
    sender, stub = telegram_sender()
    broken = Outgoing("history", "en", history_params(ATTEMPTS), attachments=("selfie",))
    with caplog.at_level(logging.ERROR):
        await sender.send(item_for(broken))
    assert [kind for kind, _, _ in stub.calls] == ["message"]
    assert "attachments left out" in caplog.text


async def test_a_store_outage_sends_nothing_so_the_retry_duplicates_nothing() -> None:
    sender, stub = telegram_sender(Exports(fail=ConnectionError("database away")))
    with pytest.raises(ConnectionError):
        await sender.send(item_for(Outgoing("export_ready", "en", attachments=("export",))))
    assert stub.calls == []


class StubChannel:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        files = [(f.filename, f.fp.read()) for f in kwargs.pop("files", ())]
        self.sent.append({"content": content, "files": files, **kwargs})


class StubDiscordClient:
    def __init__(self) -> None:
        self.channel = StubChannel()

    def get_partial_messageable(self, channel_id: int) -> StubChannel:
        return self.channel


async def test_discord_sends_the_files_in_a_message_after_the_text() -> None:
    client = StubDiscordClient()
    sender = discord_send.DiscordSender(client, default_renderer(),  # type: ignore[arg-type]
                                        Exports())
    outgoing = Outgoing("history", "en", history_params(ATTEMPTS),
                        attachments=("progress_chart", "export"))
    await sender.send(item_for(outgoing, platform="discord"))
    text, files = client.channel.sent
    assert "since your first try" in text["content"] and not text.get("files")
    assert files["content"] is None
    assert [name for name, _ in files["files"]] == [PROGRESS_NAME, EXPORT_NAME]
    assert files["files"][0][1].startswith(PNG)
    assert json.loads(files["files"][1][1])["user_key"] == "discord:42"
    assert files["allowed_mentions"] == discord_send.NO_PINGS


async def test_console_writes_files_to_its_folder_and_prints_the_path(tmp_path: Path) -> None:
    class Store:
        export_user = Exports()

    class Core:
        store = Store()

    out = io.StringIO()
    sender = ConsoleSender(Core(), default_renderer(), out, tmp_path)  # type: ignore[arg-type]
    await sender.send(item_for(history_outgoing(), platform="console"))
    printed = out.getvalue()
    assert "since your first try" in printed
    (path,) = [Path(line) for line in printed.splitlines() if line.endswith(".png")]
    assert path.parent == tmp_path and path.name.startswith("leavewell-progress-")
    assert path.read_bytes().startswith(PNG)
