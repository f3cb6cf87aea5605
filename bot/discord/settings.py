"""The Discord adapter's settings (DISCORD_* in the environment or the config file)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator

from leavewell.bot.settings import EnvSettings, blank_is_unset


def _env(name: str) -> Any:
    return AliasChoices(name, name.lower())


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

    @field_validator("bot_token", "guild_id", "mentor_role_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return blank_is_unset(value)

    def secrets(self) -> list[str]:
        return [self.bot_token.get_secret_value()] if self.bot_token else []
