"""The HTTP server for webhooks (Telegram, Zalo OA, Zalo Bot) and the load balancer's health check.

aiohttp: an asyncio server that hands handlers the raw request body (Zalo signs the exact
bytes), runs in the bot's own event loop beside polling and the notifier, and is already how
the tests' fake platforms are served, so one well-kept library serves both sides.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebServer:
    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.app = web.Application(client_max_size=1024 * 1024)
        self.channels: list[str] = []
        """Channels running in this process, reported by /healthz."""
        self.app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None

    def bind(self) -> socket.socket:
        """Take the port before anything is registered with a platform: a second copy of the bot
        started on a port already in use must fail here, before its setWebhook points Telegram
        at itself (R6). Raises OSError when the port is taken."""
        family = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)[0][0]
        self._socket = socket.create_server((self.host, self.port), family=family)
        self.port = int(self._socket.getsockname()[1])
        return self._socket

    def route(self, path: str, handler: Handler, method: str = "POST") -> None:
        """Webhooks are posts; a platform may also GET a path (Zalo's domain verification file
        and its check of a webhook URL being saved)."""
        self.app.router.add_route(method, path, handler)

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "channels": self.channels})

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket or self.bind()).start()

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
