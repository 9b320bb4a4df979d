"""Proves the fake Telegram server speaks the Bot API well enough for PTB's real Bot/Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.conftest import TELEGRAM_TOKEN as TOKEN
from tests.fakes.telegram import FakeTelegram

CHAT = 4242


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.file_url) as client:
        yield client


@pytest.mark.asyncio
async def test_send_message_is_decoded_and_echoed(fake: FakeTelegram, bot: Bot) -> None:
    assert bot.username == "motcua_test_bot"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Hộ tịch", callback_data="g:1")]])

    first = await bot.send_message(CHAT, "123", reply_markup=keyboard)
    second = await bot.send_message(CHAT, "<b>Giấy</b> khai sinh &amp; hộ tịch", parse_mode="HTML")

    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == CHAT and first.from_user is not None and first.from_user.is_bot
    assert first.reply_markup == keyboard
    assert second.text == "Giấy khai sinh & hộ tịch"
    assert [(e.type, e.offset, e.length) for e in second.entities] == [("bold", 0, 4)]
    call = fake.sent(CHAT)[0]
    # Numbers-looking text stays a string, ids become ints, JSON fields become dicts.
    assert call.params["text"] == "123"
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Hộ tịch", "callback_data": "g:1"}]]
    }


@pytest.mark.asyncio
async def test_validation_matches_telegram(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(CHAT, "x" * 4097)
    await bot.send_message(CHAT, "x" * 4096)
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(CHAT, "")
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="d" * 65)]])
    # PTB strips "Bad Request: " and str.capitalize()s the rest: "Button_data_invalid".
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(CHAT, "menu", reply_markup=too_long)
    for bad_html in ("<b>open", "<b>x</i>", "<h1>x</h1>", "a < b", "Tom & Jerry", "x</b>"):
        with pytest.raises(BadRequest, match="an't parse entities"):
            await bot.send_message(CHAT, bad_html, parse_mode="HTML")
    sent = await bot.send_message(CHAT, "ok", parse_mode="HTML")
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("ok", chat_id=CHAT, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("new", chat_id=CHAT, message_id=999)
    assert [c.ok for c in fake.calls if c.method == "sendMessage"] == [
        False, True, False, False, False, False, False, False, False, False, True,
    ]  # fmt: skip


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")  # PTB's own RetryAfter init
async def test_fail_next_and_wrong_token(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", retry_after=3)
    fake.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    with pytest.raises(RetryAfter, match="Retry in 3"):
        await bot.send_message(CHAT, "một")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(CHAT, "hai")
    await bot.send_message(CHAT, "ba")
    assert [c.params["text"] for c in await fake.wait_for("sendMessage")] == ["ba"]

    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=fake.base_url):
            pass  # initialize() calls getMe, which must fail
    assert (fake.calls[-1].method, fake.calls[-1].error_code) == ("getMe", 401)


@pytest.mark.asyncio
async def test_uploads_and_downloads(fake: FakeTelegram, bot: Bot) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") * 2 + b"rest"
    photo = await bot.send_photo(CHAT, png, caption="<i>Biểu đồ</i>", parse_mode="HTML")
    document = await bot.send_document(CHAT, b"%PDF-1.4 ho so", filename="to-khai.pdf")

    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 640)
    assert photo.caption == "Biểu đồ"
    assert document.document is not None
    assert (document.document.file_name, document.document.mime_type) == (
        "to-khai.pdf",
        "application/pdf",
    )
    photo_call, document_call = fake.sent(CHAT)
    assert photo_call.params["photo"] == png
    assert document_call.params["document"] == b"%PDF-1.4 ho so"
    assert document_call.filenames == {"document": "to-khai.pdf"}
    downloaded = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"%PDF-1.4 ho so"


@pytest.mark.asyncio
async def test_json_bodies_are_accepted(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{fake.base_url}{TOKEN}/sendMessage",
            json={"chat_id": CHAT, "text": "42", "reply_markup": {"inline_keyboard": []}},
        )
    assert response.json()["ok"] is True
    assert fake.calls[-1].params == {
        "chat_id": CHAT,
        "text": "42",
        "reply_markup": {"inline_keyboard": []},
    }


@pytest.mark.asyncio
async def test_get_updates_long_poll_and_offset(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(milliseconds=300)) == ()
    assert time.monotonic() - started >= 0.25  # the empty poll really waited

    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for_poll()
    update_id = fake.push_text(CHAT, "/start")
    updates = await asyncio.wait_for(poll, 5)  # woken by the push, not by the 30 s timeout
    assert [u.update_id for u in updates] == [update_id]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert fake.unanswered_updates() == 0

    assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet: redelivered
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    with pytest.raises(TimeoutError, match=r"(?s)sendPhoto.*getUpdates"):
        await fake.wait_for("sendPhoto", timeout=0.05)


@pytest.mark.asyncio
async def test_application_polling_round_trip(fake: FakeTelegram) -> None:
    errors: list[object] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = [[InlineKeyboardButton("Khai sinh", callback_data="proc:khai-sinh")]]
        await update.message.reply_text(
            "<b>Chào bạn</b>, chọn thủ tục:",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(keyboard),
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Bạn chọn: {query.data}")

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app = (
        ApplicationBuilder().token(TOKEN).base_url(fake.base_url).base_file_url(fake.file_url)
    ).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(button))
    app.add_error_handler(on_error)

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=10))

        fake.push_text(CHAT, "/start")
        [menu] = await fake.wait_for("sendMessage", chat_id=CHAT)
        assert menu.result["reply_markup"]["inline_keyboard"][0][0]["text"] == "Khai sinh"

        fake.push_callback(CHAT, "proc:khai-sinh")
        await fake.wait_for("answerCallbackQuery")
        [edit] = await fake.wait_for("editMessageText", chat_id=CHAT)
        assert edit.params["message_id"] == menu.result["message_id"]
        assert edit.params["text"] == "Bạn chọn: proc:khai-sinh"
        assert "reply_markup" not in edit.result  # editing text without markup drops buttons

        last = fake.push_text(CHAT, "123")
        await fake.wait_for("sendMessage", 2, chat_id=CHAT)

        await app.updater.stop()
        await app.stop()

    assert errors == []
    assert [c.params["text"] for c in fake.sent(CHAT)] == [
        "<b>Chào bạn</b>, chọn thủ tục:",
        "Bạn chọn: proc:khai-sinh",
        "123",
    ]
    assert fake.unanswered_updates() == 0
    # Updater.stop() confirms what it fetched with one last non-blocking getUpdates.
    final_poll = [c for c in fake.calls if c.method == "getUpdates"][-1]
    assert final_poll.params["offset"] == last + 1
    assert fake.calls[0].method == "getMe"


@pytest.mark.asyncio
async def test_a_method_in_the_webhook_response_is_performed(fake: FakeTelegram) -> None:
    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        text = update["message"]["text"]
        return web.json_response({"method": "sendMessage", "chat_id": CHAT, "text": text})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        assert await fake.post_webhook(url, "s", fake.text_update(CHAT, "xin chào")) == 200
        assert await fake.post_webhook(url, "s", fake.text_update(CHAT, "x" * 5000)) == 200
    finally:
        await runner.cleanup()
    [ok] = fake.sent(CHAT)
    assert ok.params["text"] == "xin chào"
    # Telegram performs the call but tells nobody when it fails
    assert (fake.calls[-1].ok, fake.calls[-1].description) == (False, "Bad Request: message is too long")


@pytest.mark.asyncio
async def test_updates_that_are_not_new_private_messages_decode_as_the_bot_api_shapes_them(
    fake: FakeTelegram, bot: Bot
) -> None:
    sent = fake.text_update(CHAT, "/hoso xem 1")["message"]
    raw = [
        fake.business_update(CHAT, "/hoso xem 1", user_id=5555),
        fake.business_update(CHAT, "/hoso xem 1", user_id=5555, edited=True),
        fake.guest_update(CHAT, "/hoso xem 1", user_id=5555),
        fake.edited_update(CHAT, sent["message_id"], "/hoso xem 2"),
    ]
    ids = [fake.push_update(update) for update in raw]
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == ids
    business, edited_business, guest, edited = updates
    assert business.business_message is not None and business.message is None
    assert business.business_message.business_connection_id == "bc-1"
    assert edited_business.edited_business_message is not None
    assert edited_business.edited_business_message.edit_date is not None
    assert guest.guest_message is not None and guest.guest_message.guest_query_id == "gq-1"
    for update in (business, guest):
        chat, sender = update.effective_chat, update.effective_user
        assert chat is not None and sender is not None and (chat.id, sender.id) == (CHAT, 5555)
    assert edited.edited_message is not None and edited.message is None
    assert edited.edited_message.message_id == sent["message_id"]
    assert edited.edited_message.text == "/hoso xem 2" and edited.edited_message.edit_date is not None
    assert fake.delivered() == set(ids)


@pytest.mark.asyncio
async def test_get_updates_drops_update_types_the_bot_did_not_ask_for(fake: FakeTelegram, bot: Bot) -> None:
    sent = fake.text_update(CHAT, "xin chào")["message"]
    dropped = [
        fake.push_update(fake.business_update(CHAT, "x", user_id=5555)),
        fake.push_update(fake.guest_update(CHAT, "x", user_id=5555)),
        fake.push_update(fake.edited_update(CHAT, sent["message_id"], "xin chào!")),
    ]
    kept = fake.push_text(CHAT, "menu")
    updates = await bot.get_updates(timeout=0, allowed_updates=["message", "callback_query"])
    assert [u.update_id for u in updates] == [kept]
    assert fake.delivered() == {kept} and not fake.delivered() & set(dropped)
    assert (await bot.get_updates(offset=kept + 1, timeout=0)) == ()

    await bot.set_webhook("https://bot.example.org/hook", allowed_updates=["message"])
    assert (await bot.get_webhook_info()).allowed_updates == ("message",)


@pytest.mark.asyncio
async def test_an_expired_button_press_can_no_longer_be_answered(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_callback(CHAT, "proc:khai-sinh", message_id=1)
    [stale] = await bot.get_updates(timeout=0)
    fake.expire_callbacks()
    fake.push_callback(CHAT, "proc:khai-tu", message_id=1)   # pressed after: still answerable
    [fresh] = await bot.get_updates(offset=stale.update_id + 1, timeout=0)
    assert stale.callback_query is not None and fresh.callback_query is not None
    with pytest.raises(BadRequest, match=r"(?i)query is too old and response timeout expired"):
        await bot.answer_callback_query(stale.callback_query.id)
    assert await bot.answer_callback_query(fresh.callback_query.id) is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):  # answered once only
        await bot.answer_callback_query(fresh.callback_query.id)


@pytest.mark.asyncio
async def test_flood_limit_answers_429_with_retry_after_and_counts_webhook_calls(fake: FakeTelegram, bot: Bot) -> None:
    async def hook(request: web.Request) -> web.Response:
        return web.json_response({"method": "sendMessage", "chat_id": CHAT, "text": "từ webhook"})

    fake.flood_limit = 2
    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.send_message(CHAT, "một")
        assert await fake.post_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", "s",
                                       fake.text_update(CHAT, "x")) == 200
        with pytest.raises(RetryAfter):
            await bot.send_message(CHAT, "ba")                 # the webhook's call used the second slot
    finally:
        await runner.cleanup()
    assert [c.from_webhook for c in fake.sent(CHAT)] == [False, True]
