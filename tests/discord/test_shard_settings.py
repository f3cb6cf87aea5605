"""DISCORD_SHARD_COUNT / DISCORD_SHARD_IDS: checked with words, and what client they make."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from leavewell.bot.discord.adapter import ShardedLeavewellClient, make_client
from leavewell.bot.discord.settings import DiscordSettings
from leavewell.bot.discord.shards import shard_of
from leavewell.bot.settings import SettingsError, load_settings


def discord_settings(**values: Any) -> DiscordSettings:
    settings = load_settings({"discord_bot_token": "t", **values}).platform("discord")
    assert isinstance(settings, DiscordSettings)
    return settings


@pytest.mark.parametrize(("values", "count", "mine"), [
    ({}, None, (0,)),
    ({"discord_shard_count": "2"}, 2, (0, 1)),
    ({"discord_shard_count": "4", "discord_shard_ids": "1,3"}, 4, (1, 3)),
    ({"discord_shard_count": "4", "discord_shard_ids": " 2 3 "}, 4, (2, 3)),
    ({"discord_shard_count": 3, "discord_shard_ids": [2]}, 3, (2,)),  # a TOML list
    ({"discord_shard_count": "", "discord_shard_ids": ""}, None, (0,)),  # blank: unset
])
def test_good_values(values: dict[str, Any], count: int | None, mine: tuple[int, ...]
                     ) -> None:
    settings = discord_settings(**values)
    assert settings.shard_count == count and settings.my_shards() == mine


@pytest.mark.parametrize(("values", "words"), [
    ({"discord_shard_count": "2", "discord_shard_ids": "0,2"},
     "discord_shard_ids: 2 outside 0..1 (DISCORD_SHARD_COUNT=2)"),
    ({"discord_shard_count": "2", "discord_shard_ids": "-1"}, "-1 outside 0..1"),
    ({"discord_shard_ids": "1"}, "discord_shard_ids: needs DISCORD_SHARD_COUNT too"),
    ({"discord_shard_count": "0"}, "discord_shard_count: Input should be greater than or"),
    ({"discord_shard_count": "two"}, "discord_shard_count: Input should be a valid integer"),
    ({"discord_shard_count": "2", "discord_shard_ids": "a,b"},
     "discord_shard_ids: must be shard numbers like 0,1; got 'a,b'"),
    ({"discord_shard_count": "3", "discord_shard_ids": "1,1"}, "names a shard twice (1,1)"),
    ({"discord_shard_count": "3", "discord_shard_ids": " , "}, "is empty"),
])
def test_bad_values_are_refused_in_words(values: dict[str, Any], words: str) -> None:
    with pytest.raises(SettingsError) as refused:
        discord_settings(**values)
    assert words in str(refused.value)


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "8")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "4,5,6,7")
    settings = DiscordSettings()
    assert settings.shard_count == 8 and settings.shard_ids == (4, 5, 6, 7)


class _Adapter:  # what a client needs of its adapter to be built
    pass


async def test_the_client_each_setting_makes() -> None:
    plain = make_client(_Adapter(), discord_settings())  # type: ignore[arg-type]
    sharded = make_client(_Adapter(), discord_settings(  # type: ignore[arg-type]
        discord_shard_count="4", discord_shard_ids="1,3"))
    try:
        assert not isinstance(plain, discord.AutoShardedClient)
        assert isinstance(sharded, ShardedLeavewellClient)
        assert sharded.shard_count == 4 and sharded.shard_ids == [1, 3]
    finally:
        await plain.close()
        await sharded.close()


def test_discords_rule_for_which_shard_carries_a_server() -> None:
    assert shard_of(None, 4) == 0  # DMs
    assert shard_of(7000, 1) == 0
    assert [shard_of((n << 22) | 99, 4) for n in range(6)] == [0, 1, 2, 3, 0, 1]
