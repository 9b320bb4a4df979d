"""Telegram: python-telegram-bot updates in, `Incoming` to the dialog, `Reply` back as messages.

Translation only. Buttons become inline keyboards whose callback data is the reply's action;
long texts are split below Telegram's 4,096-character limit; messages go out as plain text, so
nothing a citizen typed can break a parse mode. The rate limiter keeps bursts (notifications)
within Telegram's limits.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Awaitable, Callable

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.base import Attachment, Button, Incoming, Reply, split_text
from bot.dialog import Dialog

log = logging.getLogger(__name__)

NAME = "telegram"
MAX_FILE = 1_000_000
"""Files larger than this (staff CSV imports are far smaller) are not downloaded."""
LIMIT = 4000
"""Below Telegram's 4,096 so a split never lands on the edge."""
COMMANDS = [
    BotCommand("start", "Bắt đầu, xem danh mục thủ tục"),
    BotCommand("menu", "Danh mục thủ tục"),
    BotCommand("tracuu", "Tra cứu hồ sơ đã nộp"),
    BotCommand("help", "Hướng dẫn sử dụng"),
]


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Short labels two to a row, long ones alone, so procedure names stay readable."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for b in buttons:
        key = InlineKeyboardButton(b.label, callback_data=b.action)
        if len(b.label) <= 16 and rows and len(rows[-1]) == 1 and len(rows[-1][0].text) <= 16:
            rows[-1].append(key)
        else:
            rows.append([key])
    return InlineKeyboardMarkup(rows)


class TelegramChannel:
    """Sends replies to a chat; also what the notifier uses to reach Telegram users."""

    name = NAME

    def __init__(self, application: Application):
        self.application = application

    async def send(self, user: str, replies: list[Reply]) -> None:
        bot = self.application.bot
        for reply in replies:
            if reply.attachment:
                await bot.send_photo(int(user), reply.attachment.data, filename=reply.attachment.filename)
            pieces = split_text(reply.text, LIMIT) or ["…"]
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                await bot.send_message(int(user), piece, reply_markup=keyboard(reply.buttons) if last else None)


def build_application(
    token: str, base_url: str, dialog_source: Callable[[], Dialog], *,
    post_init: Callable[[Application], Awaitable[None]] | None = None,
    post_stop: Callable[[Application], Awaitable[None]] | None = None,
    post_shutdown: Callable[[Application], Awaitable[None]] | None = None,
) -> Application:
    """A PTB application whose handlers only translate; `dialog_source` gives the dialog once
    it exists (it is built in post_init, inside the application's event loop)."""
    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        message = update.effective_message
        if chat is None or message is None:
            return
        text = message.text if message.text is not None else message.caption
        attachment = None
        document = message.document
        if document is not None and (document.file_size or 0) <= MAX_FILE and text:
            data = bytes(await (await document.get_file()).download_as_bytearray())
            attachment = Attachment(document.file_name or "file", data, document.mime_type or "")
        replies = await dialog_source().handle(Incoming(NAME, str(chat.id), text=text, attachment=attachment))
        await TelegramChannel(context.application).send(str(chat.id), replies)

    async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        await query.answer()
        replies = await dialog_source().handle(Incoming(NAME, str(chat.id), action=query.data or ""))
        await TelegramChannel(context.application).send(str(chat.id), replies)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram handler failed: %s", type(context.error).__name__, exc_info=context.error)

    async def init(application: Application) -> None:
        if post_init:
            await post_init(application)
        await application.bot.set_my_commands(COMMANDS)

    builder = (
        ApplicationBuilder().token(token).base_url(base_url)
        .base_file_url(base_url.replace("/bot", "/file/bot"))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(init)
    )
    if post_stop:
        builder = builder.post_stop(post_stop)
    if post_shutdown:
        builder = builder.post_shutdown(post_shutdown)
    application = builder.build()
    application.add_handler(CallbackQueryHandler(on_callback))
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL, on_message))
    application.add_error_handler(on_error)
    return application


def webhook_secret() -> str:
    """A fresh secret per start: Telegram echoes it in every webhook call, strangers cannot."""
    return secrets.token_urlsafe(32)


def run_kwargs(webhook_url: str | None, listen: str, port: int) -> dict[str, Any]:
    """Arguments for PTB's run_webhook, which checks the secret header on every post."""
    if not webhook_url:
        return {}
    path = webhook_url.rstrip("/").rsplit("/", 1)[-1] if "/" in webhook_url.split("://", 1)[-1] else "telegram"
    return {"listen": listen, "port": port, "url_path": path, "webhook_url": webhook_url,
            "secret_token": webhook_secret()}
