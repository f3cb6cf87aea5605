"""How long a chart holds the bot's event loop: rendered inline, in a worker thread (the
GIL is held for most of the ~100 ms), or in the chart process bot/attachments.py uses.
A ticker on the loop measures its lateness while 20 charts are made one after another.

    python bench/bench_charts.py [--charts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leavewell.bot.attachments import _in_chart_process
from leavewell.bot.charts import progress_chart

SERIES = {"series": [{"mark": None, "scores": [42, 58, 80, 71, 90],
                      "red_flags": [2, 1, 0, 1, 0]}]}
PARAMS = {"chart": SERIES}


async def inline() -> None:
    progress_chart(SERIES)


async def thread() -> None:
    await asyncio.to_thread(progress_chart, SERIES)


async def process() -> None:
    await _in_chart_process("progress_chart", PARAMS, "en")


async def lateness(make: object, charts: int) -> tuple[float, list[float]]:
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - before - 0.001) * 1000)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    for _ in range(charts):
        await make()  # type: ignore[operator]
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed, sorted(lags)


async def main(charts: int) -> None:
    await inline()
    await process()  # the chart process is started once, on first use
    for name, make in (("inline", inline), ("thread", thread), ("process", process)):
        elapsed, lags = await lateness(make, charts)
        print(f"{name:8} {charts} charts in {elapsed:.2f} s; loop late p50 "
              f"{lags[len(lags) // 2]:.1f} ms, p99 {lags[int(len(lags) * 0.99)]:.1f} ms, "
              f"max {lags[-1]:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=20)
    asyncio.run(main(parser.parse_args().charts))
