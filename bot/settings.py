"""Settings from the environment, optionally from a TOML file named by LEAVEWELL_CONFIG.

The environment wins over the file. Tokens are SecretStr: they never appear in
reprs, errors or logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "leavewell"


def default_database_url() -> str:
    return f"sqlite:///{Path(user_data_dir(APP_NAME)) / 'leavewell.db'}"


def _env(name: str, key: str) -> Any:
    return Field(validation_alias=AliasChoices(name, key))


_DATABASE_SCHEMES = (
    "sqlite:///", "memory://", "postgresql://", "postgres://", "postgresql+asyncpg://")


class SettingsError(ValueError):
    """Settings are invalid; the message says which one and why, never a secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    database_url: str = Field(
        default_factory=default_database_url,
        validation_alias=AliasChoices("LEAVEWELL_DATABASE_URL", "database_url"),
    )
    # PostgreSQL's connection pool per process; a step holds one connection while it commits.
    database_pool_min: int = Field(
        default=1, ge=0,
        validation_alias=AliasChoices("LEAVEWELL_DATABASE_POOL_MIN", "database_pool_min"),
    )
    database_pool_max: int = Field(
        default=10, ge=1, le=1000,
        validation_alias=AliasChoices("LEAVEWELL_DATABASE_POOL_MAX", "database_pool_max"),
    )
    # host:port for /healthz, /readyz and /metrics; unset: no operations endpoint.
    ops_listen: str | None = Field(
        default=None, validation_alias=AliasChoices("LEAVEWELL_OPS_LISTEN", "ops_listen"),
    )
    idle_timeout_seconds: float = Field(
        default=1800.0, gt=0,
        validation_alias=AliasChoices("LEAVEWELL_IDLE_TIMEOUT", "idle_timeout_seconds"),
    )
    max_followups: int = Field(
        default=2, ge=1, le=3,
        validation_alias=AliasChoices("LEAVEWELL_MAX_FOLLOWUPS", "max_followups"),
    )
    default_lang: str = Field(
        default="en", validation_alias=AliasChoices("LEAVEWELL_LANG", "default_lang")
    )
    log_level: str = Field(
        default="WARNING", validation_alias=AliasChoices("LEAVEWELL_LOG_LEVEL", "log_level")
    )
    cache_size: int = Field(
        default=10_000, ge=0,
        validation_alias=AliasChoices("LEAVEWELL_CACHE_SIZE", "cache_size"),
    )
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token")
    )
    telegram_api_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL", "telegram_api_base_url"),
    )
    telegram_api_file_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_API_FILE_URL", "telegram_api_file_url"),
    )
    telegram_webhook_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_URL", "telegram_webhook_url"),
    )
    telegram_webhook_listen: str = Field(
        default="127.0.0.1:8443",
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_LISTEN", "telegram_webhook_listen"),
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_SECRET", "telegram_webhook_secret"),
    )
    telegram_rate_limit: bool = Field(
        default=True,
        validation_alias=AliasChoices("TELEGRAM_RATE_LIMIT", "telegram_rate_limit"),
    )
    voice_transcription: bool = Field(
        default=True,
        validation_alias=AliasChoices("LEAVEWELL_VOICE_TRANSCRIPTION", "voice_transcription"),
    )
    voice_model: str = Field(
        default="base", min_length=1,
        validation_alias=AliasChoices("LEAVEWELL_VOICE_MODEL", "voice_model"),
    )
    voice_device: str = Field(
        default="cpu", validation_alias=AliasChoices("LEAVEWELL_VOICE_DEVICE", "voice_device"),
    )
    discord_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_BOT_TOKEN", "discord_bot_token")
    )
    discord_api_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DISCORD_API_BASE_URL", "discord_api_base_url"),
    )
    discord_gateway_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DISCORD_GATEWAY_URL", "discord_gateway_url"),
    )
    discord_guild_id: int | None = Field(
        default=None, gt=0,
        validation_alias=AliasChoices("DISCORD_GUILD_ID", "discord_guild_id"),
    )
    discord_mentor_role_id: int | None = Field(
        default=None, gt=0,
        validation_alias=AliasChoices("DISCORD_MENTOR_ROLE_ID", "discord_mentor_role_id"),
    )
    # text: readable lines; json: one JSON object per line (bot/logs.py), for collectors.
    log_format: str = Field(
        default="text", pattern=r"^(text|json)$",
        validation_alias=AliasChoices("LEAVEWELL_LOG_FORMAT", "log_format"),
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(_DATABASE_SCHEMES):
            raise ValueError("must look like sqlite:///path/to/file.db or postgresql://host/db")
        return value

    @field_validator("default_lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        if value not in ("en", "zh"):
            raise ValueError("must be 'en' or 'zh'")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("telegram_webhook_listen", "ops_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. 127.0.0.1:8443")
        return value

    @field_validator("discord_guild_id", "discord_mentor_role_id", mode="before")
    @classmethod
    def _blank_id_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_bot_token", "discord_bot_token", "telegram_webhook_secret",
                     mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = os.environ.get("LEAVEWELL_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            # Without it anyone who finds the URL could post updates as any user.
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
        return self

    @model_validator(mode="after")
    def _pool_bounds_in_order(self) -> Settings:
        if self.database_pool_min > self.database_pool_max:
            raise ValueError(
                "LEAVEWELL_DATABASE_POOL_MIN must not exceed LEAVEWELL_DATABASE_POOL_MAX")
        return self

    def secrets(self) -> list[str]:
        tokens = (self.telegram_bot_token, self.discord_bot_token, self.telegram_webhook_secret)
        return [t.get_secret_value() for t in tokens if t is not None]


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    config = os.environ.get("LEAVEWELL_CONFIG")
    if config and not Path(config).is_file():
        raise SettingsError(f"LEAVEWELL_CONFIG: no such file: {config}")
    try:
        return Settings(**dict(overrides or {}))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "settings"
            problems.append(f"{field}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
    except Exception as exc:  # a malformed TOML file
        raise SettingsError(f"invalid settings file {config}: {exc}") from None
