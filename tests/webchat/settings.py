"""The webchat adapter's settings (WEBCHAT_* in the environment or the config file)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, field_validator

from leavewell.bot.settings import EnvSettings, blank_is_unset
from leavewell.dialogs.render import MARKDOWN, PLAIN


def _env(name: str) -> Any:
    return AliasChoices(name, name.lower())


class WebchatSettings(EnvSettings):
    # host:port to serve on; port 0 takes any free port. Unset: no webchat.
    listen: str | None = Field(default=None, validation_alias=_env("WEBCHAT_LISTEN"))
    # How messages are written for the client to show: plain text or markdown.
    format: str = Field(default=PLAIN, validation_alias=_env("WEBCHAT_FORMAT"))

    @field_validator("listen", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return blank_is_unset(value)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        # Not the core's host_port(): that one refuses port 0, which a loopback wants.
        if value is None:
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError("must be host:port, e.g. 127.0.0.1:8080 (port 0: any free one)")
        return value

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        value = value.lower()
        if value not in (PLAIN, MARKDOWN):
            raise ValueError(f"must be {PLAIN!r} or {MARKDOWN!r}")
        return value
