"""PTB's HTTP requests through aiohttp instead of httpx.

Measured in bench/bench_textbook.py: httpx's cost per call grows with the calls in flight
and dominated the bot's CPU; aiohttp (already here for discord.py and the webhook) costs
a fraction of it and stays flat under load. PTB keeps its own error handling: this class
only moves bytes and maps transport failures to PTB's TimedOut / NetworkError.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_TIMEOUT = 5.0  # PTB's own default for connect, read and write
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool, created by `initialize`."""

    def __init__(self, *, pool_size: int = 16, pool_timeout: float | None = 30.0) -> None:
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        # The last reply's body as received: the adapter keeps getUpdates' JSON in its
        # inbox as Telegram sent it instead of re-encoding PTB's objects.
        self.last_body = b""

    @property
    def read_timeout(self) -> float | None:
        return DEFAULT_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data and request_data.contains_files \
            else None
        read = _given(read_timeout, DEFAULT_TIMEOUT)
        write = _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else DEFAULT_TIMEOUT)
        connect = _given(connect_timeout, DEFAULT_TIMEOUT)
        pool = _given(pool_timeout, self.pool_timeout)
        # aiohttp has no write timeout of its own: it bounds the whole exchange instead.
        total = None if read is None or write is None else read + write + (connect or 0)
        timeout = aiohttp.ClientTimeout(
            total=total, sock_read=read,
            connect=None if connect is None or pool is None else connect + pool)
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] = {}
        if files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():  # type: ignore[union-attr]
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            body = form
        elif request_data is not None and request_data.parameters:
            body = request_data.json_payload
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(method, url, data=body, headers=headers,
                                             timeout=timeout) as response:
                self.last_body = await response.read()
                return response.status, self.last_body
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


_UNSET = type(BaseRequest.DEFAULT_NONE)  # PTB's "not given by the caller" marker


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, _UNSET) else value
