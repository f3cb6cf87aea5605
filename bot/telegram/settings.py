"""The Telegram adapter's settings (TELEGRAM_* in the environment or the config file)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator

from leavewell.bot.settings import EnvSettings, blank_is_unset, host_port


def _env(name: str) -> Any:
    return AliasChoices(name, name.lower())


class TelegramSettings(EnvSettings):
    bot_token: SecretStr | None = Field(default=None,
                                        validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    # The Bot API's address (a local Bot API server, or a test's fake); default: Telegram's.
    api_base_url: str | None = Field(default=None,
                                     validation_alias=_env("TELEGRAM_API_BASE_URL"))
    api_file_url: str | None = Field(default=None,
                                     validation_alias=_env("TELEGRAM_API_FILE_URL"))
    # Set: updates come by webhook to this public URL (behind a reverse proxy) instead of
    # long polling, which lets several replicas share the work.
    webhook_url: str | None = Field(default=None, validation_alias=_env("TELEGRAM_WEBHOOK_URL"))
    webhook_listen: str = Field(default="127.0.0.1:8443",
                                validation_alias=_env("TELEGRAM_WEBHOOK_LISTEN"))
    webhook_secret: SecretStr | None = Field(default=None,
                                             validation_alias=_env("TELEGRAM_WEBHOOK_SECRET"))
    rate_limit: bool = Field(default=True, validation_alias=_env("TELEGRAM_RATE_LIMIT"))

    @field_validator("bot_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return blank_is_unset(value)

    @field_validator("webhook_listen")
    @classmethod
    def _host_port(cls, value: str) -> str | None:
        return host_port(value)

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> TelegramSettings:
        if self.webhook_url and not self.webhook_secret:
            # Without it anyone who finds the URL could post updates as any user.
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
        return self

    def secrets(self) -> list[str]:
        return [s.get_secret_value() for s in (self.bot_token, self.webhook_secret) if s]
