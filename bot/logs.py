"""Logging that cannot leak: every line is masked before it is written.

Logs end up in journald, log shippers and bug reports. Whatever a library or our own code
logs, a formatted line passes through here: secrets (bot tokens, app secrets) become "***",
and runs of 9 or more digits (phone numbers, ID numbers, chat and user ids) are masked.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Iterable
from typing import TextIO

from bot.clock import VN
from bot.privacy import mask_digits

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _office_time(seconds: float | None) -> time.struct_time:
    """Log lines carry the office's time, like everything else the bot shows (see bot/clock.py)."""
    return dt.datetime.fromtimestamp(time.time() if seconds is None else seconds, VN).timetuple()


class PrivacyFormatter(logging.Formatter):
    converter = staticmethod(_office_time)

    def __init__(self, secrets: Iterable[str] = (), fmt: str = FORMAT):
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return mask_digits(text)


def setup_logging(secrets: Iterable[str] = (), level: int = logging.INFO,
                  stream: TextIO | None = None) -> logging.Handler:
    """Route all logging through one masking handler; returns it (tests read what it wrote)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(PrivacyFormatter(secrets))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # httpx (installed for python-telegram-bot, unused by our transports) would log every request
    # URL at INFO, and Telegram's URLs carry the bot token: quiet even if a transport falls back to it
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
