"""Running the bot on its channels: build the app inside the channel's event loop, close it on
the way out. PTB's run_polling / run_webhook stop gracefully on SIGINT and SIGTERM."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import Application

from bot.app import App, build_app
from bot.channels import telegram
from bot.config import Config
from bot.notifier import Notifier

log = logging.getLogger(__name__)


def telegram_application(config: Config, token: str) -> tuple[Application, dict[str, App]]:
    """The Telegram application wired to a fresh App (kept in the returned holder)."""
    holder: dict[str, App] = {}
    notifiers: list[Notifier] = []
    tasks: list[asyncio.Task] = []

    async def post_init(application: Application) -> None:
        staff_chat = config.telegram_staff_chat

        async def forward(text: str) -> None:
            await application.bot.send_message(staff_chat, text)

        app = await build_app(config, forward if staff_chat else None)
        holder["app"] = app
        notifier = Notifier(app.store, {telegram.NAME: telegram.TelegramChannel(application)}, config.notifier_interval)
        notifiers.append(notifier)
        tasks.append(asyncio.create_task(notifier.run(), name="notifier"))

    async def post_stop(application: Application) -> None:
        # while the bot can still send: let the notifier finish its pass and mark what it sent
        for notifier in notifiers:
            notifier.stop()
        done, pending = await asyncio.wait(tasks, timeout=10) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        notifiers.clear()
        tasks.clear()

    async def post_shutdown(application: Application) -> None:
        if "app" in holder:
            await holder.pop("app").close()

    application = telegram.build_application(
        token, config.telegram_base_url, lambda: holder["app"].dialog,
        post_init=post_init, post_stop=post_stop, post_shutdown=post_shutdown,
    )
    return application, holder


async def start_telegram(application: Application, webhook: dict | None = None) -> None:
    """What run_polling / run_webhook do before blocking, for running beside other channels
    and in tests: initialise, build the app, start receiving updates."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    if webhook:
        await application.updater.start_webhook(allowed_updates=Update.ALL_TYPES, **webhook)
    else:
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=10)
    await application.start()


async def stop_telegram(application: Application) -> None:
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)


def run_telegram(config: Config, token: str, webhook_url: str | None, listen: str, port: int) -> None:
    application, _ = telegram_application(config, token)
    if webhook_url:
        log.info("telegram: webhook mode on %s:%s", listen, port)
        application.run_webhook(allowed_updates=Update.ALL_TYPES, **telegram.run_kwargs(webhook_url, listen, port))
    else:
        log.info("telegram: polling mode")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
