"""Logging that cannot leak: every message is masked before it is written.

Logs end up in journald, log shippers and bug reports. Whatever a library or our own code
logs passes through here: secrets (bot tokens, app secrets, webhook secrets, tokens in URLs
and in `token=` / `"secret_token": ...` fields) become "***"; chat and user ids are masked
wherever they appear as ids, whatever their length (old Telegram accounts have 8 digits or
fewer); names in `first_name=` / `"username":` fields are masked; and the message goes through
`bot.privacy.mask_digits` (phones, ID numbers, e-mails, addresses, introduced names).

Only the message, the traceback and the stack are masked, never the line's own fields: the
time field is a run of ten digits with separators and was masked to "***" with them (R13).

Third-party loggers (python-telegram-bot, httpx, aiohttp, aiosqlite) stay at WARNING unless
asked for: at DEBUG they log whole updates, request parameters and SQL parameters, which hold
what citizens typed and tokens in positions no pattern can recognise (R15).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import TextIO

from bot.clock import VN
from bot.privacy import MASK, mask_digits

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

LIBRARY_LOGGERS = ("telegram", "httpx", "httpcore", "aiohttp", "aiosqlite")
"""Loggers of libraries that log personal data and secrets at DEBUG (and httpx request URLs,
which carry Telegram's bot token, at INFO)."""

MIN_SECRET = 6
"""A shorter configured value would mask ordinary words in every line."""

_RUNTIME_SECRETS: set[str] = set()
"""Secrets made while running (a per-start webhook secret, refreshed access tokens)."""

_URL_TOKEN = re.compile(r"(/(?:file/)?bot)[^/\s'\"`?#]{6,}(?=[/?#'\"`\s]|$)")
"""The bot token in a Telegram or Zalo Bot API URL: https://api.telegram.org/bot<token>/getMe."""

_SECRET_FIELD = re.compile(
    r"(?i)([\w\-]*(?:token|secret|password|passwd|signature|authorization|api[_\-]?key|mac)['\"]?"
    r"\s{0,3}[:=]\s{0,3}['\"]?(?:bearer\s+)?)[^\s'\",;&})\]`]{1,4096}")
"""A value after a key that names a secret: `secret_token='…'`, `"access_token": "…"`,
`?access_token=…`, `Authorization: Bearer …`, `X-ZEvent-Signature: mac=…`."""

_ID_FIELD = re.compile(
    r"(?i)(\b(?:chat_id|user_id|from_id|sender_id|recipient_id|chat|user|sender|recipient|id|uid|"
    r"telegram|zalo-oa|zalo-bot|zalo)['\"]?\s{0,3}[:=,/ ]\s{0,3}\(?['\"]?)-?\d{5,}")
"""An id after a word that says it is one (`chat 12345678`, `'id': 12345678`, `chat_id=…`,
and the (channel, user) pair in a query's parameters: `'telegram', '12345678'`)."""

_NAME_FIELD = re.compile(
    r"(?i)(\b(?:first_name|last_name|full_name|display_name|username|name)['\"]?\s{0,3}[:=]\s{0,3})"
    r"(['\"])[^'\"\n]{0,200}\2")
"""A name in a field (`first_name='Lộ'`, `"username": "…"`), as platforms' objects print them."""


def remember_secret(value: str) -> None:
    """Mask `value` in every log line from now on: for secrets made while running, which the
    environment (the registry's `secret_values`) does not hold."""
    if len(value) >= MIN_SECRET:
        _RUNTIME_SECRETS.add(value)


def _office_time(seconds: float | None) -> time.struct_time:
    """Log lines carry the office's time, like everything else the bot shows (see bot/clock.py)."""
    return dt.datetime.fromtimestamp(time.time() if seconds is None else seconds, VN).timetuple()


class PrivacyFormatter(logging.Formatter):
    """Masks the message, traceback and stack of each record; the time and level stay readable."""

    converter = staticmethod(_office_time)

    def __init__(self, secrets: Iterable[str] = (), fmt: str = FORMAT):
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """Secrets first (longest first, so one inside another goes whole), then the patterns."""
        for secret in sorted(set(self.secrets) | _RUNTIME_SECRETS, key=len, reverse=True):
            text = text.replace(secret, MASK)
        text = _URL_TOKEN.sub(rf"\1{MASK}", text)
        text = _SECRET_FIELD.sub(rf"\1{MASK}", text)
        text = _NAME_FIELD.sub(rf"\1\2{MASK}\2", text)
        text = _ID_FIELD.sub(rf"\1{MASK}", text)
        return mask_digits(text)

    def format(self, record: logging.LogRecord) -> str:
        """Formats a masked copy: the record itself is left as other handlers expect it."""
        masked = logging.makeLogRecord(record.__dict__)
        masked.msg, masked.args = self.mask(record.getMessage()), None
        trace = record.exc_text or (self.formatException(record.exc_info) if record.exc_info else "")
        masked.exc_info, masked.exc_text = None, self.mask(trace) if trace else None
        masked.stack_info = self.mask(record.stack_info) if record.stack_info else None
        return super().format(masked)


def setup_logging(secrets: Iterable[str] = (), level: int = logging.INFO,
                  stream: TextIO | None = None, library_level: int = logging.WARNING) -> logging.Handler:
    """Route all logging through one masking handler; returns it (tests read what it wrote).

    `secrets` are the configured ones (`bot.channels.registry.secret_values`); `library_level`
    is where the libraries' own loggers stay, WARNING unless a caller asks for their DEBUG.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(PrivacyFormatter(secrets))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
    return handler
