"""Zalo Official Account (Open API v3): webhook events in, customer-service messages out.

A small async client over the bot's shared aiohttp session (`bot.channels.http`); no
maintained Python library exists (see the project's channel reference). Facts are from the
channel audit (`shared/audits/channels.md`, rows cited as "row N"); what Zalo leaves open is
decided here, written down, and configurable where it may differ in practice:

- Signature (rows 1-4): `X-ZEvent-Signature: mac=<sha256 hex of app_id + raw body + timestamp +
  OA secret key>`, plain SHA-256 over the raw bytes, the body's `timestamp` in milliseconds,
  checked in constant time before the body is parsed: a stranger's post costs a header check
  and at most a few hashes, never a JSON parse.
- Retries (rows 5-6): Zalo re-sends an event it got no 200 for after 30 s, 5, 15, 30 min and
  1 h, with its first timestamp and a `num_retry` header. A signed event is accepted for
  `zalo.signature_max_age_seconds` (three hours by default, the ladder with room to spare), and
  handled once, known by its `msg_id` or, without one, by a hash of its signed body.
- Registration (row 7): Zalo verifies the domain by a file at its root, served here from
  `zalo.oa_verifier_file`, and probes the webhook URL when it is saved, by a GET or an unsigned
  POST of `{}`: both get 200 and nothing is processed.
- Events (row 9): `follow` gets the welcome; an image, a sticker, a file (any other
  `user_send_*`) gets the sentence saying the bot reads text; `unfollow` and the rest nothing.
- Buttons (row 13): Zalo's SDKs do not confirm the button template on `/message/cs`. Choices
  therefore stay numbered in the text, and with `zalo.oa_buttons: template` (at most five) the
  same message also carries `oa.query.hide` buttons: if Zalo drops them, the message still
  works; if it refuses them, it goes again without. A payload `#<action>` comes back as text.
- Tokens (rows 15, 17-19): the access token lives 25 hours, the refresh token three months from
  issue and once. `-216` and `-220` mean the access token is dead: refresh and try once more. A
  task renews the pair every day whether or not anything is sent, so an idle OA never loses its
  grant; when Zalo refuses to renew it, the error is logged and kept as an alert for staff
  (`motcua notifications --failed`) with what to do, and a new pair set in the environment is
  taken at the next start.
- Reply window (row 16): replies are free and unlimited for 48 hours after the citizen's last
  message, billable up to 7 days, then refused with `-230`. The channel declares this window;
  the notifier decides what to do outside it (`bot.notifier`): the approved ZBS template
  (`POST /v3.0/oa/message/template`, row 14: the UID transaction messages ended on 1 March
  2026) when `zalo.oa_template.id` is set, otherwise waiting for the citizen.
- Permanent refusals (row 15): not a follower or blocked (`-213`), out of the 7-day window
  (`-230`, `-232`), a wrong template or template data (`-109`, `-111`, `-112`, Zalo's ZNS error
  table) raise `Undeliverable`; the notifier sets such a message aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiohttp import web

from bot import actions, wording
from bot.channels import http
from bot.channels.base import numbered, split_text
from bot.channels.registry import Parts
from bot.clock import now
from bot.config import ZaloOASettings
from bot.logs import remember_secret
from bot.messages import Handler, Incoming, Reply, Undeliverable
from bot.notifier import ReplyWindow
from bot.storage import Store
from bot.web import Handler as WebHandler
from bot.web import WebServer

log = logging.getLogger(__name__)

NAME = "zalo-oa"
LIMIT = 2000
MAX_TEMPLATE_BUTTONS = 5
FREE_WINDOW = dt.timedelta(hours=48)
LONGEST_WINDOW = dt.timedelta(days=7)
REFRESH_BEFORE = dt.timedelta(hours=1)
KEEP_FRESH_EVERY = 3600.0
"""Seconds between looks at the token's expiry: the pair is renewed within the hour before the
access token's 25 hours end, so about daily, far inside the refresh token's three months."""
ACTION_PREFIX = "#"
TOKEN_ERRORS = frozenset({-216, -220})
"""Invalid access token; access token expired or removed (Zalo's error table, audit row 15)."""
PERMANENT_ERRORS = frozenset({-213, -230, -232, -109, -111, -112})
"""Not a follower or blocked; no interaction in 7 days; template id, empty or invalid template
data (OA error table, audit row 15; ZNS error table, zalo.cloud/zns/guidelines/handle-error-code)."""
MAX_FUTURE_SKEW = 60.0
"""Seconds an event may be stamped ahead of our clock: room for clock drift, not for events
signed in advance (the past side is `signature_max_age`)."""
MAX_PENDING = 1000
"""Events acknowledged but not yet answered; past this the webhook says 503 (R21: every event
became a task, without bound)."""
MAC = re.compile(r"mac=([0-9a-f]{64})")
"""The header's shape; anything else is refused before the body is even looked at."""
TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?([0-9]{1,15})"?')
"""Where the signed timestamp may sit in the raw body. Inside a JSON string a quote is escaped,
so only a key matches; the top-level one is confirmed after parsing."""
MAX_TIMESTAMP_CANDIDATES = 3
"""A real event carries one `timestamp` key or very few; trying more would let an unsigned
body full of them buy one hash of up to 1 MiB per key."""
PROBES = (b"", b"{}")
"""Unsigned bodies Zalo may post when the webhook URL is saved (audit row 7): answered 200."""
WELCOME = actions.encode(actions.Menu())


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
        """First start: take the pair from the environment; later: the stored pair wins, unless
        Zalo refused to renew it and the administrator has set a new pair since."""
        stored = await self.store.tokens(NAME)
        given = self.secrets.access_token and self.secrets.refresh_token
        regranted = stored is not None and bool(given) and self.secrets.refresh_token != stored.refresh_token \
            and any(channel == NAME for channel, _, _ in await self.store.alerts())
        if stored is None or regranted:
            if not given:
                raise ZaloError(0, "no OA tokens: set ZALO_OA_ACCESS_TOKEN and ZALO_OA_REFRESH_TOKEN "
                                   "for the first start")
            # unknown age: refresh within the hour rather than trust it for 25
            await self.store.save_tokens(NAME, self.secrets.access_token, self.secrets.refresh_token,
                                         now() + REFRESH_BEFORE)
            if regranted:
                await self.store.clear_alert(NAME)
                log.info("zalo-oa: the new token pair from the environment replaces the refused one")

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
                error = ZaloError(int(data.get("error", -1)), str(data.get("error_name") or data.get("message")))
                problem = wording.ZALO_OA_REFRESH_FAILED.format(error=error)
                log.error("zalo-oa: %s", problem)
                await self.store.raise_alert(NAME, problem)
                raise error
            expires = now() + dt.timedelta(seconds=int(data.get("expires_in", 90000)))
            remember_secret(data["access_token"])
            remember_secret(data["refresh_token"])
            await self.store.save_tokens(NAME, data["access_token"], data["refresh_token"], expires)
            await self.store.clear_alert(NAME)
            log.info("zalo-oa: access token refreshed")
            return str(data["access_token"])

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self.access_token()
        for attempt in (1, 2):
            response = await http.post(self.session, f"{self.settings.base_url}{path}", json_body=body,
                                       headers={"access_token": token})
            data = response.json()
            code = int(data.get("error", 0))
            if code in TOKEN_ERRORS and attempt == 1:
                token = await self.refresh(token)
                continue
            break
        if code != 0:
            raise ZaloError(code, str(data.get("message")))
        return cast(dict[str, Any], data)

    async def send_text(self, user_id: str, text: str, buttons: list[dict[str, str]] | None = None) -> None:
        message: dict[str, Any] = {"text": text}
        if buttons:
            message["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
        await self.post("/v3.0/oa/message/cs", {"recipient": {"user_id": user_id}, "message": message})

    async def send_template(self, user_id: str, template_id: str, data: Mapping[str, str]) -> None:
        """A ZBS template message by user id (audit row 14: the UID transaction service ended)."""
        await self.post("/v3.0/oa/message/template",
                        {"user_id": user_id, "template_id": template_id, "template_data": dict(data)})


class ZaloOAChannel:
    """The OA adapter: verify and acknowledge webhook events, answer through the dialog."""

    name = NAME

    def __init__(self, client: ZaloOAClient, store: Store, handle: Handler, clock: Callable[[], float] = time.time):
        self.client = client
        self.store = store
        self.handle = handle
        self.settings = client.settings
        self.clock = clock
        self.window = ReplyWindow(FREE_WINDOW, LONGEST_WINDOW, self.settings.billable_replies,
                                  self.settings.template_id is not None)
        self.outbound_rate = self.settings.max_rate
        self._tasks: set[asyncio.Task[None]] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self, web_server: WebServer | None) -> None:
        if web_server is None:
            raise RuntimeError("the OA receives messages only by webhook: it needs the web server")
        await self.client.ensure_tokens()
        web_server.route("/webhooks/zalo-oa", self.webhook)
        web_server.route("/webhooks/zalo-oa", self.probe, method="GET")
        if self.settings.verifier_file is not None:
            web_server.route(f"/{self.settings.verifier_file.name}",
                             verifier(self.settings.verifier_file), method="GET")
        self._keeper = asyncio.create_task(self.keep_tokens_fresh(), name="zalo-oa-tokens")

    async def stop(self) -> None:
        self._stopping.set()
        if self._keeper is not None:
            # not cancelled: a refresh cut off between Zalo's answer and saving it would lose
            # the new single-use refresh token
            await self._keeper
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    async def keep_tokens_fresh(self) -> None:
        """Renew the pair before the access token ends even when nothing is sent: the refresh
        token lapses three months after issue, and only an administrator can grant it again."""
        while not self._stopping.is_set():
            with contextlib.suppress(ZaloError, aiohttp.ClientError, TimeoutError, ValueError):
                await self.client.access_token()   # a refused refresh is logged and alerted there
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), KEEP_FRESH_EVERY)

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
        """Within the replay window: not older than `signature_max_age` (Zalo's whole retry
        ladder), not more than `MAX_FUTURE_SKEW` ahead (an event from the future was signed
        for a later replay)."""
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

    async def probe(self, request: web.Request) -> web.Response:
        """Zalo checks the URL when an administrator saves it (audit row 7): 200, nothing else."""
        return web.json_response({"received": False})

    async def webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        header = request.headers.get("X-ZEvent-Signature")
        if header is None and raw.strip() in PROBES:
            return await self.probe(request)
        event = self.verify(raw, header or "")
        if event is None:
            return web.json_response({"error": "invalid signature"}, status=401)
        if len(self._tasks) >= MAX_PENDING:
            # a flood: refuse rather than hold unbounded work; Zalo sends a refused event again later
            return web.json_response({"error": "busy"}, status=503)
        if request.headers.get("num_retry"):
            log.info("zalo-oa: Zalo's retry %s of an event", request.headers["num_retry"][:4])
        # Zalo wants an answer within 2 seconds: acknowledge, then handle the event
        task = asyncio.create_task(self.handle_event(event, hashlib.sha256(raw).hexdigest()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"received": True})

    async def handle_event(self, event: dict[str, Any], body_hash: str) -> None:
        """One verified event. `body_hash` identifies a re-delivery of an event without a
        `msg_id`: the signed body, timestamp included, is the event's only identity then."""
        try:
            incoming = self.incoming(event)
            if incoming is None:
                return   # not a citizen's message, or not shaped as Zalo documents it: nothing to answer
            message = event.get("message")
            msg_id = str(message.get("msg_id") or "") if isinstance(message, dict) else ""
            if not await self.store.first_sight(NAME, msg_id or f"body:{body_hash}"):
                return
            await self.store.note_inbound(NAME, incoming.user)
            await self.send(incoming.user, await self.handle(incoming))
        except Exception:
            log.exception("zalo-oa: event handling failed")

    @staticmethod
    def incoming(event: dict[str, Any]) -> Incoming | None:
        """What the dialog should see of an event (audit rows 8-10): a text or a button's
        payload; the welcome for a new follower; a message without text for an image, a
        sticker, a file. None for everything else."""
        name = str(event.get("event_name") or "")
        if name == "follow":
            follower = event.get("follower")
            user = follower.get("id") if isinstance(follower, dict) else None
            return Incoming(NAME, str(user), action=WELCOME) if user else None
        sender, message = event.get("sender"), event.get("message")
        if not name.startswith("user_send_") or not isinstance(sender, dict) or not sender.get("id") \
                or not isinstance(message, dict):
            return None
        user = str(sender["id"])
        if name != "user_send_text":
            return Incoming(NAME, user)
        text = str(message.get("text") or "")
        if text.startswith(ACTION_PREFIX) and len(text) > 1 and " " not in text:
            return Incoming(NAME, user, action=text[1:])
        return Incoming(NAME, user, text=text)

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None:
        """Replies as consultation messages; whether one may go now is the notifier's call."""
        try:
            for reply in replies:
                await self._send_reply(user, reply)
        except ZaloError as exc:
            refusal = permanent(exc)
            if refusal is None:
                raise
            raise refusal from exc

    async def send_template(self, user: str, fields: Mapping[str, str]) -> None:
        """The notification as the office's approved template, its parameters filled from our
        fields as `zalo.oa_template.params` maps them."""
        if self.settings.template_id is None:
            raise Undeliverable("no Zalo template configured")
        data = {param: fields.get(field) or "-" for param, field in self.settings.template_params}
        try:
            await self.client.send_template(user, self.settings.template_id, data)
        except ZaloError as exc:
            refusal = permanent(exc)
            if refusal is None:
                raise
            raise refusal from exc

    async def _send_reply(self, user: str, reply: Reply) -> None:
        use_template = (self.settings.buttons == "template" and 0 < len(reply.buttons) <= MAX_TEMPLATE_BUTTONS)
        pieces = split_text(numbered(reply), LIMIT) or ["…"]
        for i, piece in enumerate(pieces):
            buttons = None
            if use_template and i == len(pieces) - 1:
                buttons = [{"title": b.label[:100], "type": "oa.query.hide", "payload": f"{ACTION_PREFIX}{b.action}"}
                           for b in reply.buttons]
            try:
                await self.client.send_text(user, piece, buttons)
            except ZaloError as exc:
                if not buttons or exc.code in PERMANENT_ERRORS:
                    raise
                log.info("zalo-oa: button template refused (%s), sending the numbered text alone", exc.code)
                await self.client.send_text(user, piece)


def permanent(error: ZaloError) -> Undeliverable | None:
    """Zalo's refusals that no retry can change, as the core's `Undeliverable`."""
    return Undeliverable(str(error)) if error.code in PERMANENT_ERRORS else None


def verifier(file: Path) -> WebHandler:
    """Serves Zalo's domain verification file (audit row 7), read once at start."""
    content = file.read_bytes()

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=content, content_type="text/html")

    return serve


def build(parts: Parts) -> ZaloOAChannel:
    env = parts.secrets
    secrets = OASecrets(env["ZALO_APP_ID"], env["ZALO_APP_SECRET"], env["ZALO_OA_SECRET_KEY"],
                        env.get("ZALO_OA_ACCESS_TOKEN", ""), env.get("ZALO_OA_REFRESH_TOKEN", ""))
    client = ZaloOAClient(parts.http, parts.store, secrets, parts.config.zalo_oa)
    return ZaloOAChannel(client, parts.store, parts.handle)
