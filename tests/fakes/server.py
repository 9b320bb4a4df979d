"""What every fake platform server shares: an aiohttp server on 127.0.0.1 with an OS-chosen
port, `async with` support, and a signal that wakes waiters (tests and long polls) on change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol, Self

from aiohttp import web


class Signal:
    """Wakes every waiter on each state change.

    Unlike ``asyncio.Condition.notify_all`` it needs no lock, so synchronous helpers such as
    ``push_text`` can wake an async long poll.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> None:
        """Return once ``predicate()`` holds; raise ``TimeoutError`` after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._event.wait()


class FakeServer:
    """Lifecycle shared by both fakes: an aiohttp server on 127.0.0.1, port chosen by the OS."""

    client_max_size = 1024 * 1024
    """Largest request body accepted (Telegram uploads need more)."""

    def __init__(self) -> None:
        self._signal = Signal()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Listen on an OS-chosen port, so parallel test runs never collide."""
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._closing = False
        app = web.Application(client_max_size=self.client_max_size)
        self._add_routes(app)
        # handler_cancellation: a long poll abandoned by the client must not keep running until
        # its timeout and delay shutdown.
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Wake parked long polls (so they answer at once) and shut the server down."""
        if self._runner is None:
            return
        self._closing = True
        self._signal.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        self._port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        if self._port is None:
            raise RuntimeError(
                f"{type(self).__name__} is not running; call start() or use `async with`"
            )
        return f"http://127.0.0.1:{self._port}"


class Summarised(Protocol):
    """Any fake's call record, so one helper formats every call log."""

    def summary(self) -> str: ...


def recorded(calls: Sequence[Summarised]) -> str:
    """The tail of the call log, for timeout messages: it usually explains the failure."""
    lines = "\n".join(f"  {index}. {call.summary()}" for index, call in enumerate(calls[-40:], 1))
    return f"Recorded calls (last 40 of {len(calls)}):\n{lines or '  (none)'}"
