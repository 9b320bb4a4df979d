"""python-telegram-bot's HTTP seam (`BaseRequest.do_request`) served by aiohttp instead of httpx.

Why: under load, httpx with its httpcore/h11/anyio layers cost about a third of the bot's CPU
per message, more than our own code; aiohttp parses HTTP in C and is already what the web
server and the tests' fake platforms run on. PTB keeps everything above the seam (encoding
parameters, decoding results, error mapping, the rate limiter), so only the transport changes.
"""

from __future__ import annotations

from typing import cast

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DefaultValue = type(BaseRequest.DEFAULT_NONE)
"""PTB's marker for "not passed, use the transport's default" (its class is private)."""
ODVFloat = float | None | object


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool.

    aiohttp has no write timeout, so PTB's write timeout is not applied; the bot uploads only
    small report charts. Waiting for a free pooled connection counts towards the connect
    timeout, as aiohttp does, so PTB's pool timeout is not applied either."""

    def __init__(self, pool_size: int = 256, read_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0):
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @staticmethod
    def _given(value: ODVFloat, default: float | None) -> float | None:
        return default if isinstance(value, DefaultValue) else cast(float | None, value)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVFloat = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVFloat = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVFloat = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVFloat = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(total=None, connect=self._given(connect_timeout, self._connect_timeout),
                                        sock_read=self._given(read_timeout, self._read_timeout))
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            data = request_data.json_parameters
            if files:
                form = aiohttp.FormData(data)
                for name, (filename, content, mimetype) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
