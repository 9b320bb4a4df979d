"""Fake Zalo API servers, so our own Zalo clients run in tests offline.

Two unrelated Zalo products, one fake each (facts: ``/work/shared/reference/channels.md`` §2):

* ``FakeZaloOA`` — the Official Account Open API v3 (``/v3.0/oa/message/cs`` and
  ``/message/transaction``) plus the OAuth v4 token refresh (``/v4/oa/access_token``) on the same
  server.  Zalo answers OA errors with HTTP 200 and a non-zero ``error`` in the body, so does the
  fake.  Access tokens expire only when a test says so (``expire_access_tokens``) and refresh
  tokens are single-use, the two token rules a real OA client most often gets wrong.  It also
  builds signed webhook events (``text_event``, ``event``) for tests to POST to our server.
* ``FakeZaloBot`` — the Telegram-like Bot Platform (``/bot<TOKEN>/<method>``).  Unlike Telegram
  there is no offset: ``getUpdates`` hands out ONE event per call, an empty long poll ends in
  HTTP 408, and ``redeliver_last`` models the platform re-sending consumed events, so clients
  must de-duplicate by ``message_id``.

Both listen on 127.0.0.1 with an OS-chosen port, record every request, and let tests wait for
calls through an event (never sleep-polling).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from aiohttp import web

from tests.fakes.server import FakeServer, recorded

JSON = dict[str, Any]

OA_SEND_PATHS: Final = ("/v3.0/oa/message/cs", "/v3.0/oa/message/transaction")
OAUTH_PATH: Final = "/v4/oa/access_token"
MAX_OA_TEXT_LENGTH: Final = 2000

MAX_BOT_TEXT_LENGTH: Final = 2000
DEFAULT_POLL_SECONDS: Final = 30.0
MAX_POLL_SECONDS: Final = 50.0
"""The Bot Platform default and cap for ``getUpdates``' ``timeout`` (seconds, sent as a string)."""

BOT_SENT_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendSticker"})


def _now_ms() -> int:
    """Both Zalo APIs give times in milliseconds since the epoch."""
    return int(time.time() * 1000)


def _summary(name: str, data: JSON, outcome: str) -> str:
    """One line per call for timeout messages, shortened so a long log stays readable."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{name} {text} {outcome}"


# ====================================================================== Official Account


@dataclass
class OACall:
    """One request to the fake OA server, kept so tests can assert on it.

    ``headers`` has lower-cased names.  ``body`` is the decoded JSON object (``{}`` when it was
    not one), or the form fields for OAuth.  ``ok`` is False when the answer was an error (the
    HTTP status is 200 either way, as on Zalo); ``response`` is the JSON the client received.
    """

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    ok: bool = True
    response: JSON = field(default_factory=dict)

    @property
    def user_id(self) -> str | None:
        """The recipient of a send call, for filtering."""
        recipient = self.body.get("recipient")
        value = recipient.get("user_id") if isinstance(recipient, dict) else None
        return value if isinstance(value, str) else None

    def summary(self) -> str:
        """One line for failure messages: path, short body and outcome."""
        reason = self.response.get("message") or self.response.get("error_name")
        outcome = "ok" if self.ok else f"-> {self.response.get('error')} {reason}"
        return _summary(self.path, self.body, outcome)


@dataclass
class _OAFailure:
    """A queued failure from ``FakeZaloOA.fail_next``."""

    error: int
    message: str


class _OAError(Exception):
    """Raised by OA handlers to answer an error body (with HTTP 200, like Zalo)."""

    def __init__(self, body: JSON) -> None:
        super().__init__(str(body))
        self.body = body


def _oa_error(error: int, message: str) -> _OAError:
    return _OAError({"error": error, "message": message})


def _oauth_error(error: int, name: str, description: str) -> _OAError:
    return _OAError({"error": error, "error_name": name, "error_description": description})


class _ZaloServer(FakeServer):
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the API paths follow."""
        return self.origin


class FakeZaloOA(_ZaloServer):
    """An in-process Zalo OA Open API v3 + OAuth v4 server for tests.

    Send with ``POST {base_url}/v3.0/oa/message/cs`` (header ``access_token``), refresh with
    ``POST {oauth_url}/v4/oa/access_token`` (header ``secret_key``, form fields).
    """

    oa_id: ClassVar[str] = "oa-1"
    """The OA's id as it appears in ``recipient.id`` of webhook events."""

    reject_templates: bool = False
    """When True, messages with an ``attachment`` are refused (an OA without template rights)."""

    def __init__(
        self,
        *,
        app_id: str = "app-123",
        app_secret: str = "app-secret",
        oa_secret_key: str = "oa-secret",
        access_token: str = "at-0",
        refresh_token: str = "rt-0",
        expires_in: int = 90000,
    ) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.oa_secret_key = oa_secret_key
        self.expires_in = expires_in
        self.calls: list[OACall] = []
        self.refresh_count = 0
        self.access_tokens: set[str] = {access_token}
        """Access tokens currently accepted."""
        self.refresh_token = refresh_token
        """The only refresh token currently accepted (each one works once)."""
        self._token_numbers = itertools.count(1)
        self._ids = itertools.count(1)
        self._failures: dict[str, deque[_OAFailure]] = {}

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{path:.*}", self._handle)

    @property
    def oauth_url(self) -> str:
        """Stand-in for ``https://oauth.zaloapp.com``; the same server as ``base_url``."""
        return self.base_url

    # ------------------------------------------------------------------ test-side API

    def expire_access_tokens(self) -> None:
        """Invalidate every access token issued so far, as if their 25 h had passed."""
        self.access_tokens.clear()

    def fail_next(
        self, path: str, times: int = 1, *, error: int = -32, message: str = "Server busy"
    ) -> None:
        """Make the next ``times`` authorised calls to ``path`` fail with ``error``, to test
        the client's error handling and retries (OAuth gets OAuth's error shape)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        queue = self._failures.setdefault(self._normalise(path), deque())
        queue.extend(_OAFailure(error, message) for _ in range(times))

    async def wait_for(
        self, path: str, count: int = 1, *, timeout: float = 10.0, user_id: str | None = None
    ) -> list[OACall]:
        """Wait until at least ``count`` successful calls to ``path`` (to ``user_id``) exist.

        Event-driven, never sleep-polling.  Returns all matching calls; on timeout raises
        ``TimeoutError`` listing what the client did call, which usually explains the failure.
        """
        wanted = self._normalise(path)

        def matching() -> list[OACall]:
            return [
                call
                for call in self.calls
                if call.ok
                and call.path == wanted
                and (user_id is None or call.user_id == user_id)
            ]

        try:
            await self._signal.wait_until(lambda: len(matching()) >= count, timeout)
        except TimeoutError:
            target = f" to user {user_id}" if user_id is not None else ""
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {count} successful {wanted} call(s)"
                f"{target}; found {len(matching())}. {recorded(self.calls)}"
            ) from None
        return matching()

    def sent(self, user_id: str | None = None) -> list[OACall]:
        """Successful ``/message/cs`` and ``/message/transaction`` calls, in order."""
        return [
            call
            for call in self.calls
            if call.ok
            and call.path in OA_SEND_PATHS
            and (user_id is None or call.user_id == user_id)
        ]

    # ------------------------------------------------------------------ webhook events

    @staticmethod
    def sign(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
        """The ``X-ZEvent-Signature`` value: ``mac=`` + plain SHA-256 (not HMAC) of
        app_id + raw body + timestamp + OA secret key (not the app secret)."""
        data = app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()
        return "mac=" + hashlib.sha256(data).hexdigest()

    def text_event(
        self,
        user_id: str,
        text: str,
        *,
        msg_id: str | None = None,
        timestamp_ms: int | None = None,
        without_msg_id: bool = False,
    ) -> tuple[bytes, dict[str, str]]:
        """A signed ``user_send_text`` webhook POST: (raw JSON body, headers).

        ``without_msg_id`` leaves ``message.msg_id`` out, as some captured events do (audit
        R17): a receiver must not count on it to recognise a re-delivery."""
        message: JSON = {"text": text}
        if msg_id is not None:
            message["msg_id"] = msg_id
        return self.event("user_send_text", user_id, message, timestamp_ms=timestamp_ms,
                          without_msg_id=without_msg_id)

    def event(
        self,
        event_name: str,
        user_id: str,
        message: dict[str, Any] | None = None,
        *,
        timestamp_ms: int | None = None,
        without_msg_id: bool = False,
    ) -> tuple[bytes, dict[str, str]]:
        """Any signed webhook event: (raw JSON body, headers).

        ``message`` gets a unique ``msg_id`` unless it has one or ``without_msg_id``.  ``follow``/``unfollow`` use the
        shape Zalo documents for them (``oa_id`` + ``follower.id``, no sender/recipient/message);
        every other event has ``sender``/``recipient``.  The body is serialised with non-ASCII
        kept and spaces after separators, so a verifier that re-serialises JSON instead of
        hashing the raw bytes fails.
        """
        timestamp = str(_now_ms() if timestamp_ms is None else timestamp_ms)
        payload: JSON = {"app_id": self.app_id, "user_id_by_app": f"uba-{user_id}"}
        if event_name in ("follow", "unfollow"):
            payload.update(
                event_name=event_name,
                timestamp=timestamp,
                oa_id=self.oa_id,
                source="oa_profile",
                follower={"id": user_id},
            )
        else:
            payload.update(
                event_name=event_name,
                timestamp=timestamp,
                sender={"id": user_id},
                recipient={"id": self.oa_id},
            )
        if message is not None:
            body = copy.deepcopy(message)
            if without_msg_id:
                body.pop("msg_id", None)
            else:
                body.setdefault("msg_id", f"{next(self._ids):032x}")
            payload["message"] = body
        raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-ZEvent-Signature": self.sign(self.app_id, raw, timestamp, self.oa_secret_key),
        }
        return raw, headers

    # ------------------------------------------------------------------ HTTP plumbing

    @staticmethod
    def _normalise(path: str) -> str:
        return path if path.startswith("/") else "/" + path

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        headers = {key.lower(): value for key, value in request.headers.items()}
        call = OACall(path, headers, {})
        try:
            if request.method == "POST" and path in OA_SEND_PATHS:
                result = await self._send(request, call)
            elif request.method == "POST" and path == OAUTH_PATH:
                result = await self._refresh(request, call)
            else:
                call.ok = False
                call.response = {"error": 404, "message": "Not Found"}
                self._record(call)
                return web.json_response(call.response, status=404)
        except _OAError as error:
            call.ok = False
            result = error.body
        call.response = result
        self._record(call)
        return web.json_response(result)

    def _record(self, call: OACall) -> None:
        self.calls.append(call)
        self._signal.notify()

    def _take_failure(self, path: str) -> _OAFailure | None:
        queue = self._failures.get(path)
        return queue.popleft() if queue else None

    async def _send(self, request: web.Request, call: OACall) -> JSON:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            body = None
        if isinstance(body, dict):
            call.body = body
        if request.headers.get("access_token") not in self.access_tokens:
            raise _oa_error(-216, "Access token is invalid")
        failure = self._take_failure(call.path)
        if failure is not None:
            raise _oa_error(failure.error, failure.message)
        if not isinstance(body, dict):
            raise _oa_error(-201, "Parameter is invalid")
        user_id = call.user_id
        message = body.get("message")
        if not user_id or not isinstance(message, dict):
            raise _oa_error(-201, "Parameter is invalid")
        text = message.get("text")
        attachment = message.get("attachment")
        if text is None and attachment is None:
            raise _oa_error(-201, "Parameter is invalid")
        if text is not None and (
            not isinstance(text, str) or not 1 <= len(text) <= MAX_OA_TEXT_LENGTH
        ):
            raise _oa_error(-201, "Parameter is invalid")
        if attachment is not None and self.reject_templates:
            raise _oa_error(-201, "Template is not supported")
        message_id = f"{next(self._ids):032x}"
        return {
            "error": 0,
            "message": "Success",
            "data": {"message_id": message_id, "user_id": user_id},
        }

    async def _refresh(self, request: web.Request, call: OACall) -> JSON:
        form = await request.post()  # empty unless urlencoded or multipart, as Zalo expects
        call.body = {key: value for key, value in form.items() if isinstance(value, str)}
        if request.headers.get("secret_key") != self.app_secret:
            raise _oauth_error(-14002, "Invalid secret key", "The secret_key header is wrong")
        failure = self._take_failure(call.path)
        if failure is not None:
            raise _oauth_error(failure.error, failure.message, failure.message)
        if call.body.get("grant_type") != "refresh_token" or call.body.get("app_id") != (
            self.app_id
        ):
            raise _oauth_error(
                -14001, "Invalid parameter", "grant_type=refresh_token and app_id are required"
            )
        if call.body.get("refresh_token") != self.refresh_token:
            raise _oauth_error(
                -14014, "Invalid refresh token", "Refresh token is invalid or already used"
            )
        number = next(self._token_numbers)
        access_token, self.refresh_token = f"at-{number}", f"rt-{number}"
        self.access_tokens.add(access_token)
        self.refresh_count += 1
        return {
            "access_token": access_token,
            "refresh_token": self.refresh_token,
            "expires_in": str(self.expires_in),
        }


# ====================================================================== Bot Platform


@dataclass
class BotCall:
    """One Bot Platform request as the fake understood it, kept so tests can assert on it.

    ``params`` merges query string, form and JSON fields (form and query values are strings).
    ``ok`` is False for answers with ``ok: false`` (validation errors, ``fail_next``, wrong
    token, an empty long poll); ``result`` is what the client received.  A long-polling
    ``getUpdates`` is recorded when it is answered, not when it arrives.
    """

    method: str
    params: dict[str, Any]
    ok: bool = True
    result: Any = None
    error_code: int | None = None
    description: str | None = None

    @property
    def chat_id(self) -> str | None:
        """``chat_id`` as a string (ids are strings on Zalo), for filtering."""
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    def summary(self) -> str:
        """One line for failure messages: method, short params and outcome."""
        outcome = "ok" if self.ok else f"-> {self.error_code} {self.description}"
        return _summary(self.method, self.params, outcome)


@dataclass
class _BotFailure:
    """A queued failure from ``FakeZaloBot.fail_next``."""

    error_code: int
    description: str


class _BotError(Exception):
    """Raised by method handlers to answer ``ok: false`` (HTTP status = ``error_code``)."""

    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description


_NO_RESULT: Final = object()
"""A handler result meaning: answer ``{"ok": true}`` with no ``result`` (sendChatAction)."""


class FakeZaloBot(_ZaloServer):
    """An in-process Zalo Bot Platform server for tests: ``{base_url}/bot{token}/{method}``."""

    def __init__(self, token: str = "9876543210:zbot-secret-token") -> None:
        super().__init__()
        self.token = token
        self.bot_id = token.split(":", 1)[0]
        self.calls: list[BotCall] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._webhook_updated_at = 0
        self._events: deque[JSON] = deque()
        self._last_delivered: JSON | None = None
        self._parked_polls = 0
        self._ids = itertools.count(1)
        self._failures: dict[str, deque[_BotFailure]] = {}
        self._methods: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)

    # ------------------------------------------------------------------ test-side API

    def text_event(self, chat_id: str, text: str, *, message_id: str | None = None) -> JSON:
        """A ``message.text.received`` event as the platform sends it, without queuing it."""
        return self._event("message.text.received", chat_id, "Dân", message_id, {"text": text})

    def push_text(
        self,
        chat_id: str,
        text: str,
        *,
        message_id: str | None = None,
        display_name: str = "Dân",
    ) -> str:
        """Queue a private-chat text message from a citizen; returns its message_id."""
        event = self._event(
            "message.text.received", chat_id, display_name, message_id, {"text": text}
        )
        return self._queue(event)

    def push_event(self, event_name: str, chat_id: str, **message_fields: Any) -> str:
        """Queue any event (``message.unsupported.received``, ``message.sticker.received``…);
        ``message_fields`` are added to ``message`` (``message_id`` overrides the generated one).
        Returns the message_id."""
        fields = dict(message_fields)
        message_id = fields.pop("message_id", None)
        event = self._event(event_name, chat_id, "Dân", message_id, fields)
        return self._queue(event)

    def redeliver_last(self) -> None:
        """Queue the last delivered event again, as the real platform sometimes does."""
        if self._last_delivered is None:
            raise RuntimeError("no event has been delivered yet")
        self._events.append(copy.deepcopy(self._last_delivered))
        self._signal.notify()

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        error_code: int = 429,
        description: str = "Quota exceeded",
    ) -> None:
        """Make the next ``times`` calls of ``method`` answer ``ok: false`` with HTTP
        ``error_code``, to test the client's error handling and retries."""
        if times < 1:
            raise ValueError("times must be at least 1")
        queue = self._failures.setdefault(method, deque())
        queue.extend(_BotFailure(error_code, description) for _ in range(times))

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,
        chat_id: str | None = None,
    ) -> list[BotCall]:
        """Wait until at least ``count`` successful ``method`` calls (to ``chat_id``) exist.

        Event-driven, never sleep-polling.  Returns all matching calls; on timeout raises
        ``TimeoutError`` listing what the client did call, which usually explains the failure.
        """

        def matching() -> list[BotCall]:
            return [
                call
                for call in self.calls
                if call.ok
                and call.method == method
                and (chat_id is None or call.chat_id == str(chat_id))
            ]

        try:
            await self._signal.wait_until(lambda: len(matching()) >= count, timeout)
        except TimeoutError:
            target = f" to chat {chat_id}" if chat_id is not None else ""
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {count} successful {method} call(s)"
                f"{target}; found {len(matching())}. {len(self._events)} event(s) never "
                f"delivered. {recorded(self.calls)}"
            ) from None
        return matching()

    async def wait_for_poll(self, timeout: float = 10.0) -> None:
        """Wait until a ``getUpdates`` long poll is parked, to test wake-up deterministically."""
        await self._signal.wait_until(lambda: self._parked_polls > 0, timeout)

    def sent(self, chat_id: str | None = None) -> list[BotCall]:
        """Successful sendMessage/sendPhoto/sendSticker calls, in order."""
        return [
            call
            for call in self.calls
            if call.ok
            and call.method in BOT_SENT_METHODS
            and (chat_id is None or call.chat_id == str(chat_id))
        ]

    def pending_events(self) -> int:
        """Events queued but not yet handed out by ``getUpdates``."""
        return len(self._events)

    def webhook_body(self, event: JSON, *, wrapped: bool = True) -> bytes:
        """What the platform POSTs to a webhook: the ``{"ok": true, "result": …}`` envelope, or
        the flat event some third-party code expects (our server must accept both)."""
        payload = {"ok": True, "result": event} if wrapped else event
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def webhook_headers(self) -> dict[str, str]:
        """Headers of a webhook POST, carrying the secret set with ``setWebhook``."""
        return {
            "Content-Type": "application/json",
            "X-Bot-Api-Secret-Token": self.webhook_secret or "",
        }

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]  # case-sensitive, as on Zalo
        call = BotCall(method, {})
        try:
            call.params = await self._read_params(request)
            if request.match_info["token"] != self.token:
                raise _BotError(401, "Unauthorized")
            handler = self._methods.get(method)
            if handler is None:
                raise _BotError(404, "Not Found")
            failures = self._failures.get(method)
            if failures:
                failure = failures.popleft()
                raise _BotError(failure.error_code, failure.description)
            result = await handler(call.params)
        except _BotError as error:
            call.ok = False
            call.error_code = error.error_code
            call.description = error.description
            self._record(call)
            body = {"ok": False, "error_code": error.error_code, "description": error.description}
            return web.json_response(body, status=error.error_code)
        self._record(call)
        if result is _NO_RESULT:
            return web.json_response({"ok": True})
        call.result = result
        return web.json_response({"ok": True, "result": result})

    def _record(self, call: BotCall) -> None:
        self.calls.append(call)
        self._signal.notify()

    @staticmethod
    async def _read_params(request: web.Request) -> JSON:
        """Merge query string, then JSON or form fields (the platform accepts all of them)."""
        params: JSON = dict(request.query)
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _BotError(400, "Bad Request") from None
            if not isinstance(body, dict):
                raise _BotError(400, "Bad Request")
            params.update(body)
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
            elif isinstance(value, web.FileField):
                params[key] = value.file.read()
            else:
                params[key] = bytes(value).decode("utf-8")
        return params

    def _queue(self, event: JSON) -> str:
        self._events.append(event)
        self._signal.notify()
        return str(event["message"]["message_id"])

    def _new_id(self) -> str:
        """20 hex digits, the length of the platform's message ids."""
        return f"{next(self._ids):020x}"

    def _event(
        self,
        event_name: str,
        chat_id: str,
        display_name: str,
        message_id: str | None,
        fields: JSON,
    ) -> JSON:
        message: JSON = {
            "from": {"id": chat_id, "display_name": display_name, "is_bot": False},
            "chat": {"id": chat_id, "chat_type": "PRIVATE"},
            **fields,
            "message_id": message_id if message_id is not None else self._new_id(),
            "date": _now_ms(),
        }
        return {"event_name": event_name, "message": message}

    @staticmethod
    def _require_chat_id(params: JSON) -> str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _BotError(400, "chat_id is required")
        return str(chat_id)

    def _sent_result(self) -> JSON:
        return {"message_id": self._new_id(), "date": _now_ms()}

    # ------------------------------------------------------------------ API methods

    async def _get_me(self, params: JSON) -> Any:
        return {
            "id": self.bot_id,
            "account_name": "bot.motcua",
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _get_updates(self, params: JSON) -> Any:
        if self.webhook_url:
            raise _BotError(400, "Webhook is active")
        raw = params.get("timeout", DEFAULT_POLL_SECONDS)
        try:
            timeout = max(0.0, min(MAX_POLL_SECONDS, float(raw)))
        except (TypeError, ValueError):
            raise _BotError(400, "Invalid timeout") from None
        if not self._events and timeout > 0 and not self._closing:
            self._parked_polls += 1
            self._signal.notify()
            try:
                await self._signal.wait_until(lambda: bool(self._events) or self._closing, timeout)
            except TimeoutError:
                pass
            finally:
                self._parked_polls -= 1
        if not self._events:
            raise _BotError(408, "Request timeout")
        event = self._events.popleft()  # one event per call; there is no offset to confirm
        self._last_delivered = copy.deepcopy(event)
        return event

    async def _send_message(self, params: JSON) -> Any:
        self._require_chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_BOT_TEXT_LENGTH:
            raise _BotError(400, "Text length must be between 1 and 2000")
        return self._sent_result()

    async def _send_photo(self, params: JSON) -> Any:
        self._require_chat_id(params)
        if not isinstance(params.get("photo"), str) or not params["photo"]:
            raise _BotError(400, "photo is required")
        caption = params.get("caption")
        if caption is not None and (
            not isinstance(caption, str) or not 1 <= len(caption) <= MAX_BOT_TEXT_LENGTH
        ):
            raise _BotError(400, "Caption length must be between 1 and 2000")
        return self._sent_result()

    async def _send_sticker(self, params: JSON) -> Any:
        self._require_chat_id(params)
        if not isinstance(params.get("sticker"), str) or not params["sticker"]:
            raise _BotError(400, "sticker is required")
        return self._sent_result()

    async def _send_chat_action(self, params: JSON) -> Any:
        self._require_chat_id(params)
        if not params.get("action"):
            raise _BotError(400, "action is required")
        return _NO_RESULT

    async def _set_webhook(self, params: JSON) -> Any:
        url = params.get("url")
        secret = params.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise _BotError(400, "url must be an HTTPS URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise _BotError(400, "secret_token must be 8 to 256 characters")
        self.webhook_url, self.webhook_secret = url, secret
        self._webhook_updated_at = _now_ms()
        return {"url": url, "updated_at": self._webhook_updated_at}

    async def _delete_webhook(self, params: JSON) -> Any:
        self.webhook_url = self.webhook_secret = None
        self._webhook_updated_at = _now_ms()
        return {"url": "", "updated_at": self._webhook_updated_at}

    async def _get_webhook_info(self, params: JSON) -> Any:
        return {"url": self.webhook_url or "", "updated_at": self._webhook_updated_at}
