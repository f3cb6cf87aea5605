"""Log lines: text for people, JSON for collectors (LEAVEWELL_LOG_FORMAT), and a token
never shows in either, whether it sits in the message, its arguments, a traceback or an
extra field."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from leavewell.bot.logs import JsonFormatter, Redactor, configure_logging, make_formatter
from leavewell.bot.settings import SettingsError, load_settings

TOKEN = "123456:AAE-the-bot-token_XYZ"
SECRET = 'odd"secret\\with\u00e9scapes'  # characters JSON escapes: redacted before encoding


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor([TOKEN, SECRET])))
    logger = logging.getLogger("leavewell.test_logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.handlers.clear()
    logger.propagate = True


def records(stream: io.StringIO) -> list[dict[str, object]]:
    lines = stream.getvalue().split("\n")
    assert lines[-1] == ""  # every record ends its line
    return [json.loads(line) for line in lines[:-1]]


def test_each_record_is_one_json_object_with_time_level_logger_and_message(capture) -> None:
    logger, stream = capture
    logger.warning("outbox row %d kept", 7)
    (entry,) = records(stream)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "leavewell.test_logs"
    assert entry["message"] == "outbox row 7 kept"
    assert str(entry["time"]).endswith("Z")
    moment = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
    assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60
    assert "exception" not in entry


def test_extra_fields_are_kept_as_fields_and_never_replace_ours(capture) -> None:
    logger, stream = capture
    logger.info("step", extra={"conversation": "telegram:1:1", "took_ms": 1.5, "ok": True,
                               "level": "shadowed", "ids": (1, 2), "nan": float("nan"),
                               "obj": object()})
    (entry,) = records(stream)
    assert entry["conversation"] == "telegram:1:1"
    assert entry["took_ms"] == 1.5 and entry["ok"] is True and entry["ids"] == [1, 2]
    assert entry["level"] == "INFO" and entry["extra_level"] == "shadowed"
    assert entry["nan"] == "nan"
    assert str(entry["obj"]).startswith("<object object")


def test_a_traceback_is_one_field_of_the_same_line(capture) -> None:
    logger, stream = capture
    try:
        raise RuntimeError("first line\nsecond line\u2028third")
    except RuntimeError:
        logger.exception("handling failed")
    text = stream.getvalue()
    assert text.count("\n") == 1 and "\u2028" not in text
    (entry,) = records(stream)
    assert entry["message"] == "handling failed"
    assert str(entry["exception"]).startswith("Traceback (most recent call last)")
    assert "RuntimeError: first line\nsecond line\u2028third" in str(entry["exception"])


@pytest.mark.parametrize("secret", [TOKEN, SECRET])
def test_a_secret_is_redacted_in_message_args_traceback_and_extra(capture, secret) -> None:
    logger, stream = capture
    logger.error(f"POST https://api.telegram.org/bot{secret}/getMe failed")
    logger.error("calling %s with %r", f"/bot{secret}/sendMessage", {"token": secret})
    try:
        raise ConnectionError(f"cannot reach /bot{secret}/getUpdates")
    except ConnectionError:
        logger.exception("polling failed")
    logger.warning("request", extra={"url": f"/bot{secret}/x", "nested": {"t": [secret]},
                                     secret: "as a key"})
    text = stream.getvalue()
    assert secret not in text
    for piece in (json.dumps(secret), json.dumps(secret, ensure_ascii=False)):
        assert piece[1:-1] not in text  # nor in its escaped spelling
    entries = records(stream)
    assert len(entries) == 4
    assert "/bot***/getMe" in str(entries[0]["message"])
    assert "/bot***/sendMessage" in str(entries[1]["message"])
    assert "/bot***/getUpdates" in str(entries[2]["exception"])
    assert entries[3]["url"] == "/bot***/x" and entries[3]["nested"] == {"t": ["***"]}
    assert entries[3]["***"] == "as a key"


def test_the_text_format_still_redacts_everything() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter("text", Redactor([TOKEN])))
    logger = logging.getLogger("leavewell.test_logs.text")
    logger.handlers[:] = [handler]
    logger.propagate = False
    try:
        try:
            raise ValueError(TOKEN)
        except ValueError:
            logger.error("token %s", TOKEN, exc_info=True)
    finally:
        logger.handlers.clear()
        logger.propagate = True
    text = stream.getvalue()
    assert TOKEN not in text and " ERROR leavewell.test_logs.text: token ***" in text
    assert not text.lstrip().startswith("{")


def test_configure_logging_puts_the_format_on_the_root_logger() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        configure_logging("INFO", [TOKEN], "json", stream=stream)
        logging.getLogger("leavewell.anything").info("token=%s", TOKEN)
        logging.getLogger("httpx").debug("below the level: not written")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    (entry,) = records(stream)
    assert entry["message"] == "token=***" and entry["logger"] == "leavewell.anything"
    with pytest.raises(ValueError, match="log format"):
        make_formatter("xml", Redactor([]))


def test_the_setting_defaults_to_text_and_accepts_only_text_or_json(monkeypatch) -> None:
    monkeypatch.delenv("LEAVEWELL_CONFIG", raising=False)
    monkeypatch.delenv("LEAVEWELL_LOG_FORMAT", raising=False)
    assert load_settings().log_format == "text"
    monkeypatch.setenv("LEAVEWELL_LOG_FORMAT", "json")
    assert load_settings().log_format == "json"
    monkeypatch.setenv("LEAVEWELL_LOG_FORMAT", "yaml")
    with pytest.raises(SettingsError, match="LEAVEWELL_LOG_FORMAT"):
        load_settings()
