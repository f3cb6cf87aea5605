"""The PNG charts: valid, small, byte-for-byte reproducible, and safe with any data."""

from __future__ import annotations

import random
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from leavewell.bot.charts import progress_chart, round_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 100_000


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def assert_small_png(data: bytes) -> None:
    assert png_size(data) == (800, 450)
    assert len(data) < MAX_BYTES
    assert data.endswith(b"IEND\xaeB`\x82")
    assert b"tEXt" not in data and b"tIME" not in data  # no version string, no time


def progress(*situations: tuple[list[int], list[int]]) -> dict[str, Any]:
    several = len(situations) > 1
    return {"series": [
        {"mark": "ABCDEFGHI"[n] if several else None, "scores": scores, "red_flags": flags}
        for n, (scores, flags) in enumerate(situations)
    ]}


def members(count: int, seed: int = 7) -> dict[str, Any]:
    rnd = random.Random(seed)
    return {"members": [{"score": rnd.randint(0, 100), "red_flags": rnd.randint(0, 4)}
                        for _ in range(count)]}


def test_progress_chart_is_a_small_png() -> None:
    assert_small_png(progress_chart(progress(([42, 58, 80], [2, 1, 0]))))


def test_progress_chart_is_the_same_bytes_every_time() -> None:
    series = progress(([42, 58, 80], [2, 1, 0]), ([30, 70], [3, 0]))
    assert progress_chart(series) == progress_chart(series)
    assert progress_chart(series) != progress_chart(progress(([42, 58, 81], [2, 1, 0])))


@pytest.mark.parametrize("series", [
    {"series": []},
    progress(([], [])),
    progress(([55], [1])),
    progress(([55], [])),  # no flag counts: none drawn
    progress(([0, 100], [0, 0])),
    progress(([55], [1]), ([70], [0])),
], ids=["no situation", "no attempt", "one attempt", "no flags", "extremes", "two singles"])
def test_progress_chart_handles_empty_and_single_points(series: dict[str, Any]) -> None:
    assert_small_png(progress_chart(series))


def test_progress_chart_with_fifty_attempts_and_every_situation() -> None:
    rnd = random.Random(3)
    fifty = ([rnd.randint(0, 100) for _ in range(50)], [rnd.randint(0, 6) for _ in range(50)])
    assert_small_png(progress_chart(progress(fifty)))
    nine = [([rnd.randint(0, 100) for _ in range(6)], [rnd.randint(0, 3) for _ in range(6)])
            for _ in range(9)]
    assert_small_png(progress_chart(progress(*nine)))


def test_round_chart_is_a_small_reproducible_png() -> None:
    data = round_chart(members(8))
    assert_small_png(data)
    assert data == round_chart(members(8))


@pytest.mark.parametrize("series", [
    {"members": []},
    {"members": [{"score": 70, "red_flags": 0}]},
    {"members": [{"score": None}, {"score": 40, "red_flags": ["blame", "evasive"]}]},
    members(60),
    {"members": [{"no": 1, "score": 70, "red_flags": 0, "late": False},
                 {"no": 2, "score": 55, "red_flags": 2, "late": True},
                 {"no": 3, "score": None, "red_flags": 0, "late": False}]},
], ids=["nobody", "one", "no answer and flag lists", "sixty", "as the round report gives"])
def test_round_chart_handles_any_number_of_members(series: dict[str, Any]) -> None:
    assert_small_png(round_chart(series))


@pytest.mark.parametrize("bad", [
    {},
    {"series": "nope"},
    {"series": [{"scores": [101]}]},
    {"series": [{"scores": [-1]}]},
    {"series": [{"scores": ["50"]}]},
    {"series": [{"scores": [True]}]},
    {"series": [{"scores": [50, 60], "red_flags": [1]}]},
    {"series": [{"scores": [1]}] * 10},
    {"series": [{"scores": list(range(100)) * 3}]},
    {"series": ["A"]},
])
def test_progress_chart_refuses_malformed_series(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        progress_chart(bad)


@pytest.mark.parametrize("bad", [
    {},
    {"members": [{"score": 120}]},
    {"members": [{"score": 50, "red_flags": -2}]},
    {"members": [7]},
    {"members": [{"score": 1}] * 101},
    {"members": [{"no": "one", "score": 1}]},
])
def test_round_chart_refuses_malformed_series(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        round_chart(bad)


def test_round_chart_labels_members_by_their_report_number() -> None:
    numbered = {"members": [{"no": 5, "score": 60, "red_flags": 1}]}
    assert round_chart(numbered) != round_chart({"members": [{"score": 60, "red_flags": 1}]})
    assert round_chart(numbered) == round_chart(numbered)


def test_charts_rendered_from_several_threads_are_identical() -> None:
    series = progress(([42, 58, 80], [2, 1, 0]), ([30, 70], [3, 0]))
    expected = progress_chart(series)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: progress_chart(series), range(8)))
        rounds = list(pool.map(lambda _: round_chart(members(5)), range(4)))
    assert all(r == expected for r in results)
    assert len(set(rounds)) == 1


def test_matplotlib_loads_on_first_chart_and_pyplot_never() -> None:
    code = (
        "import sys\n"
        "import leavewell.bot.attachments, leavewell.bot.charts\n"
        "import leavewell.bot.telegram.send, leavewell.bot.discord.send\n"
        "assert 'matplotlib' not in sys.modules, 'imported at start-up'\n"
        "leavewell.bot.charts.progress_chart(\n"
        "    {'series': [{'scores': [1, 2], 'red_flags': [0, 1]}]})\n"
        "assert 'matplotlib' in sys.modules\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
