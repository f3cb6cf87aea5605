"""Logging set-up that can never print a token, whoever logs it (us, httpx, PTB ...)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable


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


def configure_logging(level: str, secrets: Iterable[str] = ()) -> Redactor:
    redact = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", redact)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return redact
