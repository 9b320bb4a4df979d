"""Zalo Bot Platform (the Telegram-like bot API): polling or webhook in, text out.

A small async client over the bot's shared aiohttp session (`bot.channels.http`). What the
documentation leaves open, decided here:

- `getUpdates` takes no offset and returns one event (some deployments a list; both are
  accepted); consumed events can come back, so every message id is remembered in the database
  and a re-delivery is ignored. A poll that times out answers error 408, which means "nothing
  new". Only one poller may run per token. `getUpdates` does not work while a webhook is set
  (audit row 21), so polling starts by deleting any webhook left from an earlier run.
- Webhook bodies come wrapped (`{"ok": true, "result": event}`) or flat; both are accepted. The
  `X-Bot-Api-Secret-Token` header must equal ZALO_BOT_WEBHOOK_SECRET (constant-time check).
- The platform has no buttons: replies carry numbered choices, which the dialog maps back.
- Errors are logged with the platform's code and description (`ZaloBotError`), which say what
  went wrong (401 token, 429 quota); the exception's class alone did not.
- `message.unsupported.received` (Zalo sends it instead of the content for some users) reaches
  the dialog as a message without text, which answers it (type the question, or call).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels import http
from bot.channels.base import numbered, split_text
from bot.channels.registry import Parts
from bot.messages import Handler, Incoming, Reply
from bot.storage import Store
from bot.web import WebServer

log = logging.getLogger(__name__)

NAME = "zalo-bot"
LIMIT = 2000
POLL_TIMEOUT = 30
TIMEOUT_CODE = 408


class ZaloBotError(Exception):
    def __init__(self, code: int, description: str):
        super().__init__(f"Zalo Bot error {code}: {description}")
        self.code = code


class ZaloBotClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str):
        self.session = session
        self.url = f"{base_url.rstrip('/')}/bot{token}"

    async def call(self, method: str, *, http_timeout: float = 30.0, **params: Any) -> Any:
        response = await http.post(self.session, f"{self.url}/{method}", json_body=params, timeout=http_timeout)
        try:
            data = response.json()
        except ValueError:
            raise ZaloBotError(response.status, "not JSON") from None
        if not data.get("ok"):
            raise ZaloBotError(int(data.get("error_code") or response.status), str(data.get("description")))
        return data.get("result")

    async def get_updates(self, timeout: int = POLL_TIMEOUT) -> list[dict[str, Any]]:
        try:
            result = await self.call("getUpdates", http_timeout=timeout + 10, timeout=str(timeout))
        except ZaloBotError as exc:
            if exc.code == TIMEOUT_CODE:
                return []
            raise
        if not result:
            return []
        return list(result) if isinstance(result, list) else [result]

    async def send_message(self, chat_id: str, text: str) -> None:
        await self.call("sendMessage", chat_id=chat_id, text=text)


class ZaloBotChannel:
    name = NAME

    def __init__(self, client: ZaloBotClient, store: Store, handle: Handler,
                 webhook_secret: str | None = None, public_url: str | None = None, outbound_rate: float | None = None):
        self.client = client
        self.outbound_rate = outbound_rate
        """Messages per second the notifier sends here (the platform answers 429 past its quota)."""
        self.store = store
        self.handle = handle
        self.webhook_secret = webhook_secret
        self.public_url = public_url
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, web_server: WebServer | None) -> None:
        if self.webhook_secret is not None:
            if web_server is None:
                raise RuntimeError("webhook mode needs the web server")
            web_server.route("/webhooks/zalo-bot", self.webhook)
            if self.public_url:
                await self.client.call("setWebhook", url=f"{self.public_url.rstrip('/')}/webhooks/zalo-bot",
                                       secret_token=self.webhook_secret)
        else:
            await self.client.call("deleteWebhook")
            self._poller = asyncio.create_task(self.poll(), name="zalo-bot-poller")

    async def stop(self) -> None:
        if self._poller:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    async def poll(self) -> None:
        delay = 1.0
        while True:
            try:
                for event in await self.client.get_updates():
                    await self.handle_event(event)
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("zalo-bot: polling failed (%s); retrying in %.0f s",
                            exc if isinstance(exc, ZaloBotError) else type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(60.0, delay * 2)

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Bot-Api-Secret-Token", "")
        if not self.webhook_secret or not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return web.json_response({"ok": False}, status=403)
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            # only the platform holds the secret: a client error it need not retry, and no
            # traceback; the body is not logged, it may hold a citizen's message
            log.warning("zalo-bot: webhook body of %d bytes is not JSON (%s); answered 400",
                        len(raw), type(exc).__name__)
            return web.json_response({"ok": False}, status=400)
        event = body.get("result", body) if isinstance(body, dict) else None
        if isinstance(event, dict):
            task = asyncio.create_task(self.handle_event(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.json_response({"ok": True})

    async def handle_event(self, event: dict[str, Any]) -> None:
        try:
            message = event.get("message") or {}
            if not isinstance(message, dict):
                return   # not shaped as the Zalo Bot API documents a message: nothing to answer
            chat_of, sender = message.get("chat") or {}, message.get("from") or {}
            chat = str((chat_of.get("id") if isinstance(chat_of, dict) else None)
                       or (sender.get("id") if isinstance(sender, dict) else None) or "")
            message_id = str(message.get("message_id") or "")
            if not chat or (message_id and not await self.store.first_sight(NAME, message_id)):
                return
            name = event.get("event_name", "")
            if name == "message.text.received":
                replies = await self.handle(Incoming(NAME, chat, text=str(message.get("text") or "")))
            else:
                # a sticker, a photo, an unsupported message: the dialog answers a message without text
                replies = await self.handle(Incoming(NAME, chat))
            await self.send(chat, replies)
        except Exception:
            log.exception("zalo-bot: event handling failed")

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None:
        for reply in replies:
            for piece in split_text(numbered(reply), LIMIT) or ["…"]:
                await self.client.send_message(user, piece)


def build(parts: Parts) -> ZaloBotChannel:
    client = ZaloBotClient(parts.http, parts.config.zalo_bot_base_url, parts.secrets["ZALO_BOT_TOKEN"])
    webhook_secret = parts.secrets["ZALO_BOT_WEBHOOK_SECRET"] if parts.options.zalo_bot_webhook else None
    return ZaloBotChannel(client, parts.store, parts.handle, webhook_secret, parts.options.public_url,
                          parts.config.zalo_bot_rate)
