"""Zalo Official Account (Open API v3): webhook events in, customer-service messages out.

A small async client over the bot's shared aiohttp session (`bot.channels.http`); no
maintained Python library exists (see the project's channel reference). What Zalo's public
documentation leaves open is decided here, written down, and configurable where it may differ
in practice:

- Signature: `X-ZEvent-Signature: mac=<sha256 hex of app_id + raw body + timestamp + OA secret
  key>` (plain SHA-256, not HMAC; the body's `timestamp` field, in milliseconds). It is checked
  over the raw bytes, in constant time, before the body is parsed: a stranger's post costs a
  header check and at most a few hashes, never a JSON parse (a deeply nested body used to
  crash the parser and log a traceback per request). Events older than
  `zalo.signature_max_age_seconds` (default 300), or stamped more than `MAX_FUTURE_SKEW` ahead
  of our clock, are refused as replays.
- Re-deliveries: an event is handled once, known by its `msg_id`, or, when Zalo sends none, by
  a hash of its signed body (which holds the timestamp, so two identical texts differ).
- Buttons: Zalo documents `oa.query.hide` buttons, which send their payload back as a user
  message, but not whether `/v3.0/oa/message/cs` accepts a button template. Replies with at
  most five buttons are sent as a template (`zalo.oa_buttons: template`); if Zalo refuses it
  the same message goes again as numbered choices, and `zalo.oa_buttons: numbered` skips the
  attempt. A button's payload is `#<action>`, translated back to an action when it arrives.
- Tokens: the access token lives about 25 hours; the refresh token is single-use. A new pair
  is written to the database before it is used, so a crash right after a refresh never loses
  it. The environment's tokens are used only on the very first start.
- Reply window: replies are free for 48 hours after the citizen's last message, 8 of them. A
  case notification outside the window is sent as a transaction message when
  `zalo.oa_notify_template: transaction` (needs a verified OA and quota); otherwise it waits
  in the outbox and goes out when the citizen next writes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
from aiohttp import web

from bot.channels import http
from bot.channels.base import numbered, split_text
from bot.channels.registry import Parts
from bot.clock import now
from bot.config import ZaloOASettings
from bot.logs import remember_secret
from bot.messages import DeferDelivery, Handler, Incoming, Reply
from bot.storage import Store
from bot.web import WebServer

log = logging.getLogger(__name__)

NAME = "zalo-oa"
LIMIT = 2000
MAX_TEMPLATE_BUTTONS = 5
WINDOW = dt.timedelta(hours=48)
WINDOW_MESSAGES = 8
REFRESH_BEFORE = dt.timedelta(hours=1)
ACTION_PREFIX = "#"
INVALID_TOKEN = -216
MAX_FUTURE_SKEW = 60.0
MAX_PENDING = 1000
"""Events acknowledged but not yet answered; past this the webhook says 503 (R21: every event
became a task, without bound)."""
"""Seconds an event may be stamped ahead of our clock: room for clock drift, not for events
signed in advance (the past side is `signature_max_age`)."""
MAC = re.compile(r"mac=([0-9a-f]{64})")
"""The header's shape; anything else is refused before the body is even looked at."""
TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?([0-9]{1,15})"?')
"""Where the signed timestamp may sit in the raw body. Inside a JSON string a quote is escaped,
so only a key matches; the top-level one is confirmed after parsing."""
MAX_TIMESTAMP_CANDIDATES = 3
"""A real event carries one `timestamp` key or very few; trying more would let an unsigned
body full of them buy one hash of up to 1 MiB per key."""


class ZaloError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code


@dataclass(frozen=True)
class OASecrets:
    app_id: str
    app_secret: str
    oa_secret_key: str
    access_token: str = ""
    refresh_token: str = ""


def signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    return hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()).hexdigest()


class ZaloOAClient:
    """Sends OA messages, refreshing the access token before it expires or when Zalo refuses it."""

    def __init__(self, session: aiohttp.ClientSession, store: Store, secrets: OASecrets, settings: ZaloOASettings):
        self.session = session
        self.store = store
        self.secrets = secrets
        self.settings = settings
        self._lock = asyncio.Lock()

    async def ensure_tokens(self) -> None:
        """First start: take the pair from the environment; later: the stored pair wins."""
        if await self.store.tokens(NAME) is None:
            if not (self.secrets.access_token and self.secrets.refresh_token):
                raise ZaloError(0, "no OA tokens: set ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN "
                                   "for the first start")
            # unknown age: refresh within the hour rather than trust it for 25
            await self.store.save_tokens(NAME, self.secrets.access_token, self.secrets.refresh_token,
                                         now() + REFRESH_BEFORE)

    async def access_token(self) -> str:
        row = await self.store.tokens(NAME)
        if row is None:
            raise ZaloError(0, "no OA tokens")
        if row.expires_at - now() <= REFRESH_BEFORE:
            return await self.refresh(row.access_token)
        return row.access_token

    async def refresh(self, stale: str) -> str:
        """A new pair, unless another task refreshed meanwhile (the refresh token is single-use)."""
        async with self._lock:
            row = await self.store.tokens(NAME)
            if row is None:
                raise ZaloError(0, "no OA tokens")
            if row.access_token != stale and row.expires_at - now() > REFRESH_BEFORE:
                return row.access_token
            response = await http.post(
                self.session, f"{self.settings.oauth_url}/v4/oa/access_token",
                headers={"secret_key": self.secrets.app_secret},
                form={"grant_type": "refresh_token", "refresh_token": row.refresh_token,
                      "app_id": self.secrets.app_id},
            )
            data = response.json()
            if "access_token" not in data:
                raise ZaloError(int(data.get("error", -1)), str(data.get("error_name") or data.get("message")))
            expires = now() + dt.timedelta(seconds=int(data.get("expires_in", 90000)))
            remember_secret(data["access_token"])
            remember_secret(data["refresh_token"])
            await self.store.save_tokens(NAME, data["access_token"], data["refresh_token"], expires)
            log.info("zalo-oa: access token refreshed")
            return str(data["access_token"])

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self.access_token()
        for attempt in (1, 2):
            response = await http.post(self.session, f"{self.settings.base_url}{path}", json_body=body,
                                       headers={"access_token": token})
            data = response.json()
            code = int(data.get("error", 0))
            if code == INVALID_TOKEN and attempt == 1:
                token = await self.refresh(token)
                continue
            if code != 0:
                raise ZaloError(code, str(data.get("message")))
            return cast(dict[str, Any], data)
        raise ZaloError(INVALID_TOKEN, "access token refused after refresh")

    async def send_text(self, user_id: str, text: str, buttons: list[dict[str, str]] | None = None,
                        path: str = "/v3.0/oa/message/cs") -> None:
        message: dict[str, Any] = {"text": text}
        if buttons:
            message["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
        await self.post(path, {"recipient": {"user_id": user_id}, "message": message})


class ZaloOAChannel:
    """The OA adapter: verify and acknowledge webhook events, answer through the dialog."""

    name = NAME

    def __init__(self, client: ZaloOAClient, store: Store, handle: Handler, clock: Callable[[], float] = time.time):
        self.client = client
        self.store = store
        self.handle = handle
        self.settings = client.settings
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, web_server: WebServer | None) -> None:
        if web_server is None:
            raise RuntimeError("the OA receives messages only by webhook: it needs the web server")
        await self.client.ensure_tokens()
        web_server.route("/webhooks/zalo-oa", self.webhook)

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    def signed_timestamp(self, raw: bytes, header: str) -> int | None:
        """The timestamp (ms) the signature covers, if the header signs these exact bytes.

        Runs before any parsing, so an unsigned or forged body, however large or nested, is
        refused at the cost of a regular-expression scan and at most a few hashes."""
        match = MAC.fullmatch(header.strip().lower())
        if match is None:
            return None
        given = match.group(1).encode()
        secrets = self.client.secrets
        for candidate in itertools.islice(TIMESTAMP.finditer(raw), MAX_TIMESTAMP_CANDIDATES):
            timestamp = candidate.group(1).decode()
            expected = signature(secrets.app_id, raw, timestamp, secrets.oa_secret_key).encode()
            if hmac.compare_digest(expected, given):
                return int(timestamp)
        return None

    def fresh(self, timestamp_ms: int) -> bool:
        """Within the replay window: not older than `signature_max_age`, not more than
        `MAX_FUTURE_SKEW` ahead (an event from the future was signed for a later replay)."""
        ahead = timestamp_ms / 1000 - self.clock()
        return -self.settings.signature_max_age <= ahead <= MAX_FUTURE_SKEW

    def verify(self, raw: bytes, header: str) -> dict[str, Any] | None:
        """The event if its signature is right and fresh; None otherwise (and nothing happens).

        Authenticity and freshness first, on the raw bytes; only then is the body parsed, and
        its top-level `timestamp` must be the one the signature covered."""
        timestamp = self.signed_timestamp(raw, header)
        if timestamp is None or not self.fresh(timestamp):
            return None
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            log.warning("zalo-oa: a signed event is not JSON (%s); refused", type(exc).__name__)
            return None
        if not isinstance(event, dict) or str(event.get("timestamp")) != str(timestamp):
            return None
        if str(event.get("app_id", self.client.secrets.app_id)) != self.client.secrets.app_id:
            return None
        return event

    async def webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        event = self.verify(raw, request.headers.get("X-ZEvent-Signature", ""))
        if event is None:
            return web.json_response({"error": "invalid signature"}, status=401)
        if len(self._tasks) >= MAX_PENDING:
            # a flood: refuse rather than hold unbounded work; Zalo sends a refused event again later
            return web.json_response({"error": "busy"}, status=503)
        # Zalo wants an answer within 2 seconds: acknowledge, then handle the event
        task = asyncio.create_task(self.handle_event(event, hashlib.sha256(raw).hexdigest()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"received": True})

    async def handle_event(self, event: dict[str, Any], body_hash: str) -> None:
        """One verified event. `body_hash` identifies a re-delivery of an event without a
        `msg_id`: the signed body, timestamp included, is the event's only identity then."""
        try:
            sender, message = event.get("sender"), event.get("message") or {}
            if event.get("event_name") != "user_send_text" or not isinstance(sender, dict) \
                    or not sender.get("id") or not isinstance(message, dict):
                return   # not a citizen's text, or not shaped as Zalo documents it: nothing to answer
            user = str(sender["id"])
            msg_id = str(message.get("msg_id") or "")
            if not await self.store.first_sight(NAME, msg_id or f"body:{body_hash}"):
                return
            await self.store.note_inbound(NAME, user)
            text = str(message.get("text") or "")
            if text.startswith(ACTION_PREFIX) and len(text) > 1 and " " not in text:
                incoming = Incoming(NAME, user, action=text[1:])
            else:
                incoming = Incoming(NAME, user, text=text)
            await self.send(user, await self.handle(incoming))
        except Exception:
            log.exception("zalo-oa: event handling failed")

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None:
        path = "/v3.0/oa/message/cs"
        if proactive:
            window = await self.store.reply_window(NAME, user)
            open_ = window is not None and now() - window[0] < WINDOW and window[1] < WINDOW_MESSAGES
            if not open_:
                if self.settings.notify_template != "transaction":
                    raise DeferDelivery("outside Zalo's 48-hour reply window; sent when the citizen next writes")
                path = "/v3.0/oa/message/transaction"
        for reply in replies:
            await self._send_reply(user, reply, path)

    async def _send_reply(self, user: str, reply: Reply, path: str) -> None:
        use_template = (self.settings.buttons == "template" and 0 < len(reply.buttons) <= MAX_TEMPLATE_BUTTONS)
        pieces = split_text(reply.text if use_template else numbered(reply), LIMIT) or ["…"]
        for i, piece in enumerate(pieces):
            buttons = None
            if use_template and i == len(pieces) - 1:
                buttons = [{"title": b.label[:100], "type": "oa.query.hide", "payload": f"{ACTION_PREFIX}{b.action}"}
                           for b in reply.buttons]
            try:
                await self.client.send_text(user, piece, buttons, path)
            except ZaloError:
                if not buttons:
                    raise
                log.info("zalo-oa: button template refused, sending numbered choices")
                for fallback in split_text(numbered(Reply(piece, reply.buttons)), LIMIT):
                    await self.client.send_text(user, fallback, None, path)
            await self.store.note_sent(NAME, user)


def build(parts: Parts) -> ZaloOAChannel:
    env = parts.secrets
    secrets = OASecrets(env["ZALO_APP_ID"], env["ZALO_APP_SECRET"], env["ZALO_OA_SECRET_KEY"],
                        env.get("ZALO_OA_ACCESS_TOKEN", ""), env.get("ZALO_OA_REFRESH_TOKEN", ""))
    client = ZaloOAClient(parts.http, parts.store, secrets, parts.config.zalo_oa)
    return ZaloOAChannel(client, parts.store, parts.handle)
