"""The HTTP server for webhooks (Telegram, Zalo OA, Zalo Bot) and the load balancer's health check.

aiohttp: an asyncio server that hands handlers the raw request body (Zalo signs the exact
bytes), runs in the bot's own event loop beside polling and the notifier, and is already how
the tests' fake platforms are served, so one well-kept library serves both sides.
"""

from __future__ import annotations

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

    def route(self, path: str, handler: Handler) -> None:
        self.app.router.add_post(path, handler)

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "channels": self.channels})

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests ask for any free port
            self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None
