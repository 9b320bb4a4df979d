"""The one aiohttp session for the bot's outbound platform calls (Zalo OA, OAuth, Zalo Bot).

One session means one connection pool, one timeout model and one exception family
(`aiohttp.ClientError`, `TimeoutError`) for every channel; aiohttp is already the bot's server
and Telegram transport, and parses HTTP in C. The service opens it before the channels start
and closes it after they stop. Telegram keeps its own sessions inside `telegram_http`, because
PTB opens and closes its transports itself and polls over a separate one-connection pool.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

TIMEOUT = 30.0
"""Seconds to connect, and to wait between bytes of an answer, unless a call says otherwise."""


@dataclass(frozen=True)
class Response:
    """A finished exchange: the body is read before the connection returns to the pool."""

    status: int
    body: bytes

    def json(self) -> Any:
        """The body as JSON whatever its content type (Zalo does not always label it);
        a `ValueError` when it is not JSON."""
        return json.loads(self.body)


def open_session(timeout: float = TIMEOUT) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=_timeout(timeout))


def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    # per step, not for the whole exchange: a long poll may last as long as the server keeps it open
    return aiohttp.ClientTimeout(total=None, connect=seconds, sock_read=seconds)


async def post(session: aiohttp.ClientSession, url: str, *, json_body: Any = None,
               form: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
               timeout: float | None = None) -> Response:
    """POST a JSON body or a form. Any status comes back as a `Response` (the platforms put
    their error codes in the body); a network failure raises `aiohttp.ClientError`, a timeout
    `TimeoutError`."""
    options: dict[str, Any] = {} if timeout is None else {"timeout": _timeout(timeout)}
    async with session.post(url, json=json_body, data=form, headers=headers, **options) as response:
        return Response(response.status, await response.read())
