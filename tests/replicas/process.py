"""One bot replica as a real process: started, killed (-9) and stopped as a deployment
would do it. Each drill says what its platform needs and when a start counts as up."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from tests.telegram.conftest import command

LEASE = 2.0  # seconds a dead replica's claims hold (LEAVEWELL_CLAIM_LEASE_SECONDS)


class ReplicaProcess:
    def __init__(self, database_url: str, logs: Path, **platform: str) -> None:
        self.logs = logs
        # No platform this drill does not name: a token in the environment would add one.
        self.env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
        self.env.update(
            LEAVEWELL_DATABASE_URL=database_url, LEAVEWELL_CLAIM_LEASE_SECONDS=str(LEASE),
            LEAVEWELL_LOG_LEVEL="WARNING", MPLCONFIGDIR=str(logs.parent / "mpl"), **platform)
        self.process: asyncio.subprocess.Process | None = None

    async def spawn(self) -> asyncio.subprocess.Process:
        with self.logs.open("ab") as errors:
            self.process = await asyncio.create_subprocess_exec(
                *command(), env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=errors)
        return self.process

    def kill(self) -> asyncio.subprocess.Process:
        assert self.process is not None
        self.process.kill()
        return self.process

    async def stop(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)
