"""Running the bot: one store, one dialog and one notifier for every channel in the process.

`motcua run telegram zalo-oa` starts the channels side by side; a case followed from Zalo is
notified on Zalo because each outbox row names its channel. Webhooks of every channel share
one HTTP server (with /healthz). SIGTERM and SIGINT stop it gracefully: the notifier finishes
its pass while the channels can still send, then the channels stop, then the database closes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from bot.app import App, build_app
from bot.channels import telegram, zalo_bot, zalo_oa
from bot.config import Config, ConfigError
from bot.notifier import Notifier
from bot.web import WebServer

log = logging.getLogger(__name__)

CHANNELS = ("telegram", "zalo-oa", "zalo-bot")
T = TypeVar("T")


@dataclass(frozen=True)
class RunOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    telegram_webhook_url: str | None = None
    zalo_bot_webhook: bool = False
    public_url: str | None = None
    """Base URL the Zalo Bot platform should post to (setWebhook is called when given)."""


def _secrets(env: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    missing = [n for n in names if not env.get(n, "").strip()]
    if missing:
        raise ConfigError(f"missing secret(s) in the environment: {', '.join(missing)} (never put them in config.yaml)")
    return {n: env[n].strip() for n in names}


def check_secrets(channels: Sequence[str], env: Mapping[str, str], options: RunOptions) -> None:
    """Fail before starting anything when a channel's secret is missing."""
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise ConfigError(f"unknown channel(s): {', '.join(unknown)}; available: {', '.join(CHANNELS)}")
    if "telegram" in channels:
        _secrets(env, ["TELEGRAM_BOT_TOKEN"])
    if "zalo-oa" in channels:
        _secrets(env, ["ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY"])
    if "zalo-bot" in channels:
        _secrets(env, ["ZALO_BOT_TOKEN"] + (["ZALO_BOT_WEBHOOK_SECRET"] if options.zalo_bot_webhook else []))


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
                 options: RunOptions = RunOptions()):
        check_secrets(channels, env, options)
        self.config = config
        self.names = list(dict.fromkeys(channels))
        self.env = env
        self.options = options
        self.app: App | None = None
        self.channels: dict[str, telegram.TelegramChannel | zalo_oa.ZaloOAChannel | zalo_bot.ZaloBotChannel] = {}
        self.web: WebServer | None = None
        self.http: httpx.AsyncClient | None = None
        self.notifier: Notifier | None = None
        self._notifier_task: asyncio.Task[None] | None = None

    @property
    def needs_web(self) -> bool:
        o = self.options
        return "zalo-oa" in self.names or bool(o.telegram_webhook_url) or ("zalo-bot" in self.names and o.zalo_bot_webhook)

    async def _forward(self, text: str) -> None:
        """Questions for a person go to the staff chat on Telegram, when one is configured."""
        channel = self.channels.get(telegram.NAME)
        if isinstance(channel, telegram.TelegramChannel) and self.config.telegram_staff_chat:
            await channel.application.bot.send_message(self.config.telegram_staff_chat, text)

    async def start(self) -> None:
        config, env, o = self.config, self.env, self.options
        forward = self._forward if ("telegram" in self.names and config.telegram_staff_chat) else None
        self.app = app = await build_app(config, forward)
        self.http = httpx.AsyncClient(timeout=30)
        self.web = WebServer(o.host, o.port) if self.needs_web else None
        try:
            for name in self.names:
                if name == "telegram":
                    channel = telegram.TelegramChannel(env["TELEGRAM_BOT_TOKEN"], config.telegram_base_url, app.dialog.handle,
                                                       webhook_url=o.telegram_webhook_url, max_rate=config.telegram_rate)
                elif name == "zalo-oa":
                    secrets = zalo_oa.OASecrets(env["ZALO_APP_ID"], env["ZALO_APP_SECRET"], env["ZALO_OA_SECRET_KEY"],
                                                env.get("ZALO_OA_ACCESS_TOKEN", ""), env.get("ZALO_OA_REFRESH_TOKEN", ""))
                    client = zalo_oa.ZaloOAClient(self.http, app.store, secrets, config.zalo_oa)
                    channel = zalo_oa.ZaloOAChannel(client, app.store, app.dialog.handle)
                else:
                    client_bot = zalo_bot.ZaloBotClient(self.http, config.zalo_bot_base_url, env["ZALO_BOT_TOKEN"])
                    channel = zalo_bot.ZaloBotChannel(
                        client_bot, app.store, app.dialog.handle, config.office.hotline,
                        env.get("ZALO_BOT_WEBHOOK_SECRET") if o.zalo_bot_webhook else None, o.public_url)
                await channel.start(self.web)
                self.channels[name] = channel
                log.info("%s: started", name)
            if self.web:
                self.web.channels = list(self.channels)
                await self.web.start()
                log.info("web server on %s:%s", self.web.host, self.web.port)
        except Exception:
            await self.stop()
            raise
        self.notifier = Notifier(app.store, self.channels, app.catalog, config.rating_scale, config.notifier_interval)
        self._notifier_task = asyncio.create_task(self.notifier.run(), name="notifier")

    async def stop(self) -> None:
        if self.notifier and self._notifier_task:
            self.notifier.stop()
            done, pending = await asyncio.wait({self._notifier_task}, timeout=10)
            for task in pending:
                task.cancel()
        self.notifier = self._notifier_task = None
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
            await self.http.aclose()
            self.http = None
        if self.app:
            await self.app.close()
            self.app = None

    async def run(self) -> None:
        """Start, wait for SIGTERM or SIGINT, stop."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await self.start()
        try:
            await stopping.wait()
            log.info("stopping")
        finally:
            await self.stop()
