"""python-telegram-bot's real Bot over the aiohttp transport, against the fake Bot API server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram_http import AiohttpRequest
from tests.conftest import TELEGRAM_TOKEN as TOKEN
from tests.fakes.telegram import FakeTelegram

CHAT = 4242


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.file_url,
                   request=AiohttpRequest(), get_updates_request=AiohttpRequest(pool_size=1)) as client:
        yield client


@pytest.mark.asyncio
async def test_messages_keyboards_and_uploads_arrive_intact(fake: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Lệ phí", callback_data="proc:x:fees")]])
    sent = await bot.send_message(CHAT, "Giấy khai sinh & 123 <b>", reply_markup=keyboard)
    assert sent.text == "Giấy khai sinh & 123 <b>" and sent.reply_markup == keyboard
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (64).to_bytes(4, "big") * 2 + b"rest"
    photo = await bot.send_photo(CHAT, png, filename="bieu-do.png")
    assert photo.photo[-1].width == 64
    text_call, photo_call = fake.sent(CHAT)
    assert text_call.params["reply_markup"] == keyboard.to_dict()
    assert photo_call.params["photo"] == png and photo_call.filenames == {"photo": "bieu-do.png"}


@pytest.mark.asyncio
async def test_long_poll_returns_updates(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_text(CHAT, "khai sinh")
    [update] = await bot.get_updates(timeout=5)
    assert update.message is not None and update.message.text == "khai sinh"


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")  # PTB's own RetryAfter init
async def test_api_errors_keep_their_meaning(fake: FakeTelegram, bot: Bot) -> None:
    """The rate limiter retries on RetryAfter and the bot gives up on BadRequest: the transport
    must hand status and body through untouched for PTB to tell them apart."""
    fake.fail_next("sendMessage", error_code=429, description="Too Many Requests", retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "một")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(CHAT, "x" * 5000)


@pytest.mark.asyncio
async def test_a_server_that_never_answers_times_out() -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def hang(request: web.Request) -> web.Response:
        await never
        return web.Response()

    app = web.Application()
    app.router.add_post("/{tail:.*}", hang)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request).get_me()
    finally:
        await request.shutdown()
        await runner.cleanup()


@pytest.mark.asyncio
async def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="ClientConnectorError") as raised:
            await Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request).get_me()
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()
