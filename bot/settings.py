"""Settings from the environment, optionally from a TOML file named by LEAVEWELL_CONFIG.

The environment wins over the file. The core's settings are here; each
platform adapter declares its own (bot/<platform>/settings.py), read the same way. Tokens
are SecretStr: they never appear in reprs, errors or logs.
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
    PrivateAttr,
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

from leavewell.bot import registry
from leavewell.storage.factory import check_url

APP_NAME = "leavewell"


def default_database_url() -> str:
    return f"sqlite:///{Path(user_data_dir(APP_NAME)) / 'leavewell.db'}"


def _env(name: str, key: str) -> Any:
    return Field(validation_alias=AliasChoices(name, key))


class SettingsError(ValueError):
    """Settings are invalid; the message says which one and why, never a secret."""


def host_port(value: str | None) -> str | None:
    """A listening address setting: host:port."""
    if value is None:
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdecimal() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port, e.g. 127.0.0.1:8443")
    return value


def blank_is_unset(value: Any) -> Any:
    """An empty variable (TOKEN= in an env file) means the setting is not given."""
    return None if isinstance(value, str) and not value.strip() else value


class EnvSettings(BaseSettings):
    """Settings read from the environment, then from the TOML file LEAVEWELL_CONFIG
    names. The core's settings and every adapter's own settings are read this way."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

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


class Settings(EnvSettings):
    """The core's settings; each platform adapter reads its own (`platform(name)`)."""

    _platforms: dict[str, BaseSettings] = PrivateAttr(default_factory=dict)

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
    # PostgreSQL connections per process holding Store.lock keys (one per task holding any).
    database_lock_pool_max: int = Field(
        default=10, ge=1, le=1000,
        validation_alias=AliasChoices("LEAVEWELL_DATABASE_LOCK_POOL_MAX",
                                      "database_lock_pool_max"),
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
    # Replicas on PostgreSQL: how long a claimed reply, timeout or round deadline stays
    # with the replica that claimed it; one that dies is taken over after this.
    claim_lease_seconds: float = Field(
        default=30.0, gt=0, le=3600,
        validation_alias=AliasChoices("LEAVEWELL_CLAIM_LEASE_SECONDS", "claim_lease_seconds"),
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
    # text: readable lines; json: one JSON object per line (bot/logs.py), for collectors.
    log_format: str = Field(
        default="text", pattern=r"^(text|json)$",
        validation_alias=AliasChoices("LEAVEWELL_LOG_FORMAT", "log_format"),
    )

    @field_validator("database_url")
    @classmethod
    def _a_url_the_factory_takes(cls, value: str) -> str:
        return check_url(value)  # the factory's own check: one rule, one message

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

    @field_validator("ops_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        return host_port(value)

    @model_validator(mode="after")
    def _pool_bounds_in_order(self) -> Settings:
        if self.database_pool_min > self.database_pool_max:
            raise ValueError(
                "LEAVEWELL_DATABASE_POOL_MIN must not exceed LEAVEWELL_DATABASE_POOL_MAX")
        return self

    def platform(self, name: str) -> BaseSettings | None:
        """The settings of the adapter plugin `name`, read with these."""
        return self._platforms.get(name)

    def enabled_platforms(self) -> list[str]:
        """The adapters whose settings ask for them (their token is set)."""
        plugins = registry.plugins()
        return [name for name, values in self._platforms.items()
                if name in plugins and plugins[name].enabled(values)]

    def secrets(self) -> list[str]:
        plugins = registry.plugins()
        return [secret for name, values in self._platforms.items() if name in plugins
                for secret in plugins[name].secrets(values) if secret]


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    config = os.environ.get("LEAVEWELL_CONFIG")
    if config and not Path(config).is_file():
        raise SettingsError(f"LEAVEWELL_CONFIG: no such file: {config}")
    values = dict(overrides or {})
    try:
        settings = Settings(**values)
        # Every adapter picks its own keys out of the same overrides and environment.
        for name, plugin in registry.plugins().items():
            settings._platforms[name] = plugin.settings(**values)
        return settings
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "settings"
            problems.append(f"{field}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
    except Exception as exc:  # a malformed TOML file
        raise SettingsError(f"invalid settings file {config}: {exc}") from None
