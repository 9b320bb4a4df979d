"""Telegram: python-telegram-bot updates in, `Incoming` to the dialog, `Reply` back as messages.

Translation only. Buttons become inline keyboards whose callback data is the reply's action;
long texts are split below Telegram's 4,096-character limit; messages go out as plain text, so
nothing a citizen typed can break a parse mode. The rate limiter keeps bursts (notifications)
within Telegram's limits. Webhook posts arrive through the shared aiohttp server, the secret
header checked in constant time.

In webhook mode the update is answered before the post is acknowledged, and a turn's last
message rides back in the webhook's response body, a Bot API call Telegram performs itself:
one HTTP request and one `Message` decoding fewer per turn, about a third of the bot's CPU
per message under load. Telegram does not report on such calls (no result, no 429, audit row
29), so only the final text reply to the citizen who just wrote goes that way, and only when
the rate limiter has room for it: it takes its slot like any other message, and over the limit
it goes through the Bot API, which waits and retries on 429, instead of vanishing. Earlier
messages of the turn, photos, callback answers and notifications go through the Bot API as
before. Acknowledging after the turn also means an update lost in a crash is
re-delivered by Telegram rather than dropped.

A person is whoever sent the update, never the chat it sits in. The two differ for updates
this bot has no use for: a `business_message` lives in a Business account owner's private chat
with someone else (the chat id is the other person's, the sender the owner), and a guest
message sits in whatever chat the bot was summoned to. Taking the chat for the person let
anyone who connected the bot to their Business account type staff commands as the staff member
they were chatting with. So only `message` and `callback_query` are asked for, and of those only
private chats whose id is the sender's are served; the handlers refuse the rest as well, since
`allowed_updates` does not reach updates created before it was set. Edited messages are left
alone too: an edit is not a new turn, and running it again answered a citizen twice or repeated
a staff member's status change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import wording
from bot.channels.base import split_text, utf16_len
from bot.channels.registry import Parts
from bot.channels.telegram_http import AiohttpRequest
from bot.logs import remember_secret
from bot.messages import Attachment, Button, Handler, Incoming, Reply
from bot.web import WebServer

log = logging.getLogger(__name__)

NAME = "telegram"
MAX_FILE = 1_000_000
"""Files larger than this (staff CSV imports are far smaller) are not downloaded."""
LIMIT = 4000
"""UTF-16 units, below Telegram's 4,096 so a split never lands on the edge."""
COMMANDS = [BotCommand(command, description) for command, description in wording.COMMANDS]
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
"""Everything else (edits, business and guest messages, channel posts) Telegram need not send."""
WEBHOOK_CONNECTIONS = 100
"""Updates Telegram may post at once, its highest ("1-100. Defaults to 40. … higher values to
increase your bot's throughput", Bot API, setWebhook): a turn waits for the database, and behind a
load balancer the connections are shared by every instance. Two instances on PostgreSQL answered
about 10 % more messages a second with 100 than with 40 (benchmarks/load.py)."""
NEW_PRIVATE_MESSAGES = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL
"""`update.message` only: PTB's chat filters alone also pass edits, business and guest messages."""


@dataclass
class WebhookReply:
    """The one Bot API call a webhook response may carry: for the chat the update came from."""

    chat: str
    call: dict[str, Any] | None = None


_webhook_reply: ContextVar[WebhookReply | None] = ContextVar("telegram_webhook_reply", default=None)


def served_user(update: Update) -> int | None:
    """The sender, when the update is one the bot serves: a new message or a button press, in
    the private chat that is the sender's own. Anything else could speak for someone else."""
    sender: User | None
    where: MaybeInaccessibleMessage | None
    if update.message is not None:
        sender, where = update.message.from_user, update.message
    elif update.callback_query is not None:
        sender, where = update.callback_query.from_user, update.callback_query.message
    else:
        return None
    if sender is None or where is None:
        return None
    if isinstance(where, Message) and (where.business_connection_id or where.guest_query_id):
        return None   # a chat of a Business account or a summoning chat, not the bot's own
    chat = where.chat
    return sender.id if chat.type == ChatType.PRIVATE and chat.id == sender.id else None


def _rows(buttons: tuple[Button, ...]) -> list[list[Button]]:
    """Short labels two to a row, long ones alone, so procedure names stay readable."""
    rows: list[list[Button]] = []
    for b in buttons:
        if len(b.label) <= 16 and rows and len(rows[-1]) == 1 and len(rows[-1][0].label) <= 16:
            rows[-1].append(b)
        else:
            rows.append([b])
    return rows


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.action) for b in row]
                                 for row in _rows(buttons)])


def keyboard_json(buttons: tuple[Button, ...]) -> dict[str, Any]:
    """The same keyboard as the Bot API's JSON, for a webhook response. Built through PTB's objects
    and `to_dict` it took 0.14 ms a reply, a tenth of a turn's CPU."""
    return {"inline_keyboard": [[{"text": b.label, "callback_data": b.action} for b in row]
                                for row in _rows(buttons)]}


class Limiter(AIORateLimiter):
    """PTB's limiter, also asked about the one call Telegram performs from a webhook response,
    which PTB never sees: that call must count against the overall rate, and must not be made
    while Telegram has told the bot to wait."""

    __slots__ = ()

    async def take(self) -> bool:
        """A slot for a webhook-response call, if one is free now (then it is used)."""
        limiter = self._base_limiter
        if not self._retry_after_event.is_set() or (limiter is not None and not limiter.has_capacity()):
            return False
        if limiter is not None:
            await limiter.acquire()   # has capacity: returns without waiting
        return True


def webhook_secret(token: str) -> str:
    """The secret Telegram echoes in every webhook post, strangers cannot. Derived from the token
    rather than drawn at each start, so every instance of one deployment registers the same one:
    a second copy started by mistake (R6) no longer leaves the first refusing every update."""
    return hmac.new(token.encode(), b"motcua telegram webhook", hashlib.sha256).hexdigest()


class TelegramChannel:
    """Receives updates (polling, or webhook posts through the shared web server) and sends
    replies; also what the notifier uses to reach Telegram users."""

    name = NAME

    def __init__(self, token: str, base_url: str, handle: Handler, *, webhook_url: str | None = None,
                 max_rate: float = 30.0):
        self.handle = handle
        self.webhook_url = webhook_url
        self.secret = webhook_secret(token) if webhook_url else ""
        if self.secret:
            remember_secret(self.secret)   # made here, so the environment's list does not hold it
        self.limiter = Limiter(overall_max_rate=max_rate, max_retries=3)
        builder = (
            ApplicationBuilder().token(token).base_url(base_url)
            .request(AiohttpRequest()).get_updates_request(AiohttpRequest(pool_size=1))
            .base_file_url(base_url.replace("/bot", "/file/bot"))
            .rate_limiter(self.limiter)
            # citizens are served side by side; the dialog orders each citizen's own turns
            .concurrent_updates(64)
        )
        if webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(CallbackQueryHandler(self.on_callback))
        self.application.add_handler(MessageHandler(NEW_PRIVATE_MESSAGES, self.on_message))
        self.application.add_error_handler(self.on_error)

    @property
    def webhook_path(self) -> str:
        path = urlsplit(self.webhook_url or "").path.rstrip("/")
        return path or "/webhooks/telegram"

    async def start(self, web_server: WebServer | None) -> None:
        await self.application.initialize()
        await self.application.bot.set_my_commands(COMMANDS)
        if self.webhook_url:
            if web_server is None:
                raise RuntimeError("webhook mode needs the web server")
            web_server.route(self.webhook_path, self.webhook)
            await self.application.bot.set_webhook(self.webhook_url, secret_token=self.secret,
                                                   allowed_updates=ALLOWED_UPDATES,
                                                   max_connections=WEBHOOK_CONNECTIONS)
        else:
            assert self.application.updater is not None
            await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=10)
        await self.application.start()

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403)
        update = self.decode(await request.read())
        if update is None:
            return web.Response(status=400)
        user = served_user(update)
        reply = WebhookReply(str(user) if user is not None else "")
        token = _webhook_reply.set(reply)
        try:
            application = self.application
            await application.update_processor.process_update(update, application.process_update(update))
        finally:
            _webhook_reply.reset(token)
        if reply.call is not None:
            return web.json_response(reply.call)
        return web.Response(status=200)

    def decode(self, raw: bytes) -> Update | None:
        """The update a webhook post carries, or None when the body is not one.

        Only Telegram knows the secret, so a bad body is a bug or a stolen secret, never a
        citizen: it gets a 400, a client error Telegram does not retry forever, where an
        exception would give a 500 and a traceback. The body itself is not logged: it may hold
        a citizen's message."""
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise TypeError(f"a JSON {type(data).__name__}, not an object")
            if type(data.get("update_id")) is not int:  # an Integer in the Bot API, never absent
                raise TypeError("no integer update_id")
            return Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            log.warning("telegram: webhook body of %d bytes is not an update (%s); answered 400",
                        len(raw), type(exc).__name__)
            return None

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = served_user(update)
        message = update.message
        if user is None or message is None:
            return
        text = message.text if message.text is not None else message.caption
        attachment = None
        document = message.document
        # only a file sent with a command is fetched (staff import cases as "/hoso nhap"): any
        # citizen's file with a caption was downloaded before the dialog could say no (R21)
        if document is not None and (document.file_size or 0) <= MAX_FILE and text and text.startswith("/"):
            data = bytes(await (await document.get_file()).download_as_bytearray())
            attachment = Attachment(document.file_name or "file", data, document.mime_type or "")
        replies = await self.handle(Incoming(NAME, str(user), text=text, attachment=attachment))
        await self.send(str(user), replies)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press is a turn. Answering the query only stops the button's spinner, so
        a refused answer (Telegram says "query is too old" once the press has waited too long,
        say behind a backlog) is logged and the turn runs all the same: the citizen who
        pressed still gets the reply."""
        query = update.callback_query
        user = served_user(update)
        if query is None or user is None:
            return
        try:
            await query.answer()
        except TelegramError as exc:
            # "query is too old" after a backlog: the press still counts, only its spinner is lost
            log.warning("telegram: answering a button press failed (%s: %s); the turn runs anyway",
                        type(exc).__name__, exc)
        replies = await self.handle(Incoming(NAME, str(user), action=query.data or ""))
        await self.send(str(user), replies)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram handler failed: %s", type(context.error).__name__, exc_info=context.error)

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None:
        bot = self.application.bot
        chat = int(user)
        webhook = _webhook_reply.get()
        for r, reply in enumerate(replies):
            if reply.attachment:
                await bot.send_photo(chat, reply.attachment.data, filename=reply.attachment.filename)
            pieces = split_text(reply.text, LIMIT, utf16_len) or ["…"]
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                if last and r == len(replies) - 1 and webhook is not None and webhook.chat == user \
                        and webhook.call is None and await self.limiter.take():
                    webhook.call = {"method": "sendMessage", "chat_id": chat, "text": piece}
                    if reply.buttons:
                        webhook.call["reply_markup"] = keyboard_json(reply.buttons)
                else:
                    await bot.send_message(chat, piece, reply_markup=keyboard(reply.buttons) if last else None)


def build(parts: Parts) -> TelegramChannel:
    return TelegramChannel(parts.secrets["TELEGRAM_BOT_TOKEN"], parts.config.telegram_base_url, parts.handle,
                           webhook_url=parts.options.telegram_webhook_url, max_rate=parts.config.telegram_rate)
