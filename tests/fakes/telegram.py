"""A fake Telegram Bot API server, so the real python-telegram-bot stack runs in tests offline.

The bot under test talks HTTP to this server exactly as it would to api.telegram.org: build the
application with ``ApplicationBuilder().token(fake.token).base_url(fake.base_url)
.base_file_url(fake.file_url)``.  Tests then queue updates (``push_text``, ``push_callback``),
wait for the bot's reaction (``wait_for``) and inspect every decoded API call (``calls``).

Besides new messages and button presses, it builds the updates a bot should not mistake for
them (``business_update``, ``guest_update``, ``edited_update``), shaped as
https://core.telegram.org/bots/api documents them.  ``getUpdates`` drops update types outside
``allowed_updates`` as Telegram does, while ``post_webhook`` delivers whatever it is given,
like an update created before ``setWebhook`` changed the list (which the Bot API says it does
not reach).

Validation mirrors the Telegram errors a real bot most often hits (message too long, bad HTML,
callback data over 64 bytes, message not modified, stale callback queries), so such bugs surface
in tests rather than in production.

How python-telegram-bot 22.x encodes requests (see ``telegram/request/_requestparameter.py`` and
``_httpxrequest.py``): always POST, never a JSON body.  Without files the body is
``application/x-www-form-urlencoded``, with files ``multipart/form-data``.  Each value is a form
string: ``str`` values are sent raw, everything else is ``json.dumps``-ed (ints, bools, dicts,
lists; datetimes become Unix timestamps, timedeltas seconds).  The wire therefore cannot tell the
text ``"123"`` from the integer ``123``, so this module decodes by parameter name.
"""

from __future__ import annotations

import copy
import html
import itertools
import json
import re
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
from aiohttp import web

from tests.fakes.server import FakeServer, recorded

JSON = dict[str, Any]
_Uploads = dict[str, tuple[str, str]]
"""Per uploaded top-level parameter: (file name, content type) as sent in the multipart part."""

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_POLL_SECONDS: Final = 50.0
"""Telegram caps long polling at 50 s; a larger ``timeout`` is clipped to this."""

SENT_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText"})

TELEGRAM_HTML_TAGS: Final = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
"""Tags Telegram's HTML parse mode accepts; anything else is rejected like Telegram does."""

_ENTITY_TYPE: Final = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip

_KNOWN_METHODS: Final = (
    "getMe", "getUpdates", "sendMessage", "sendPhoto", "sendDocument", "editMessageText",
    "editMessageReplyMarkup", "answerCallbackQuery", "setMyCommands", "getMyCommands",
    "deleteMyCommands", "deleteWebhook", "setWebhook", "getWebhookInfo", "close", "logOut",
    "sendChatAction", "getFile",
)  # fmt: skip
_CANONICAL: Final = {name.lower(): name for name in _KNOWN_METHODS}

# Parameters whose value is a plain string even when it looks like JSON ("123", "true", "[x]").
_STRING_PARAMS: Final = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url",
        "action", "secret_token", "ip_address", "language_code", "business_connection_id",
        "message_effect_id", "title", "description", "short_description", "name", "query",
        "emoji", "question", "explanation", "address", "first_name", "last_name",
        "phone_number", "vcard", "payload", "currency", "start_parameter", "custom_title",
        "result_id", "switch_pm_text", "switch_pm_parameter", "next_offset", "file_id",
        "game_short_name", "sticker", "error_message",
    }
)  # fmt: skip
_CHAT_ID_PARAMS: Final = frozenset({"chat_id", "from_chat_id", "sender_chat_id"})
_INT_RE: Final = re.compile(r"-?\d+")
_TAG_RE: Final = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)>")
_ATTR_RE: Final = re.compile(r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_HTML_ENTITY_RE: Final = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d+)|#[xX]([0-9A-Fa-f]+));")
_BOT_COMMAND_RE: Final = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
_COMMAND_NAME_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_STALE_QUERY: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


@dataclass
class Call:
    """One Bot API request as the fake understood it, kept so tests can assert on it.

    ``params`` is decoded: form strings become ints/bools/dicts/lists by parameter name,
    ``reply_markup`` and similar JSON fields are dicts, uploaded files are ``bytes`` (also
    when referenced as ``attach://name``).  ``ok`` is False for answers with ``ok: false``
    (validation errors, ``fail_next``, wrong token); ``result`` is what the bot received.
    A long-polling ``getUpdates`` is recorded when it is answered, not when it arrives.
    """

    method: str
    params: dict[str, Any]
    ok: bool = True
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    filenames: dict[str, str] = field(default_factory=dict)
    """Uploaded file name per top-level parameter, e.g. ``{"document": "report.pdf"}``."""
    from_webhook: bool = False
    """Made by Telegram from a webhook response: its result and errors go nowhere."""

    def summary(self) -> str:
        """One line for failure messages: method, short params and outcome."""
        shown = {
            key: (f"<{len(value)} bytes>" if isinstance(value, bytes) else value)
            for key, value in self.params.items()
        }
        text = json.dumps(shown, ensure_ascii=False, default=str)
        if len(text) > 160:
            text = text[:157] + "..."
        outcome = "ok" if self.ok else f"-> {self.error_code} {self.description}"
        return f"{self.method} {text} {outcome}"


@dataclass
class _Failure:
    """A queued failure from ``fail_next``."""

    error_code: int
    description: str
    retry_after: int | None


@dataclass
class _StoredFile:
    """An uploaded (or referenced) file, kept so ``getFile`` and downloads work."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


class _ApiError(Exception):
    """Raised by method handlers to answer ``ok: false`` the way Telegram does."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


class _HtmlError(Exception):
    """An HTML parse-mode error; its text follows Telegram's wording where known."""


def _utf16_len(text: str) -> int:
    """Telegram counts entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _decode_field(name: str, value: str) -> Any:
    """Undo PTB's form encoding: JSON for non-strings, raw text for strings (see module doc)."""
    if name in _STRING_PARAMS:
        return value
    if name in _CHAT_ID_PARAMS:
        return int(value) if _INT_RE.fullmatch(value) else value
    if value[:1] in ("{", "[", "-") or value[:1].isdigit() or value in ("true", "false", "null"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parse_html(text: str, allowed: frozenset[str]) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML into plain text and entities, raising ``_HtmlError`` like Telegram.

    Stricter than Telegram in one way on purpose: a bare ``&`` or ``>`` is an error, because
    unescaped user text is the usual cause of intermittent "can't parse entities" failures.
    """
    out: list[str] = []
    pos = 0  # UTF-16 offset in the plain text
    stack: list[tuple[str, int, JSON]] = []
    entities: list[JSON] = []

    def at(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _TAG_RE.match(text, i)
            if match is None:
                if text.startswith("</", i):
                    raise _HtmlError(f"Unclosed end tag at byte offset {at(i)}")
                raise _HtmlError(f'Unsupported start tag "" at byte offset {at(i)}')
            name = match.group(2).lower()
            if match.group(1):
                if not stack:
                    raise _HtmlError(f"Unexpected end tag at byte offset {at(i)}")
                open_name, start, extra = stack.pop()
                if open_name != name:
                    raise _HtmlError(
                        f'Unmatched end tag at byte offset {at(i)}, expected "</{open_name}>", '
                        f'found "</{name}>"'
                    )
                language = extra.pop("_language", None)
                if name == "code" and language and stack and stack[-1][0] == "pre":
                    stack[-1][2]["language"] = language  # <pre><code class="language-x">
                elif pos > start and extra.get("type") is not None:
                    entities.append({"offset": start, "length": pos - start, **extra})
            else:
                if name not in allowed:
                    raise _HtmlError(f'Unsupported start tag "{name}" at byte offset {at(i)}')
                stack.append((name, pos, _tag_entity(name, match.group(3), at(i))))
            i = match.end()
            continue
        if char == "&":
            entity = _HTML_ENTITY_RE.match(text, i)
            if entity is None:
                raise _HtmlError(f"Unescaped '&' at byte offset {at(i)}; write &amp;")
            if entity.group(1):
                decoded = _NAMED_ENTITIES[entity.group(1)]
            else:
                number = int(entity.group(2)) if entity.group(2) else int(entity.group(3), 16)
                if not 0 < number <= 0x10FFFF:
                    raise _HtmlError(f"Invalid character entity at byte offset {at(i)}")
                decoded = chr(number)
            out.append(decoded)
            pos += _utf16_len(decoded)
            i = entity.end()
            continue
        if char == ">":
            raise _HtmlError(f"Unescaped '>' at byte offset {at(i)}; write &gt;")
        out.append(char)
        pos += _utf16_len(char)
        i += 1
    if stack:
        raise _HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _tag_entity(name: str, raw_attrs: str, offset: int) -> JSON:
    """Entity fields for an opening tag (``type`` None means the tag makes no entity)."""
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw_attrs):
        value = match.group(2) or match.group(3) or match.group(4) or ""
        attrs[match.group(1).lower()] = html.unescape(value)
    entity: JSON = {"type": _ENTITY_TYPE[name]}
    if name == "a":
        if not attrs.get("href"):
            entity["type"] = None  # Telegram keeps the text and drops the link
        else:
            entity["url"] = attrs["href"]
    elif name == "span" and attrs.get("class") != "tg-spoiler":
        raise _HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    elif name == "tg-emoji":
        if not attrs.get("emoji-id"):
            raise _HtmlError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}'
            )
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "code" and attrs.get("class", "").startswith("language-"):
        entity["_language"] = attrs["class"].removeprefix("language-")
    return entity


def _bot_command_entities(text: str) -> list[JSON]:
    """Telegram marks ``/commands`` in user messages; PTB's CommandHandler relies on it."""
    return [
        {
            "type": "bot_command",
            "offset": _utf16_len(text[: match.start()]),
            "length": _utf16_len(match.group()),
        }
        for match in _BOT_COMMAND_RE.finditer(text)
    ]


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (so charts keep their shape); 800x600 for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 800, 600


class FakeTelegram(FakeServer):
    """An in-process Telegram Bot API server on 127.0.0.1 (random port) for tests."""

    allowed_html_tags: frozenset[str] = TELEGRAM_HTML_TAGS
    """Narrow this (per instance or subclass) to forbid tags the bot must not use."""
    client_max_size = 60 * 1024 * 1024

    def __init__(
        self, token: str = "123456:TEST-token", *, username: str = "motcua_test_bot"
    ) -> None:
        self.token = token
        self.calls: list[Call] = []
        bot_id = token.split(":", 1)[0]
        self.bot_user: JSON = {
            "id": int(bot_id) if bot_id.isdigit() else 123456,
            "is_bot": True,
            "first_name": "Motcua Test Bot",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        super().__init__()
        self._updates: deque[JSON] = deque()
        self._update_ids = itertools.count(1000)
        self._delivered_upto = 0
        self._parked_polls = 0
        self._failures: dict[str, deque[_Failure]] = {}
        self._messages: dict[int, dict[int, JSON]] = {}
        self._next_message_id: dict[int, int] = {}
        self._last_bot_message: dict[int, int] = {}
        self._user_names: dict[int, str] = {}
        self._callback_ids = itertools.count(1)
        self._foreign_message_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._files: dict[str, _StoredFile] = {}
        self.on_record: Callable[[Call], None] | None = None
        """Called with every recorded call: load tests follow thousands of chats without waiting
        on ``wait_for`` (which re-checks every call for every waiter)."""
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._commands: dict[str, list[JSON]] = {}
        self._webhook_url = ""
        self._webhook_allowed: list[str] = []
        self.webhook_connections = 40
        """How many updates Telegram posts to the webhook at once: setWebhook's ``max_connections``
        ("1-100. Defaults to 40", https://core.telegram.org/bots/api#setwebhook)."""
        self.flood_limit: int | None = None
        """Messages a second the bot may send before Telegram answers 429 with ``retry_after``
        (Bot FAQ: about 30 a second in bulk; audit row 33). Calls made from a webhook response
        count too, and their 429 reaches no one (audit row 29). None: no limit."""
        self._recent_sends: deque[float] = deque()
        self._http: aiohttp.ClientSession | None = None
        self._methods: dict[str, Callable[[JSON, _Uploads], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
        }

    # ------------------------------------------------------------------ lifecycle

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

    @property
    def base_url(self) -> str:
        """API prefix for ``ApplicationBuilder.base_url``; PTB appends the token itself."""
        return f"{self.origin}/bot"

    @property
    def file_url(self) -> str:
        """File prefix for ``ApplicationBuilder.base_file_url``; PTB appends the token."""
        return f"{self.origin}/file/bot"

    # ------------------------------------------------------------------ test-side API

    def push_text(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Dân"
    ) -> int:
        """Queue a private-chat text message from a citizen; returns its update_id."""
        return self.push_update(self.text_update(chat_id, text, user_id=user_id, first_name=first_name))

    def text_update(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Dân"
    ) -> JSON:
        """A text-message update (without update_id), known to the fake but not queued: for
        posting to a bot's webhook as Telegram would."""
        user = self._user(user_id if user_id is not None else abs(chat_id), first_name)
        if chat_id > 0:
            self._user_names.setdefault(chat_id, first_name)
        message: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        entities = _bot_command_entities(text)
        if entities:
            message["entities"] = entities
        self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        return {"message": copy.deepcopy(message)}

    def push_callback(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
    ) -> int:
        """Queue a button press on a bot message (``message_id`` or the chat's last bot message).

        An unknown ``message_id`` yields a stub bot message, to model presses on stale buttons.
        """
        return self.push_update(self.callback_update(chat_id, data, message_id=message_id, user_id=user_id))

    def expire_callbacks(self) -> None:
        """Let every button press queued or delivered so far time out unanswered.

        The Bot API: "Telegram clients will display a progress bar until you call
        answerCallbackQuery"; a query left unanswered too long can no longer be answered, and
        answerCallbackQuery then fails with 400 "Bad Request: query is too old and response
        timeout expired or query ID is invalid" (https://core.telegram.org/bots/api#answercallbackquery).
        A bot that fell behind (a backlog, a long turn) meets exactly that."""
        self._open_callbacks.clear()

    def callback_update(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
    ) -> JSON:
        """A button-press update (without update_id), not queued; its query can be answered."""
        if message_id is None:
            if chat_id not in self._last_bot_message:
                raise ValueError(f"the bot has sent nothing to chat {chat_id}; pass message_id")
            message_id = self._last_bot_message[chat_id]
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            message = {
                "message_id": message_id,
                "from": self._bot_sender(),
                "chat": self._chat(chat_id),
                "date": int(time.time()),
                "text": "…",
            }
            self._messages.setdefault(chat_id, {})[message_id] = message  # editable, like real
            next_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = max(next_id, message_id + 1)
        uid = user_id if user_id is not None else abs(chat_id)
        query: JSON = {
            "id": str(next(self._callback_ids)),
            "from": self._user(uid, self._user_names.get(uid, "Dân")),
            "message": copy.deepcopy(message),
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        self._open_callbacks.add(str(query["id"]))
        return {"callback_query": query}

    def push_document(
        self, chat_id: int, data: bytes, file_name: str, *, caption: str | None = None,
        mime_type: str = "text/csv", user_id: int | None = None,
    ) -> int:
        """Queue a private-chat message carrying a file (downloadable through getFile)."""
        stored = self._store_file(data, "documents", file_name, mime_type)
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._user(user_id if user_id is not None else chat_id, "Dân"),
            "document": {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                         "file_name": file_name, "mime_type": mime_type, "file_size": len(data)},
        }
        if caption is not None:
            message["caption"] = caption
        return self.push_update({"message": message})

    def business_update(
        self, chat_id: int, text: str, *, user_id: int, connection_id: str = "bc-1",
        edited: bool = False, first_name: str = "Chủ doanh nghiệp",
    ) -> JSON:
        """A message in a chat of a Business account that connected the bot (not queued).

        Bot API, "Update": ``business_message`` is a "New message from a connected business
        account", ``edited_business_message`` a new version of one (Bot API 7.2). "Message":
        ``business_connection_id`` is set, and "the message belongs to a chat of the
        corresponding business account that is independent from any potential bot chat which
        might share the same identifier". The chat is the private chat between the account and
        the other person, so ``chat.id`` is that person's id, while ``from`` is whoever wrote:
        the owner (``user_id``) writing to ``chat_id`` here.
        """
        message: JSON = {
            "message_id": next(self._foreign_message_ids),
            "from": self._user(user_id, first_name),
            "chat": {"id": chat_id, "type": "private", "first_name": self._user_names.get(chat_id, "Dân")},
            "date": int(time.time()),
            "business_connection_id": connection_id,
            "text": text,
        }
        if edited:
            message["edit_date"] = message["date"]
        entities = _bot_command_entities(text)
        if entities:
            message["entities"] = entities
        return {"edited_business_message" if edited else "business_message": message}

    def guest_update(
        self, chat_id: int, text: str, *, user_id: int, query_id: str = "gq-1",
        first_name: str = "Khách",
    ) -> JSON:
        """A guest message: the bot summoned by ``user_id`` into a chat it is not part of.

        Bot API 10.0, "Update": ``guest_message``, a "New guest message"; the bot answers it
        with ``answerGuestQuery`` and the message's ``guest_query_id``. "Message":
        ``guest_query_id`` — "If non-empty, the message belongs to the chat where the guest bot
        was summoned, which may not coincide with other existing bot chats sharing the same
        identifier". So ``chat.id`` may equal a user the bot knows, ``from`` being someone else.
        """
        message: JSON = {
            "message_id": next(self._foreign_message_ids),
            "from": self._user(user_id, first_name),
            "chat": {"id": chat_id, "type": "private", "first_name": self._user_names.get(chat_id, "Dân")},
            "date": int(time.time()),
            "guest_query_id": query_id,
            "text": text,
        }
        entities = _bot_command_entities(text)
        if entities:
            message["entities"] = entities
        return {"guest_message": message}

    def edited_update(self, chat_id: int, message_id: int, text: str) -> JSON:
        """The sender's edit of a message they sent the bot earlier (not queued).

        Bot API, "Update": ``edited_message`` is a "New version of a message that is known to
        the bot and was edited" (it "may at times be triggered by changes to message fields
        that are either unavailable or not actively used by your bot"). It is the whole
        message, same ``message_id``, ``chat`` and ``from``, with ``edit_date`` ("Message").
        """
        stored = self._messages.get(chat_id, {}).get(message_id)
        if stored is None or stored.get("from", {}).get("id") == self.bot_user["id"]:
            raise ValueError(f"no message {message_id} from a user in chat {chat_id} to edit")
        stored["text"] = text
        stored["edit_date"] = int(time.time())
        self._set_optional(stored, "entities", _bot_command_entities(text) or None)
        return {"edited_message": copy.deepcopy(stored)}

    def delivered(self) -> set[int]:
        """update_ids some ``getUpdates`` handed to the bot: to tell a dropped update from one
        the bot received and chose to ignore."""
        return {
            update["update_id"]
            for call in self.calls
            if call.method == "getUpdates" and call.ok and isinstance(call.result, list)
            for update in call.result
        }

    async def post_webhook(self, url: str, secret: str, update: JSON) -> int:
        """Deliver an update to a bot's webhook as Telegram does; returns the HTTP status.

        As Telegram does, a method call in the response body (a reply to the webhook) is
        performed and recorded like an API call, its result going nowhere."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
        async with self._http.post(url, data=self.webhook_body(update), headers=headers) as response:
            if response.status == 200 and response.content_type == "application/json":
                await self.perform_webhook_response(await response.read())
            return response.status

    def webhook_body(self, update: JSON) -> bytes:
        """What Telegram posts for an update: the update with its update_id, as JSON. Public for
        a load generator that posts over its own connections."""
        return json.dumps({"update_id": next(self._update_ids), **update}).encode()

    async def perform_webhook_response(self, body: bytes) -> None:
        """A method call in a webhook's JSON response, performed and recorded as Telegram
        performs it; its result and errors go nowhere."""
        params = json.loads(body)
        method = params.pop("method", None) if isinstance(params, dict) else None
        if isinstance(method, str):
            await self._perform(Call(_CANONICAL.get(method.lower(), method), params, from_webhook=True), {})

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        await super().stop()

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (any type); the fake assigns and returns its update_id."""
        queued = copy.deepcopy(update)
        queued["update_id"] = update_id = next(self._update_ids)
        query = queued.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._open_callbacks.add(str(query["id"]))
        self._updates.append(queued)
        self._signal.notify()
        return update_id

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        error_code: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` answer ``ok: false`` (429 + retry_after
        when ``retry_after`` is given), to test the bot's error handling and retries."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if retry_after is not None:
            error_code = 429
            if description == "Internal Server Error":
                description = f"Too Many Requests: retry after {retry_after}"
        queue = self._failures.setdefault(_CANONICAL.get(method.lower(), method), deque())
        queue.extend(_Failure(error_code, description, retry_after) for _ in range(times))

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,
        chat_id: int | None = None,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until at least ``count`` successful ``method`` calls (to ``chat_id``, and for
        which ``where`` holds) exist.

        Event-driven, never sleep-polling.  Returns all matching calls; on timeout raises
        ``TimeoutError`` listing what the bot did call, which usually explains the failure.
        """
        name = _CANONICAL.get(method.lower(), method)

        def matching() -> list[Call]:
            return [
                call
                for call in self.calls
                if call.ok
                and call.method == name
                and (chat_id is None or call.params.get("chat_id") == chat_id)
                and (where is None or where(call))
            ]

        try:
            await self._signal.wait_until(lambda: len(matching()) >= count, timeout)
        except TimeoutError:
            target = f" to chat {chat_id}" if chat_id is not None else ""
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {count} successful {name} call(s)"
                f"{target}; found {len(matching())}. {self.unanswered_updates()} update(s) "
                f"never delivered. {recorded(self.calls)}"
            ) from None
        return matching()

    async def wait_for_poll(self, *, timeout: float = 10.0) -> None:
        """Wait until a ``getUpdates`` long poll is parked, to test wake-up deterministically."""
        await self._signal.wait_until(lambda: self._parked_polls > 0, timeout)

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Successful sendMessage/sendPhoto/sendDocument/editMessageText calls, in order."""
        return [
            call
            for call in self.calls
            if call.ok
            and call.method in SENT_METHODS
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    def unanswered_updates(self) -> int:
        """Updates queued but not yet delivered by any ``getUpdates``."""
        return sum(1 for update in self._updates if update["update_id"] > self._delivered_upto)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        method = _CANONICAL.get(raw_method.lower(), raw_method)
        try:
            params, uploads = await self._read_params(request)
        except _ApiError as error:
            return self._answer_error(self._failed(Call(method, {}), error))
        call = Call(method, params, filenames={key: name for key, (name, _) in uploads.items()})
        if request.match_info["token"] != self.token:
            return self._answer_error(self._failed(call, _ApiError(401, "Unauthorized")))
        error = await self._perform(call, uploads)
        if error is not None:
            return self._answer_error(error)
        return web.json_response({"ok": True, "result": call.result})

    async def _perform(self, call: Call, uploads: _Uploads) -> _ApiError | None:
        """Run a decoded call against the fake's state and record it; the error if it failed."""
        failures = self._failures.get(call.method)
        if failures:
            failure = failures.popleft()
            extra = None if failure.retry_after is None else {"retry_after": failure.retry_after}
            return self._failed(call, _ApiError(failure.error_code, failure.description, extra))
        if call.method in SENT_METHODS and self._flooded():
            return self._failed(call, _ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1}))
        handler = self._methods.get(call.method)
        try:
            # close, logOut and unknown methods just succeed, so new bot features degrade gently
            call.result = True if handler is None else await handler(call.params, uploads)
        except _ApiError as error:
            return self._failed(call, error)
        self._record(call)
        return None

    def _flooded(self) -> bool:
        """Whether one more message now would exceed ``flood_limit`` in the last second."""
        if self.flood_limit is None:
            return False
        at = time.monotonic()
        while self._recent_sends and at - self._recent_sends[0] >= 1.0:
            self._recent_sends.popleft()
        if len(self._recent_sends) >= self.flood_limit:
            return True
        self._recent_sends.append(at)
        return False

    def _failed(self, call: Call, error: _ApiError) -> _ApiError:
        call.ok = False
        call.error_code = error.error_code
        call.description = error.description
        self._record(call)
        return error

    @staticmethod
    def _answer_error(error: _ApiError) -> web.Response:
        body: JSON = {"ok": False, "error_code": error.error_code, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        return web.json_response(body, status=error.error_code)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._signal.notify()
        if self.on_record is not None:
            self.on_record(call)

    async def _read_params(self, request: web.Request) -> tuple[JSON, _Uploads]:
        """Decode query string, JSON, urlencoded and multipart bodies into one dict."""
        params: JSON = {key: _decode_field(key, value) for key, value in request.query.items()}
        meta: _Uploads = {}
        if not request.can_read_body:
            return params, meta
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _ApiError(400, "Bad Request: can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: JSON object expected")
            params.update(body)
            return params, meta
        form = await request.post()
        uploads: dict[str, bytes] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploads[key] = value.file.read()
                meta[key] = (value.filename, value.content_type)
            elif isinstance(value, (bytes, bytearray)):
                params[key] = _decode_field(key, bytes(value).decode("utf-8"))
            else:
                params[key] = _decode_field(key, value)
        used: set[str] = set()

        def resolve(value: Any) -> Any:
            if isinstance(value, str) and value.startswith("attach://"):
                name = value.removeprefix("attach://")
                if name in uploads:
                    used.add(name)
                    return uploads[name]
            if isinstance(value, dict):
                return {k: resolve(v) for k, v in value.items()}
            if isinstance(value, list):
                return [resolve(v) for v in value]
            return value

        params = {key: resolve(value) for key, value in params.items()}
        for key, data in uploads.items():
            if key not in used:
                params[key] = data
        return params, {key: value for key, value in meta.items() if key not in used}

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ model helpers

    def _bot_sender(self) -> JSON:
        """The bot as it appears in ``from`` of its messages (getMe has more fields)."""
        keys = ("id", "is_bot", "first_name", "username")
        return {key: self.bot_user[key] for key in keys}

    def _user(self, user_id: int, first_name: str) -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}

    def _chat(self, chat_id: int) -> JSON:
        if chat_id > 0:
            chat: JSON = {"id": chat_id, "type": "private"}
            if chat_id in self._user_names:
                chat["first_name"] = self._user_names[chat_id]
            return chat
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    @staticmethod
    def _chat_id(params: JSON) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    @staticmethod
    def _int_param(params: JSON, name: str, default: int | None = None) -> int | None:
        value = params.get(name, default)
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _ApiError(400, f"Bad Request: invalid {name} specified") from None

    def _format(
        self, text: Any, parse_mode: Any, entities: Any, *, caption: bool
    ) -> tuple[str, list[JSON]]:
        """Apply parse_mode and Telegram's length rules; returns visible text and entities."""
        raw = "" if text is None else str(text)
        mode = str(parse_mode).lower() if parse_mode else ""
        if mode == "html":
            try:
                plain, found = _parse_html(raw, self.allowed_html_tags)
            except _HtmlError as error:
                raise _ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            plain = raw  # Markdown is passed through unchecked
            found = list(entities) if isinstance(entities, list) else []
        else:
            raise _ApiError(400, "Bad Request: unsupported parse_mode")
        if not caption and not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if caption and len(plain) > MAX_CAPTION_LENGTH:
            raise _ApiError(400, "Bad Request: message caption is too long")
        if not caption and len(plain) > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        return plain, found

    @staticmethod
    def _inline_markup(markup: Any) -> JSON | None:
        """Validate reply_markup; return it only if inline (Telegram echoes only those)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return None
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise _ApiError(400, "Bad Request: can't parse inline keyboard button: array expected")
        for row in keyboard:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _ApiError(
                        400,
                        'Bad Request: can\'t parse inline keyboard button: Field "text" must '
                        "be of type String",
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _bot_message(self, chat_id: int, params: JSON, content: JSON) -> JSON:
        """Create, store and return a message from the bot, as Telegram echoes it back."""
        replied: JSON | None = None
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and "message_id" in reply:
            replied = self._messages.get(reply.get("chat_id", chat_id), {}).get(reply["message_id"])
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise _ApiError(400, "Bad Request: message to be replied not found")
        markup = self._inline_markup(params.get("reply_markup"))
        message: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": self._bot_sender(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        if replied is not None:
            message["reply_to_message"] = {
                key: value for key, value in replied.items() if key != "reply_to_message"
            }
        if markup is not None:
            message["reply_markup"] = markup
        self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        self._last_bot_message[chat_id] = message["message_id"]
        return copy.deepcopy(message)

    def _store_file(
        self, data: bytes, folder: str, file_name: str | None, mime_type: str | None
    ) -> _StoredFile:
        number = next(self._file_ids)
        stored = _StoredFile(
            file_id=f"FAKE-{folder}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            data=data,
            file_path=f"{folder}/file_{number}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _input_file(self, params: JSON, uploads: _Uploads, name: str, folder: str) -> _StoredFile:
        """Resolve an uploaded file, a known file_id, or (accepted blindly) a URL/unknown id."""
        value = params.get(name)
        if isinstance(value, bytes):
            if not value:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            file_name, mime_type = uploads.get(name, (None, None))
            return self._store_file(value, folder, file_name, mime_type)
        if isinstance(value, str) and value:
            known = self._files.get(value)
            return known if known is not None else self._store_file(b"", folder, None, None)
        raise _ApiError(400, f"Bad Request: there is no {name} in the request")

    def _editable(self, params: JSON) -> JSON | None:
        """The stored message an edit targets, or None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._chat_id(params)
        message_id = self._int_param(params, "message_id")
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message

    # ------------------------------------------------------------------ API methods

    async def _get_me(self, params: JSON, uploads: _Uploads) -> Any:
        return copy.deepcopy(self.bot_user)

    async def _get_updates(self, params: JSON, uploads: _Uploads) -> Any:
        if self._webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = self._int_param(params, "offset")
        limit = max(1, min(100, self._int_param(params, "limit", 100) or 100))
        try:
            timeout = max(0.0, min(MAX_POLL_SECONDS, float(params.get("timeout") or 0)))
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: invalid timeout specified") from None
        allowed = params.get("allowed_updates")
        if offset is not None:
            self._confirm(offset)
        if not self._updates and timeout > 0 and not self._closing:
            self._parked_polls += 1
            self._signal.notify()
            try:
                await self._signal.wait_until(lambda: bool(self._updates) or self._closing, timeout)
            except TimeoutError:
                pass
            finally:
                self._parked_polls -= 1
        if isinstance(allowed, list) and allowed:
            # Telegram silently drops updates of types the bot did not ask for.
            kept = [u for u in self._updates if any(kind in u for kind in allowed)]
            self._updates = deque(kept)
        batch = list(itertools.islice(self._updates, limit))
        if batch:
            self._delivered_upto = max(self._delivered_upto, batch[-1]["update_id"])
        return copy.deepcopy(batch)

    def _confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset < 0:
            while len(self._updates) > -offset:
                self._forget(self._updates.popleft())
        else:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._forget(self._updates.popleft())

    def _forget(self, update: JSON) -> None:
        self._delivered_upto = max(self._delivered_upto, update["update_id"])

    async def _send_message(self, params: JSON, uploads: _Uploads) -> Any:
        chat_id = self._chat_id(params)
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._bot_message(chat_id, params, content)

    def _caption(self, params: JSON) -> JSON:
        if not params.get("caption"):
            return {}
        caption, entities = self._format(
            params["caption"],
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        content: JSON = {"caption": caption}
        if entities:
            content["caption_entities"] = entities
        return content

    async def _send_photo(self, params: JSON, uploads: _Uploads) -> Any:
        chat_id = self._chat_id(params)
        caption = self._caption(params)
        self._inline_markup(params.get("reply_markup"))
        stored = self._input_file(params, uploads, "photo", "photos")
        width, height = _image_size(stored.data)
        scale = min(1.0, 90 / max(width, height, 1))
        thumb = self._files.get(stored.file_id + "-thumb")
        if thumb is None:
            thumb = _StoredFile(
                stored.file_id + "-thumb", stored.file_unique_id + "t", stored.data,
                stored.file_path + "_thumb", None, stored.mime_type,
            )  # fmt: skip
            self._files[thumb.file_id] = thumb
            self._files_by_path[thumb.file_path] = thumb
        sizes = [
            {
                "file_id": thumb.file_id,
                "file_unique_id": thumb.file_unique_id,
                "width": max(1, round(width * scale)),
                "height": max(1, round(height * scale)),
                "file_size": len(thumb.data),
            },
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(stored.data),
            },
        ]
        return self._bot_message(chat_id, params, {"photo": sizes, **caption})

    async def _send_document(self, params: JSON, uploads: _Uploads) -> Any:
        chat_id = self._chat_id(params)
        caption = self._caption(params)
        self._inline_markup(params.get("reply_markup"))
        stored = self._input_file(params, uploads, "document", "documents")
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return self._bot_message(chat_id, params, {"document": document, **caption})

    async def _edit_message_text(self, params: JSON, uploads: _Uploads) -> Any:
        message = self._editable(params)
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._inline_markup(params.get("reply_markup"))
        if message is None:
            return True
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if (
            message.get("text") == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        message["edit_date"] = int(time.time())
        self._set_optional(message, "entities", entities or None)
        self._set_optional(message, "reply_markup", markup)  # omitted markup removes the keyboard
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(self, params: JSON, uploads: _Uploads) -> Any:
        message = self._editable(params)
        markup = self._inline_markup(params.get("reply_markup"))
        if message is None:
            return True
        if message.get("reply_markup") == markup:
            raise _ApiError(400, _NOT_MODIFIED)
        message["edit_date"] = int(time.time())
        self._set_optional(message, "reply_markup", markup)
        return copy.deepcopy(message)

    @staticmethod
    def _set_optional(message: JSON, key: str, value: Any) -> None:
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value

    async def _answer_callback_query(self, params: JSON, uploads: _Uploads) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise _ApiError(400, _STALE_QUERY)  # unknown, or already answered
        self._open_callbacks.discard(query_id)
        return True

    @staticmethod
    def _commands_key(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    async def _set_my_commands(self, params: JSON, uploads: _Uploads) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            if not isinstance(name, str) or not _COMMAND_NAME_RE.fullmatch(name):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: command description must be 1-256 characters")
        self._commands[self._commands_key(params)] = copy.deepcopy(commands)
        return True

    async def _get_my_commands(self, params: JSON, uploads: _Uploads) -> Any:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: JSON, uploads: _Uploads) -> Any:
        self._commands.pop(self._commands_key(params), None)
        return True

    async def _delete_webhook(self, params: JSON, uploads: _Uploads) -> Any:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            while self._updates:
                self._forget(self._updates.popleft())
        return True

    async def _set_webhook(self, params: JSON, uploads: _Uploads) -> Any:
        self._webhook_url = str(params.get("url") or "")
        self.webhook_connections = self._int_param(params, "max_connections", 40) or 40
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):  # omitted: "the previous setting will be used"
            self._webhook_allowed = [str(kind) for kind in allowed]
        if params.get("drop_pending_updates"):
            while self._updates:
                self._forget(self._updates.popleft())
        return True

    async def _get_webhook_info(self, params: JSON, uploads: _Uploads) -> Any:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
            "max_connections": self.webhook_connections,
            **({"allowed_updates": list(self._webhook_allowed)} if self._webhook_allowed else {}),
        }

    async def _send_chat_action(self, params: JSON, uploads: _Uploads) -> Any:
        self._chat_id(params)
        if not params.get("action"):
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _get_file(self, params: JSON, uploads: _Uploads) -> Any:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }
