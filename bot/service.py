"""Running the bot: one store, one dialog and one notifier for every channel in the process.

`motcua run telegram zalo-oa` starts the channels side by side; a case followed from Zalo is
notified on Zalo because each outbox row names its channel. Webhooks of every channel share
one HTTP server (with /healthz). SIGTERM and SIGINT stop it gracefully: the notifier finishes
its pass while the channels can still send, then the channels stop, then the database closes.

Several processes may serve one PostgreSQL database. A platform that allows one poller (Telegram
or Zalo Bot without a webhook) is polled by the process that holds its leadership in the
database; the others stand by for it and take over the moment the leader's connection ends.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import aiohttp

from bot import places
from bot.app import App, build_app
from bot.channels import http, telegram
from bot.channels.base import Channel
from bot.channels.registry import REGISTRY, ChannelSpec, Parts, RunOptions, check_secrets
from bot.config import Config, ConfigError, Office
from bot.notifier import Notifier
from bot.storage.db import Leadership
from bot.web import WebServer

__all__ = ["RunOptions", "Service", "check_secrets", "run_loop"]

log = logging.getLogger(__name__)

T = TypeVar("T")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where it exists: the bot spends most of its time in HTTP and the event
    loop, and uvloop's libuv loop answers about 15 % more messages per second on one core."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


class Service:
    def __init__(self, config: Config, channels: Sequence[str], env: Mapping[str, str],
                 options: RunOptions | None = None) -> None:
        options = options or RunOptions()
        check_secrets(channels, env, options)
        self.config = config
        self.names = list(dict.fromkeys(channels))
        self.env = env
        self.options = options
        self.app: App | None = None
        self.specs = [REGISTRY[name] for name in self.names]
        self.channels: dict[str, Channel] = {}
        self.web: WebServer | None = None
        self.http: aiohttp.ClientSession | None = None
        self.notifier: Notifier | None = None
        self._notifier_task: asyncio.Task[None] | None = None
        self._leaders: list[Leadership] = []
        self._standby: list[asyncio.Task[None]] = []

    @property
    def needs_web(self) -> bool:
        return any(spec.needs_web(self.options) for spec in self.specs)

    async def _forward(self, text: str, office: Office | None) -> None:
        """Questions for a person go to the office's staff chat on Telegram, or the deployment's."""
        channel = self.channels.get(telegram.NAME)
        chat = (office.staff_chat if office else None) or self.config.telegram_staff_chat
        if isinstance(channel, telegram.TelegramChannel) and chat:
            await channel.application.bot.send_message(chat, text)

    async def start(self) -> None:
        config, o = self.config, self.options
        # every request must reach some officer: the deployment's chat, or each office's own
        chats = config.telegram_staff_chat or all(o.staff_chat for o in config.offices)
        forward = self._forward if (telegram.NAME in self.names and chats) else None
        self.app = app = await build_app(config, forward)
        await asyncio.to_thread(places.preload)
        self.http = http.open_session()
        self.web = WebServer(o.host, o.port) if self.needs_web else None
        try:
            if self.web:
                try:
                    self.web.bind()
                except OSError as exc:
                    raise ConfigError(f"cổng {o.host}:{o.port} không dùng được ({exc.strerror}); có thể một bản "
                                      "motcua khác đang chạy. Chưa đăng ký webhook nào. (port unavailable)") from None
            for spec in self.specs:
                if not spec.needs_web(o):                   # it polls: one process per platform
                    leader = app.store.leadership(f"poll:{spec.name}")
                    self._leaders.append(leader)
                    if not await leader.try_take():
                        log.info("%s: another process polls it; standing by", spec.name)
                        self._standby.append(asyncio.create_task(self._take_over(spec, leader)))
                        continue
                await self._start_channel(spec)
            if self.web:
                self.web.channels = list(self.channels)
                await self.web.start()
                log.info("web server on %s:%s", self.web.host, self.web.port)
        except Exception:
            await self.stop()
            raise
        self._start_notifier()
        await app.store.watch_outbox()

    async def _start_channel(self, spec: ChannelSpec) -> None:
        assert self.app is not None and self.http is not None
        parts = Parts(self.config, spec.values(self.env), self.options, self.app.dialog.handle, self.app.store,
                      self.http)
        channel = spec.factory(parts)
        await channel.start(self.web)
        self.channels[spec.name] = channel
        log.info("%s: started", spec.name)

    def _start_notifier(self) -> None:
        """A notifier for the channels this process runs (it delivers only their rows)."""
        assert self.app is not None
        self.notifier = Notifier(self.app.store, self.channels, self.app.catalog, self.config.rating_scale,
                                 self.config.notifier_interval)
        self._notifier_task = asyncio.create_task(self.notifier.run(), name="notifier")

    async def _stop_notifier(self) -> None:
        if self.notifier and self._notifier_task:
            self.notifier.stop()
            _, pending = await asyncio.wait({self._notifier_task}, timeout=10)
            for task in pending:
                task.cancel()
            if self.app and self.notifier.wake in self.app.store.outbox_listeners:
                self.app.store.outbox_listeners.remove(self.notifier.wake)
        self.notifier = self._notifier_task = None

    async def _take_over(self, spec: ChannelSpec, leader: Leadership) -> None:
        """Once the polling process is gone: poll in its place, and deliver that channel's
        notifications too (the notifier starts again with it)."""
        try:
            await leader.take()
            await self._start_channel(spec)
            log.info("%s: took over polling", spec.name)
            await self._stop_notifier()
            self._start_notifier()
        except Exception:
            log.exception("%s: taking over failed", spec.name)

    async def stop(self) -> None:
        for task in self._standby:
            task.cancel()
        await asyncio.gather(*self._standby, return_exceptions=True)
        self._standby.clear()
        await self._stop_notifier()
        if self.web:
            await self.web.stop()
            self.web = None
        for name, channel in reversed(list(self.channels.items())):
            try:
                await channel.stop()
            except Exception:
                log.exception("%s: stop failed", name)
        self.channels.clear()
        if self.http:
            await self.http.close()
            self.http = None
        for leader in self._leaders:
            await leader.release()
        self._leaders.clear()
        if self.app:
            await self.app.close()
            self.app = None

    async def run(self) -> None:
        """Start, wait for SIGTERM or SIGINT, stop.

        A signal also ends a start that does not finish (a platform that does not answer, a
        database another program holds): the start is cancelled and what it opened is closed,
        so systemd's stop works at any moment. The handlers are removed on the way out,
        whatever happens: left on a loop that has ended, they would swallow every later
        SIGTERM and the process could only be killed.
        """
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT)
        previous = {sig: signal.getsignal(sig) for sig in signals}
        for sig in signals:
            loop.add_signal_handler(sig, stopping.set)
        try:
            starting = asyncio.create_task(self.start(), name="start")
            signalled = asyncio.create_task(stopping.wait(), name="signal")
            try:
                await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                signalled.cancel()
                if not starting.done():
                    log.info("stopping while starting")
                    starting.cancel()
                    await asyncio.gather(starting, return_exceptions=True)
                    await self.stop()
            if starting.cancelled():
                return
            starting.result()                     # a start that failed raises here, already cleaned up
            try:
                await stopping.wait()
                log.info("stopping")
            finally:
                await self.stop()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
                if previous[sig] is not None:         # e.g. asyncio.run's own Ctrl-C handler
                    signal.signal(sig, previous[sig])
