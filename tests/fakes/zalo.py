"""Fake Zalo API servers, so our own Zalo clients run in tests offline.

Two unrelated Zalo products, one fake each (facts: ``/work/shared/reference/channels.md`` §2):

* ``FakeZaloOA`` — the Official Account Open API v3 (``/v3.0/oa/message/cs`` and the ZBS
  template message ``/message/template``) plus the OAuth v4 token refresh
  (``/v4/oa/access_token``) on the same server.  Zalo answers OA errors with HTTP 200 and a
  non-zero ``error`` in the body, so does the fake.  Access tokens expire only when a test says
  so (``expire_access_tokens``, with ``-216`` or ``-220``) and refresh tokens are single-use,
  the two token rules a real OA client most often gets wrong.  Consultation messages are
  refused with ``-230`` seven days after the citizen's last interaction, and billed after 48
  hours; ``/message/transaction`` is discontinued.  It also builds signed webhook events
  (``text_event``, ``event``, ``retry_headers``) for tests to POST to our server, and acts as
  the Zalo console when an administrator verifies the domain and saves the webhook URL.
  Facts come from the channel audit (``/work/shared/audits/channels.md``, "row N").
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

import aiohttp
from aiohttp import web

from tests.fakes.server import FakeServer, recorded

JSON = dict[str, Any]

CS_PATH: Final = "/v3.0/oa/message/cs"
TEMPLATE_PATH: Final = "/v3.0/oa/message/template"
TRANSACTION_PATH: Final = "/v3.0/oa/message/transaction"
OA_SEND_PATHS: Final = (CS_PATH, TEMPLATE_PATH)
OAUTH_PATH: Final = "/v4/oa/access_token"
MAX_OA_TEXT_LENGTH: Final = 2000
FREE_WINDOW_MS: Final = 48 * 3600 * 1000
LONGEST_WINDOW_MS: Final = 7 * 24 * 3600 * 1000
"""Consultation messages: free and unlimited for 48 h after the user's last interaction (no
8-message cap since 1 Jan 2026), billable up to 7 days, then ``-230`` (audit row 16)."""
RETRY_LADDER: Final = (30, 300, 900, 1800, 3600)
"""Seconds Zalo waits before re-sending an event it got no 200 for, each retry with the
event's first body and timestamp and a ``num_retry`` header (audit row 5)."""
BUTTON_TYPES: Final = frozenset({"oa.open.url", "oa.query.show", "oa.query.hide", "oa.open.sms", "oa.open.phone"})
"""Documented button types (ZaloDotNetSDK ``*Button*.cs``; reference §2b)."""
MAX_BUTTONS: Final = 5
MAX_BUTTON_TITLE: Final = 100
MAX_BUTTON_PAYLOAD: Final = 1000
"""Limits of Zalo's buttons appendix as others cite it (audit row 13)."""

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
    billable: bool = False
    """A message Zalo charges for: a template, or a reply 48 h to 7 days after the last interaction."""
    shown: str = ""
    """What the user sees: the text, the button titles unless ``drop_buttons``, a template's data."""

    @property
    def user_id(self) -> str | None:
        """The recipient of a send call (``recipient.user_id``, or ``user_id`` for a template)."""
        recipient = self.body.get("recipient")
        value = recipient.get("user_id") if isinstance(recipient, dict) else self.body.get("user_id")
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
        self.dead_token_error = -216
        """What a request with a dead access token gets: ``-216`` invalid, or ``-220``
        "access_token is expired or removed" (audit row 15)."""
        self.interactions: dict[str, int] = {}
        """Each user's last interaction with the OA (ms): a message or a follow."""
        self.blocked: set[str] = set()
        self.templates: dict[str, tuple[str, ...]] = {}
        """Approved ZBS templates: id -> its parameter names (``approve_template``)."""
        self.drop_buttons = False
        """Accept a button template but show only its text: whether Zalo renders buttons sent
        on ``/message/cs`` is unconfirmed (audit row 13), so tests must survive both."""
        self.verifier_name = "zalo_verifierAbC123xYz.html"
        self.verifier_content = '<meta name="zalo-platform-site-verification" content="AbC123xYz" />'
        """The file Zalo's console hands out for "Xác thực domain" (audit row 7)."""
        self._http: aiohttp.ClientSession | None = None

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{path:.*}", self._handle)

    @property
    def oauth_url(self) -> str:
        """Stand-in for ``https://oauth.zaloapp.com``; the same server as ``base_url``."""
        return self.base_url

    # ------------------------------------------------------------------ test-side API

    def expire_access_tokens(self, error: int = -216) -> None:
        """Invalidate every access token issued so far, as if their 25 h had passed (``-216``)
        or the grant had been renewed elsewhere (``-220``, "expired or removed")."""
        self.access_tokens.clear()
        self.dead_token_error = error

    def revoke_grant(self) -> None:
        """The OA administrator removed the app's permission: no token works, and only a new
        grant in the browser gives a new pair (audit row 19)."""
        self.expire_access_tokens(-220)
        self.refresh_token = ""

    def interacted(self, user_id: str, *, seconds_ago: float = 0) -> None:
        """The user wrote to or followed the OA then (without a webhook event)."""
        self.interactions[user_id] = _now_ms() - int(seconds_ago * 1000)

    def block(self, user_id: str) -> None:
        """The user blocked the OA: every message to them is refused with ``-213``."""
        self.blocked.add(user_id)

    def approve_template(self, template_id: str, *params: str) -> None:
        """A ZBS template the OA had approved, with its parameter names (audit row 14)."""
        self.templates[template_id] = params

    def retry_headers(self, headers: dict[str, str], attempt: int) -> dict[str, str]:
        """Headers of Zalo's retry number ``attempt`` of an event: the same signature (the body
        and timestamp do not change) plus ``num_retry`` (audit row 5)."""
        return {**headers, "num_retry": str(attempt)}

    @staticmethod
    def retry_delay(attempt: int) -> float:
        """Seconds from the first delivery to retry number ``attempt``: the ladder summed."""
        return float(sum(RETRY_LADDER[:attempt]))

    async def verify_domain(self, site: str) -> bool:
        """What the console's "Xác thực domain" does: fetch the verifier file at the site's
        root and compare it (audit row 7)."""
        async with self._client().get(f"{site.rstrip('/')}/{self.verifier_name}") as response:
            return response.status == 200 and self.verifier_content in await response.text()

    async def save_webhook(self, url: str) -> bool:
        """What the console does when the webhook URL is saved. Undocumented; integrations
        report an unsigned POST of ``{}`` and others a GET (audit row 7), so both are sent and
        both must be answered 200, or the URL is not saved."""
        http = self._client()
        async with http.post(url, data=b"{}", headers={"Content-Type": "application/json"}) as posted:
            post_ok = posted.status == 200
        async with http.get(url) as got:
            return post_ok and got.status == 200

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        await super().stop()

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
        """Successful ``/message/cs`` and ``/message/template`` calls, in order."""
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
        if event_name == "follow" or event_name.startswith("user_send_"):
            self.interactions[user_id] = max(self.interactions.get(user_id, 0), int(timestamp))
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
            if request.method == "POST" and path == CS_PATH:
                result = await self._send(request, call)
            elif request.method == "POST" and path == TEMPLATE_PATH:
                result = await self._send_template(request, call)
            elif request.method == "POST" and path == TRANSACTION_PATH:
                # "Dịch vụ Tin UID Giao dịch … sẽ được dừng cung cấp từ 01/03/2026" (audit row 14);
                # the code of the refusal is not published: -240 is Zalo's "API shut down" (row 15)
                await self._read_json(request, call)
                raise _oa_error(-240, "UID transaction messages are discontinued since 01/03/2026")
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

    async def _read_json(self, request: web.Request, call: OACall) -> JSON | None:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        call.body = body
        return body

    def _authorise(self, request: web.Request, call: OACall) -> None:
        if request.headers.get("access_token") not in self.access_tokens:
            message = "Access token is invalid" if self.dead_token_error == -216 else (
                "access_token is expired or removed")
            raise _oa_error(self.dead_token_error, message)
        failure = self._take_failure(call.path)
        if failure is not None:
            raise _oa_error(failure.error, failure.message)

    def _reachable(self, user_id: str) -> None:
        if user_id in self.blocked:
            raise _oa_error(-213, "User has not followed the OA or has blocked it")

    async def _send(self, request: web.Request, call: OACall) -> JSON:
        body = await self._read_json(request, call)
        self._authorise(request, call)
        if body is None:
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
        self._reachable(user_id)
        last = self.interactions.get(user_id)
        age = None if last is None else _now_ms() - last
        if age is None or age > LONGEST_WINDOW_MS:
            raise _oa_error(-230, "User has not interacted with the OA in the last 7 days")
        call.billable = age > FREE_WINDOW_MS
        buttons = self._buttons(attachment) if attachment is not None else []
        if attachment is not None and self.reject_templates:
            raise _oa_error(-201, "Template is not supported")
        call.shown = "\n".join([text or "", *([] if self.drop_buttons else buttons)]).strip()
        return self._accepted(user_id)

    @staticmethod
    def _buttons(attachment: Any) -> list[str]:
        """The titles of a button template shaped as eSMS's pass-through of Zalo documents it,
        within the limits of the buttons appendix (audit row 13); -201 otherwise. A template
        with a ``template_type`` (media, request_user_info: ZaloDotNetSDK) is not checked."""
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        if not isinstance(payload, dict) or attachment.get("type") != "template":
            raise _oa_error(-201, "Parameter is invalid")
        if "template_type" in payload:
            return []
        buttons = payload.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
            raise _oa_error(-201, "Parameter is invalid")
        titles = []
        for button in buttons:
            if not isinstance(button, dict) or button.get("type") not in BUTTON_TYPES:
                raise _oa_error(-201, "Parameter is invalid")
            title, value = button.get("title"), button.get("payload")
            if not isinstance(title, str) or not 1 <= len(title) <= MAX_BUTTON_TITLE \
                    or not isinstance(value, str) or len(value) > MAX_BUTTON_PAYLOAD:
                raise _oa_error(-201, "Parameter is invalid")
            titles.append(title)
        return titles

    async def _send_template(self, request: web.Request, call: OACall) -> JSON:
        """A ZBS template message by user id: ``user_id``, an approved ``template_id`` and
        ``template_data`` filling exactly its parameters (audit row 14; codes from the ZNS
        error table, zalo.cloud/zns/guidelines/handle-error-code). Billed, with no window."""
        body = await self._read_json(request, call)
        self._authorise(request, call)
        user_id = call.user_id
        if body is None or not user_id:
            raise _oa_error(-201, "Parameter is invalid")
        params = self.templates.get(str(body.get("template_id")))
        if params is None:
            raise _oa_error(-109, "Template ID invalid")
        data = body.get("template_data")
        if not isinstance(data, dict) or not data:
            raise _oa_error(-111, "Template data empty")
        if set(data) != set(params) or not all(isinstance(v, str) and v for v in data.values()):
            raise _oa_error(-112, "Template data invalid")
        self._reachable(user_id)
        call.billable = True
        call.shown = " | ".join(f"{k}: {data[k]}" for k in params)
        return self._accepted(user_id)

    def _accepted(self, user_id: str) -> JSON:
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
