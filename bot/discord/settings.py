"""The Discord adapter's settings (DISCORD_* in the environment or the config file)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import NoDecode

from leavewell.bot.settings import EnvSettings, blank_is_unset


def _env(name: str) -> Any:
    return AliasChoices(name, name.lower())


def _problem(text: str) -> PydanticCustomError:
    return PydanticCustomError("shards", text)


def _shard_ids(value: Any) -> Any:
    """"0,1" (or "0 1", a TOML list, one number) to a tuple of ints; blank is unset."""
    value = blank_is_unset(value)
    if value is None:
        return None
    if isinstance(value, int):
        return (value,)
    parts = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    try:
        return tuple(int(str(p).strip()) for p in parts)
    except ValueError:
        raise _problem(f"must be shard numbers like 0,1; got {value!r}") from None


class DiscordSettings(EnvSettings):
    bot_token: SecretStr | None = Field(default=None, validation_alias=_env("DISCORD_BOT_TOKEN"))
    # The REST API's and the gateway's addresses (a test's fake); default: Discord's.
    api_base_url: str | None = Field(default=None,
                                     validation_alias=_env("DISCORD_API_BASE_URL"))
    gateway_url: str | None = Field(default=None, validation_alias=_env("DISCORD_GATEWAY_URL"))
    # Set: slash commands are synced to this server only (they appear at once there).
    guild_id: int | None = Field(default=None, gt=0, validation_alias=_env("DISCORD_GUILD_ID"))
    # Members with this role may run mentor rounds (besides Manage Server).
    mentor_role_id: int | None = Field(default=None, gt=0,
                                       validation_alias=_env("DISCORD_MENTOR_ROLE_ID"))
    # Sharding (discord.py's AutoShardedClient): the bot's shards in all, and the ones this
    # replica runs (default: all of them). Unset: one unsharded connection, as before.
    shard_count: int | None = Field(default=None, ge=1,
                                    validation_alias=_env("DISCORD_SHARD_COUNT"))
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = Field(
        default=None, validation_alias=_env("DISCORD_SHARD_IDS"))

    @field_validator("bot_token", "guild_id", "mentor_role_id", "shard_count", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return blank_is_unset(value)

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: Any) -> Any:
        return _shard_ids(value)

    @field_validator("shard_ids")
    @classmethod
    def _shards_fit(cls, ids: tuple[int, ...] | None,
                    info: ValidationInfo) -> tuple[int, ...] | None:
        if ids is None:
            return None
        count = info.data.get("shard_count")
        if count is None:
            raise _problem("needs DISCORD_SHARD_COUNT too (the bot's shards in all)")
        if not ids:
            raise _problem("is empty: name this replica's shards, e.g. 0,1")
        outside = [i for i in ids if not 0 <= i < count]
        if outside:
            raise _problem(f"{', '.join(map(str, outside))} outside 0..{count - 1} "
                           f"(DISCORD_SHARD_COUNT={count})")
        if len(set(ids)) != len(ids):
            raise _problem(f"names a shard twice ({','.join(map(str, ids))})")
        return ids

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    def my_shards(self) -> tuple[int, ...]:
        """The shards this replica runs (every one when DISCORD_SHARD_IDS is unset)."""
        if self.shard_count is None:
            return (0,)
        return self.shard_ids if self.shard_ids is not None else tuple(range(self.shard_count))

    def secrets(self) -> list[str]:
        return [self.bot_token.get_secret_value()] if self.bot_token else []
