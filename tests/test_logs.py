"""Whatever is logged, by us or by a library, reaches the log with secrets and long numbers
masked."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from bot import logs
from bot.channels.registry import secret_values
from bot.logs import LIBRARY_LOGGERS, setup_logging

TOKEN = "123456:SECRET-TOKEN-value"
LINE_START = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} [A-Z]+ ")


@pytest.fixture(autouse=True)
def restore_levels(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """setup_logging sets the root's and the libraries' levels: put them back for other tests."""
    monkeypatch.setattr(logs, "_RUNTIME_SECRETS", set())
    names = ("", *LIBRARY_LOGGERS)
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = setup_logging([TOKEN, "abc"], stream=out)
    yield out
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = setup_logging([TOKEN], level=logging.DEBUG, stream=out)
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


# R13: the masking must not eat the line's own time field


def test_every_line_keeps_its_date_and_hour(log: io.StringIO) -> None:
    logging.getLogger("x").warning("phone 0912 345 678")
    try:
        raise ValueError("chat 5551234567")
    except ValueError:
        logging.getLogger("x").exception("failed")
    lines = [line for line in log.getvalue().splitlines() if " x: " in line]
    assert len(lines) == 2 and all(LINE_START.match(line) for line in lines), lines
    assert "5551234567" not in log.getvalue() and "0912 345 678" not in log.getvalue()


def test_a_date_and_hour_inside_a_message_is_not_taken_for_a_phone(log: io.StringIO) -> None:
    logging.getLogger("x").warning("outbox 12: retry at 2026-11-30 05:44:07")
    assert "outbox 12: retry at 2026-11-30 05:44:07" in log.getvalue()


def test_the_record_is_left_unmasked_for_other_handlers(log: io.StringIO) -> None:
    """The formatter masks a copy; a test handler or a second sink sees the record as logged."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    logging.getLogger().addHandler(keep)
    try:
        logging.getLogger("x").warning("user %s", "5551234567")
    finally:
        logging.getLogger().removeHandler(keep)
    assert seen[0].getMessage() == "user 5551234567" and "5551234567" not in log.getvalue()


# R15: ids of any length, runtime secrets, tokens in URLs and fields, names; libraries quiet


@pytest.mark.parametrize(("message", "leak"), [
    ("Bad Request: chat 12345678 not found", "12345678"),
    ("Call returned `{'message_id': 3, 'chat': {'id': 12345678, 'type': 'private'}}`", "12345678"),
    ("Calling `sendMessage` with parameters `{'chat_id': 1234567, 'text': 'x'}`", "1234567"),
    ("executing 'SELECT state FROM conversations WHERE channel = ? AND user = ?', ('telegram', '12345678')",
     "12345678"),
    ("Chat(first_name='Lộ', id=12345678, type=<ChatType.PRIVATE>)", "12345678"),
    ("{'from': {'id': 777001, 'first_name': 'Nguyễn Văn Lộ', 'username': 'lo_nguyen_hn'}}", "Nguyễn Văn Lộ"),
    ("{'from': {'id': 777001, 'first_name': 'Nguyễn Văn Lộ', 'username': 'lo_nguyen_hn'}}", "lo_nguyen_hn"),
    ("{'from': {'id': 777001, 'first_name': 'Nguyễn Văn Lộ'}}", "777001"),
    ("`setWebhook` with parameters `{'url': 'https://x/hook', 'secret_token': 'zbqicsNjIyzRUScm4mnivHwt'}`",
     "zbqicsNjIyzRUScm4mnivHwt"),
    ('POST /v4/oa/access_token answered {"access_token": "at-new-0001", "refresh_token": "rt-new-0001"}',
     "at-new-0001"),
    ('POST /v4/oa/access_token answered {"access_token": "at-new-0001", "refresh_token": "rt-new-0001"}',
     "rt-new-0001"),
    ("GET https://openapi.zalo.me/v3.0/oa/user/detail?access_token=opaqueAccessValue&data=x", "opaqueAccessValue"),
    ("headers {'X-Telegram-Bot-Api-Secret-Token': 'hookSecretValue'}", "hookSecretValue"),
    ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
    ("POST https://bot-api.zapps.me/bot987654:zalo-bot-token-value/sendMessage", "zalo-bot-token-value"),
    ("typed: Tôi là Trần Văn Hỏi, nhà 12 ngõ 34 Hàng Bạc, email hoi@example.com", "hoi@example.com"),
    ("typed: Tôi là Trần Văn Hỏi, nhà 12 ngõ 34 Hàng Bạc, email hoi@example.com", "Hàng Bạc"),
    ("typed: Tôi là Trần Văn Hỏi, nhà 12 ngõ 34 Hàng Bạc, email hoi@example.com", "Trần Văn Hỏi"),
])
def test_ids_tokens_and_names_are_masked_wherever_they_appear(log: io.StringIO, message: str, leak: str) -> None:
    logging.getLogger("bot.x").warning("%s", message)
    assert leak not in log.getvalue() and "***" in log.getvalue()


def test_ordinary_numbers_stay_readable(log: io.StringIO) -> None:
    logging.getLogger("bot.notifier").warning("outbox 42: attempt 3 failed: TimeoutError")
    logging.getLogger("bot.service").info("web server on 127.0.0.1:8443")
    assert "outbox 42: attempt 3 failed" in log.getvalue() and "127.0.0.1:8443" in log.getvalue()


def test_a_secret_made_while_running_is_masked_from_then_on(log: io.StringIO) -> None:
    """The per-start Telegram webhook secret and refreshed Zalo tokens are not in the environment."""
    logs.remember_secret("per-start-webhook-secret-123")
    logs.remember_secret("tiny")                         # too short: it would mask ordinary words
    logging.getLogger("x").warning("echoed per-start-webhook-secret-123 in a tiny body")
    assert "per-start-webhook-secret-123" not in log.getvalue() and "tiny body" in log.getvalue()


def test_every_configured_secret_of_the_registry_reaches_the_formatter() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "111:telegram-token-value", "ZALO_APP_ID": "1234", "ZALO_APP_SECRET": "app-secret-value",
           "ZALO_OA_SECRET_KEY": "oa-secret-key-value", "ZALO_OA_ACCESS_TOKEN": "oa-access-value",
           "ZALO_OA_REFRESH_TOKEN": "oa-refresh-value", "ZALO_BOT_TOKEN": "zalo-bot-token-value",
           "ZALO_BOT_WEBHOOK_SECRET": "zalo-bot-hook-value"}
    out = io.StringIO()
    handler = setup_logging(secret_values(env), stream=out)
    try:
        logging.getLogger("x").warning("values: %s", " ".join(env.values()))
    finally:
        logging.getLogger().removeHandler(handler)
    assert not any(value in out.getvalue() for name, value in env.items() if name != "ZALO_APP_ID")


@pytest.mark.parametrize("library", ["telegram.ext.ExtBot", "httpx", "aiohttp.client", "aiosqlite"])
def test_library_debug_and_info_stay_out_of_a_debug_log(debug_log: io.StringIO, library: str) -> None:
    """At DEBUG they log whole updates and SQL parameters: names, typed text, tokens."""
    logging.getLogger(library).debug("Processing update Update(first_name='Lộ')")
    logging.getLogger(library).info("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    logging.getLogger("bot.dialog").debug("our own debug line")
    logging.getLogger(library).warning("a warning still shows")
    text = debug_log.getvalue()
    assert "Processing update" not in text and "HTTP Request" not in text
    assert "our own debug line" in text and "a warning still shows" in text


def test_library_debug_can_be_asked_for_and_is_masked_then() -> None:
    out = io.StringIO()
    handler = setup_logging([TOKEN], level=logging.DEBUG, stream=out, library_level=logging.DEBUG)
    try:
        logging.getLogger("telegram.ext.ExtBot").debug("Calling `sendMessage` with `{'chat_id': 12345678}`")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "Calling `sendMessage`" in out.getvalue() and "12345678" not in out.getvalue()
