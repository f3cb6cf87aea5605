"""Logging set-up that can never print a token, whoever logs it (us, httpx, PTB ...).

Two formats (LEAVEWELL_LOG_FORMAT): `text`, one readable line per record, and `json`,
one JSON object per line for a log collector: `time` (ISO-8601, UTC), `level`,
`logger`, `message`, `exception` and `stack` when present, and every field passed with
`extra={...}`. Both go through the same redaction: every string is redacted before it
is encoded (so escaping cannot hide a secret from it), and the finished line once more.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The attributes every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}
_OWN_KEYS = ("time", "level", "logger", "message", "exception", "stack")
# Characters json.dumps leaves raw that some tools read as line breaks.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record: message, arguments and any traceback."""

    def __init__(self, fmt: str, redact: Redactor) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, redacted like the text format."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            # cached on the record like logging.Formatter does, for other handlers
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[f"extra_{key}" if key in _OWN_KEYS else key] = value
        line = json.dumps(self._plain(entry), ensure_ascii=False)
        for char, escaped in _LINE_BREAKS.items():
            line = line.replace(char, escaped)
        return self.redact(line)

    def _plain(self, value: Any, depth: int = 0) -> Any:
        """JSON-ready, every string redacted; anything else becomes its str()."""
        if isinstance(value, str):
            return self.redact(value)
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)
        if depth < 8 and isinstance(value, dict):
            return {self.redact(str(k)): self._plain(v, depth + 1) for k, v in value.items()}
        if depth < 8 and isinstance(value, list | tuple | set | frozenset):
            return [self._plain(v, depth + 1) for v in value]
        try:
            text = str(value)
        except Exception as exc:  # a broken __str__ must not lose the log line
            text = f"<unprintable {type(value).__name__}: {type(exc).__name__}>"
        return self.redact(text)


def make_formatter(log_format: str, redact: Redactor) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(redact)
    if log_format == "text":
        return RedactingFormatter(TEXT_FORMAT, redact)
    raise ValueError(f"log format must be one of {LOG_FORMATS}, got {log_format!r}")


def configure_logging(level: str, secrets: Iterable[str] = (), log_format: str = "text",
                      stream: Any = None) -> Redactor:
    """Send every log record to standard error (or `stream`), one line each."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(make_formatter(log_format, redact))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return redact
