"""Whatever is logged, by us or by a library, reaches the log with secrets and long numbers
masked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import setup_logging

TOKEN = "123456:SECRET-TOKEN-value"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = setup_logging([TOKEN, "abc"], stream=out)
    yield out
    logging.getLogger().removeHandler(handler)


def test_log_lines_mask_secrets_phone_and_ids(log: io.StringIO) -> None:
    logging.getLogger("x").warning("token %s user 5551234567 phone 0912 345 678", TOKEN)
    try:
        raise ValueError("chat 5551234567")
    except ValueError:
        logging.getLogger("x").exception("failed")
    text = log.getvalue()
    assert "SECRET-TOKEN" not in text and "5551234567" not in text and "0912 345 678" not in text
    assert text.count("***") >= 4


def test_a_token_in_a_request_url_logged_by_a_library_is_masked(log: io.StringIO) -> None:
    logging.getLogger("telegram.ext.Updater").error("POST https://api.telegram.org/bot%s/getUpdates failed", TOKEN)
    assert TOKEN not in log.getvalue() and "/bot***/getUpdates" in log.getvalue()


def test_short_configured_secrets_are_not_blanked_everywhere(log: io.StringIO) -> None:
    """A secret of a few characters would mask ordinary words in every line."""
    logging.getLogger("x").warning("abc checked")
    assert "abc checked" in log.getvalue()


def test_httpx_request_lines_are_not_logged_at_info(log: io.StringIO) -> None:
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    assert log.getvalue() == ""
