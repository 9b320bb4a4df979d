"""The real python-telegram-bot Application end to end against a fake Bot API server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from bot.channels import telegram
from bot.service import RunOptions, Service
from tests.conftest import TELEGRAM_TOKEN as TOKEN
from tests.fakes.telegram import FakeTelegram
from tests.helpers import make_config

CHAT = 5001


WEBHOOK_URL = "https://bot.example.org/tg-hook"


class Bot:
    """A running motcua Telegram bot on the fake server; restartable on the same database.

    Updates reach it as Telegram would deliver them: queued for long polling, or, with
    ``webhook=True``, posted to its webhook (replies in the response body performed)."""

    def __init__(self, fake: FakeTelegram, db: Path, *, webhook: bool = False, **config: object):
        self.fake = fake
        self.webhook = webhook
        self.config = make_config(db, telegram_base_url=fake.base_url, **config)
        self.service: Service | None = None

    async def start(self) -> None:
        options = RunOptions(port=0, telegram_webhook_url=WEBHOOK_URL if self.webhook else None)
        self.service = Service(self.config, ["telegram"], {"TELEGRAM_BOT_TOKEN": TOKEN}, options)
        await self.service.start()

    @property
    def channel(self) -> telegram.TelegramChannel:
        assert self.service is not None
        return self.service.channels["telegram"]  # type: ignore[return-value]

    @property
    def hook(self) -> str:
        """Where the fake posts updates: the bot's own web server, on the webhook's path."""
        assert self.service is not None and self.service.web is not None
        return f"http://127.0.0.1:{self.service.web.port}/tg-hook"

    async def stop(self) -> None:
        assert self.service is not None
        await self.service.stop()

    async def deliver(self, update: dict) -> int | None:
        """Returns the update_id when queued for polling; a webhook post returns after the turn."""
        if self.webhook:
            assert await self.fake.post_webhook(self.hook, self.channel.secret, update) == 200
            return None
        return self.fake.push_update(update)

    async def say(self, text: str, chat: int = CHAT) -> list[dict]:
        before = len(self.fake.sent(chat))
        await self.deliver(self.fake.text_update(chat, text))
        return await self._replies(chat, before)

    async def tap(self, data: str, chat: int = CHAT) -> list[dict]:
        before, answered = len(self.fake.sent(chat)), self._answered()
        await self.deliver(self.fake.callback_update(chat, data))
        await self.fake.wait_for("answerCallbackQuery", count=answered + 1)
        return await self._replies(chat, before)

    def _answered(self) -> int:
        return sum(1 for c in self.fake.calls if c.method == "answerCallbackQuery" and c.ok)

    async def _replies(self, chat: int, before: int) -> list[dict]:
        """Waits for the turn's last message, the one carrying a keyboard (every turn has one)."""
        count = before + 1
        while True:
            await self.fake.wait_for("sendMessage", count=count, chat_id=chat)
            sent = self.fake.sent(chat)[before:]
            if sent[-1].params.get("reply_markup"):
                return [c.params for c in sent]
            count = len(self.fake.sent(chat)) + 1


def buttons(params: dict) -> list[tuple[str, str]]:
    rows = params["reply_markup"]["inline_keyboard"]
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


@pytest_asyncio.fixture(params=["polling", "webhook"])
async def bot(fake: FakeTelegram, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    b = Bot(fake, tmp_path / "db.sqlite3", webhook=request.param == "webhook")
    await b.start()
    yield b
    await b.stop()


@pytest.mark.asyncio
async def test_commands_are_registered(bot: Bot) -> None:
    [call] = [c for c in bot.fake.calls if c.method == "setMyCommands"]
    assert [c["command"] for c in call.params["commands"]] == ["start", "menu", "tracuu", "help"]


@pytest.mark.asyncio
async def test_birth_question_without_diacritics_then_fee_button(bot: Bot) -> None:
    [reply] = await bot.say("lam giay khai sinh cho con can gi")
    assert "Đăng ký khai sinh" in reply["text"] and "Giấy chứng sinh" in reply["text"]
    labels = dict(buttons(reply))
    assert all(len(data.encode()) < 64 and data.isascii() for data in labels.values())
    [fee] = await bot.tap(labels["Lệ phí"])
    assert "Lệ phí" in fee["text"] and "Miễn" in fee["text"]


@pytest.mark.asyncio
async def test_short_button_labels_pair_up_and_long_ones_stand_alone(bot: Bot) -> None:
    """The same layout whether the reply rides in the webhook's answer or goes through the Bot API."""
    for question, paired in [("lam giay khai sinh cho con can gi", True), ("chứng thực", False)]:
        [reply] = await bot.say(question)
        rows = reply["reply_markup"]["inline_keyboard"]
        assert any(len(row) == 2 for row in rows) == paired
        assert all(len(row) == 1 or (len(row) == 2 and all(len(b["text"]) <= 16 for b in row)) for row in rows)
        assert all(set(b) == {"text", "callback_data"} for row in rows for b in row)


@pytest.mark.asyncio
async def test_ambiguous_question_gets_a_clarification_keyboard_and_the_tap_resolves_it(bot: Bot) -> None:
    [reply] = await bot.say("chứng thực")
    assert "Có phải bạn hỏi về" in reply["text"]
    options = dict(buttons(reply))
    assert "Chứng thực chữ ký" in options
    [answer] = await bot.tap(options["Chứng thực chữ ký"])
    assert answer["text"].startswith("Chứng thực chữ ký")


@pytest.mark.asyncio
async def test_out_of_scope_question_gets_the_hotline(bot: Bot) -> None:
    [reply] = await bot.say("làm hộ chiếu lần đầu cần gì")
    assert "chưa hỗ trợ" in reply["text"] and "1900 0000" in reply["text"]


@pytest.mark.asyncio
async def test_long_reply_arrives_as_two_messages(fake: FakeTelegram, tmp_path: Path) -> None:
    from bot.messages import Reply
    b = Bot(fake, tmp_path / "db.sqlite3")
    await b.start()
    try:
        paragraphs = "\n\n".join(["Đoạn văn bản dài về thủ tục hành chính. " * 10] * 15)
        assert 6000 <= len(paragraphs) < 8000
        await b.channel.send(str(CHAT), [Reply(paragraphs)])
        sent = [c.params["text"] for c in fake.sent(CHAT)]
        assert len(sent) == 2 and all(len(t) <= 4096 for t in sent)
        assert " ".join(" ".join(sent).split()) == " ".join(paragraphs.split())
        assert sent[0].endswith("chính.")
    finally:
        await b.stop()


@pytest.mark.asyncio
async def test_restart_in_the_middle_of_a_flow_continues_it(fake: FakeTelegram, tmp_path: Path) -> None:
    b = Bot(fake, tmp_path / "db.sqlite3")
    await b.start()
    [menu] = await b.say("/start")
    await b.stop()
    b2 = Bot(fake, tmp_path / "db.sqlite3")
    await b2.start()
    try:
        # the old message's button still works after the restart
        [group] = await b2.tap(dict(buttons(menu))["Hộ tịch"])
        assert "Hộ tịch" in group["text"]
        # and the conversation remembers the procedure it was about
        await b2.tap(dict(buttons(group))["Đăng ký kết hôn"])
        [follow] = await b2.say("thế lệ phí bao nhiêu")
        assert follow["text"].startswith("Đăng ký kết hôn · 💰 Lệ phí")
    finally:
        await b2.stop()


@pytest.mark.asyncio
async def test_stickers_get_a_friendly_text_answer(bot: Bot) -> None:
    before = len(bot.fake.sent(CHAT))
    await bot.deliver({"message": {
        "message_id": 900, "date": 0, "chat": {"id": CHAT, "type": "private"},
        "from": {"id": CHAT, "is_bot": False, "first_name": "Dân"},
        "sticker": {"file_id": "x", "file_unique_id": "x", "width": 1, "height": 1, "is_animated": False,
                    "is_video": False, "type": "regular"},
    }})
    await bot.fake.wait_for("sendMessage", count=before + 1, chat_id=CHAT)
    assert "tin nhắn dạng chữ" in bot.fake.sent(CHAT)[-1].params["text"]


@pytest.mark.asyncio
async def test_webhook_without_the_right_secret_is_refused(fake: FakeTelegram, tmp_path: Path) -> None:
    b = Bot(fake, tmp_path / "db.sqlite3", webhook=True)
    await b.start()
    try:
        [hook] = [c for c in fake.calls if c.method == "setWebhook"]
        secret = b.channel.secret
        assert hook.params["secret_token"] == secret and hook.params["url"] == WEBHOOK_URL
        info = await b.channel.application.bot.get_webhook_info()
        assert info.max_connections == 100      # Telegram's highest: a busy province posts in parallel
        assert not any(c.method == "getUpdates" for c in fake.calls)
        update = fake.text_update(CHAT, "khai sinh")
        assert await fake.post_webhook(b.hook, "wrong", update) == 403
        assert await fake.post_webhook(b.hook, "", update) == 403
        assert fake.sent(CHAT) == []
        assert await fake.post_webhook(b.hook, secret, update) == 200
        [reply] = fake.sent(CHAT)
        assert "khai sinh" in reply.params["text"].lower()
        async with httpx.AsyncClient() as client:
            health = await client.get(b.hook.replace("/tg-hook", "/healthz"))
        assert health.json() == {"status": "ok", "channels": ["telegram"]}
    finally:
        await b.stop()


@pytest.mark.asyncio
async def test_staff_import_cases_by_sending_a_csv_file_and_citizens_cannot(fake: FakeTelegram, tmp_path: Path) -> None:
    staff_chat = 7007
    b = Bot(fake, tmp_path / "db.sqlite3", staff={"telegram": frozenset({str(staff_chat)})})
    await b.start()
    try:
        data = "code,procedure,name,phone\n000.00.27.H15-251120-0001,dang-ky-khai-sinh,Nguyễn A,0912345678\n".encode()
        fake.push_document(CHAT, data, "hoso.csv", caption="/hoso nhap")
        fake.push_document(staff_chat, data, "hoso.csv", caption="/hoso nhap")
        [reply] = await fake.wait_for("sendMessage", chat_id=staff_chat)
        assert reply.params["text"] == "Đã nhập 1 hồ sơ."
        await fake.wait_for("sendMessage", chat_id=CHAT)
        assert "Đã nhập" not in fake.sent(CHAT)[-1].params["text"]
    finally:
        await b.stop()


@pytest.mark.asyncio
async def test_rating_a_returned_case_end_to_end(fake: FakeTelegram, tmp_path: Path) -> None:
    from bot.app import open_desk
    from tests.helpers import make_config
    code = "000.00.27.H15-251120-0012"
    db = tmp_path / "db.sqlite3"
    desk = await open_desk(make_config(db))
    await desk.add(code, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678")
    await desk.store.close()
    b = Bot(fake, db, notifier_interval=0.2)
    await b.start()
    try:
        await b.say(f"tra cứu {code}")
        [view] = await b.say("5678")
        await b.tap(dict(buttons(view))["🔔 Theo dõi, báo khi có thay đổi"])
        desk = await open_desk(make_config(db))
        await desk.update(code, "returned", "")
        await desk.store.close()
        # the notifier finds the outbox row written by "another process" (another connection)
        calls = await fake.wait_for("sendMessage", count=len(fake.sent(CHAT)) + 1, chat_id=CHAT)
        prompt = calls[-1].params
        assert "Đã trả kết quả" in prompt["text"] and "Bạn hài lòng thế nào" in prompt["text"]
        [q1] = await b.tap(dict(buttons(prompt))["Hài lòng"])
        [q2] = await b.tap(dict(buttons(q1))["Bỏ qua"])
        [q3] = await b.tap(dict(buttons(q2))["Bỏ qua"])
        [ask] = await b.tap(dict(buttons(q3))["Bỏ qua"])
        [done] = await b.tap(dict(buttons(ask))["Bỏ qua"])
        assert "Cảm ơn bạn đã đánh giá" in done["text"]
        [again] = await b.tap(dict(buttons(prompt))["Rất hài lòng"])
        assert "đã được ghi nhận" in again["text"]
    finally:
        await b.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_staff_weekly_report_arrives_as_chart_then_summary(fake: FakeTelegram, tmp_path: Path,
                                                                 webhook: bool) -> None:
    b = Bot(fake, tmp_path / "db.sqlite3", webhook=webhook, staff={"telegram": frozenset({str(CHAT)})})
    await b.start()
    try:
        await b.deliver(fake.text_update(CHAT, "/baocao tuan"))
        [photo] = await fake.wait_for("sendPhoto", chat_id=CHAT, timeout=30)
        [summary] = await fake.wait_for("sendMessage", chat_id=CHAT)
        assert photo.params["photo"][:8] == b"\x89PNG\r\n\x1a\n"
        assert summary.params["text"].startswith("Báo cáo")
        assert fake.sent(CHAT) == [photo, summary]
    finally:
        await b.stop()


@pytest.mark.asyncio
async def test_markup_injection_is_sent_back_as_plain_text(bot: Bot) -> None:
    [reply] = await bot.say("<b>khai sinh</b> *đậm* _nghiêng_ [link](http://x) </i>&amp;")
    assert "parse_mode" not in reply
    assert reply["text"]


@pytest.mark.asyncio
async def test_logs_of_a_full_journey_hold_no_personal_data_or_token(fake: FakeTelegram, tmp_path: Path) -> None:
    import io
    import logging

    from bot.app import open_desk
    from bot.logs import setup_logging
    from tests.helpers import make_config

    chat = 5551234567
    code = "000.00.27.H15-251120-0012"
    out = io.StringIO()
    handler = setup_logging([TOKEN], stream=out)
    b = Bot(fake, tmp_path / "db.sqlite3", staff={"telegram": frozenset({"7007"})}, notifier_interval=0.2)
    try:
        desk = await open_desk(make_config(tmp_path / "db.sqlite3"))
        await desk.add(code, "dang-ky-ket-hon", "Nguyễn Thị Bí Mật", "0912345678")
        await desk.store.close()
        await b.start()
        await b.say("lam giay khai sinh cho con can gi, sdt em 0912345678", chat)
        await b.say(f"tra cứu {code}", chat)
        [view] = await b.say("5678", chat)
        await b.tap(dict(buttons(view))["🔔 Theo dõi, báo khi có thay đổi"], chat)
        fake.fail_next("sendMessage")                   # a failing send gets logged
        fake.push_text(chat, "menu")
        await fake.wait_for("answerCallbackQuery")
        fake.push_text(7007, f"/hoso capnhat {code} processing")
        await fake.wait_for("sendMessage", chat_id=7007)
        await fake.wait_for("sendMessage", count=5, chat_id=chat)
    finally:
        await b.stop()
        logging.getLogger().removeHandler(handler)
    logged = out.getvalue()
    assert logged, "the journey logged nothing at all"
    for secret in (TOKEN, "Bí Mật", "0912345678", "912345678", str(chat)):
        assert secret not in logged


# Who may act as whom (audit R5, R18): the person is the sender of a new message or button press
# in their own private chat; business and guest messages, whose chat is someone else's, and
# edits of old messages are not turns.

STAFF = 9000
ATTACKER = 5555
CASE = "000.00.27.H15-251120-0042"
SERVED = ["message", "callback_query"]


async def staff_bot(fake: FakeTelegram, db: Path, webhook: bool) -> Bot:
    """A running bot whose one staff member is STAFF, with CASE just received."""
    from bot.app import open_desk
    desk = await open_desk(make_config(db))
    await desk.add(CASE, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678")
    await desk.store.close()
    b = Bot(fake, db, webhook=webhook, staff={"telegram": frozenset({str(STAFF)})})
    await b.start()
    return b


async def history(db: Path) -> list[tuple[str, str, str]]:
    """CASE's steps as (status, note, staff), read through another connection."""
    from bot.app import open_desk
    desk = await open_desk(make_config(db))
    try:
        case = await desk.get(CASE)
    finally:
        await desk.store.close()
    assert case is not None
    return [(step.status, step.note, step.staff) for step in case.history]


async def staff_says(b: Bot, text: str) -> str:
    """STAFF's own private message, and the one reply a staff command gets."""
    before = len(b.fake.sent(STAFF))
    await b.deliver(b.fake.text_update(STAFF, text))
    calls = await b.fake.wait_for("sendMessage", count=before + 1, chat_id=STAFF)
    return str(calls[-1].params["text"])


@pytest.mark.asyncio
async def test_the_filter_and_the_sender_check_each_refuse_what_is_not_a_private_turn(fake: FakeTelegram) -> None:
    """Either layer alone stops the updates of the tests below; this keeps each honest on its own."""
    from telegram import Bot as PTBBot
    from telegram import Update

    own = fake.text_update(STAFF, "/hoso xem 1")
    async with PTBBot(TOKEN, base_url=fake.base_url) as client:
        await client.send_message(STAFF, "menu")  # a bot message to press buttons on

        def update(raw: dict) -> Update:
            return Update.de_json({"update_id": 1, **raw}, client)

        not_a_new_private_message = {
            "business_message": fake.business_update(STAFF, "/hoso xem 1", user_id=ATTACKER),
            "edited_business_message": fake.business_update(STAFF, "x", user_id=ATTACKER, edited=True),
            "guest_message": fake.guest_update(STAFF, "/hoso xem 1", user_id=ATTACKER),
            "edited_message": fake.edited_update(STAFF, own["message"]["message_id"], "/hoso xem 2"),
            "channel_post": {"channel_post": {"message_id": 1, "date": 0, "text": "/hoso xem 1",
                                              "chat": {"id": -1001, "type": "channel", "title": "Kênh"}}},
            "group_text": fake.text_update(-100, "/hoso xem 1", user_id=STAFF),
        }
        for name, raw in not_a_new_private_message.items():
            assert not telegram.NEW_PRIVATE_MESSAGES.check_update(update(raw)), name
            assert telegram.served_user(update(raw)) is None, name
        # the kind is right but the sender is not the chat: only the sender check can tell
        assert telegram.served_user(update(fake.text_update(STAFF, "/hoso xem 1", user_id=ATTACKER))) is None
        assert telegram.served_user(update(fake.callback_update(STAFF, "x", user_id=ATTACKER))) is None
        assert telegram.NEW_PRIVATE_MESSAGES.check_update(update(own))
        assert telegram.served_user(update(own)) == STAFF
        assert telegram.served_user(update(fake.callback_update(STAFF, "x"))) == STAFF


@pytest.mark.asyncio
async def test_only_new_messages_and_button_presses_are_asked_for(bot: Bot) -> None:
    await bot.say("/start")
    if bot.webhook:
        [hook] = [c for c in bot.fake.calls if c.method == "setWebhook"]
        assert hook.params["allowed_updates"] == SERVED
    else:
        polls = [c for c in bot.fake.calls if c.method == "getUpdates"]
        assert polls and all(c.params["allowed_updates"] == SERVED for c in polls)


@pytest.mark.asyncio
@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
@pytest.mark.parametrize("kind", ["business_message", "edited_business_message", "guest_message"])
async def test_a_business_or_guest_message_in_a_staff_members_chat_does_not_act_as_staff(
        fake: FakeTelegram, tmp_path: Path, webhook: bool, kind: str) -> None:
    db = tmp_path / "db.sqlite3"
    b = await staff_bot(fake, db, webhook)
    try:
        forged = f"/hoso capnhat {CASE} refused Hồ sơ giả mạo, liên hệ 0909000000"
        if kind == "guest_message":
            attack = fake.guest_update(STAFF, forged, user_id=ATTACKER)
        else:
            attack = fake.business_update(STAFF, forged, user_id=ATTACKER, edited=kind.startswith("edited"))
        update_id = await b.deliver(attack)
        # the staff member's own look right after: in polling it comes from the getUpdates that
        # dropped the attack; a webhook post returns only after its turn
        view = await staff_says(b, f"/hoso xem {CASE}")
        assert "refused" not in view and "giả mạo" not in view
        assert await history(db) == [("received", "", "")]
        assert len(fake.sent(STAFF)) == 1 and fake.sent(ATTACKER) == []
        assert update_id is None or update_id not in fake.delivered()
        assert not [c for c in fake.calls if c.method == "answerGuestQuery"]
        # the staff member, writing in their own chat, still acts as staff
        assert (await staff_says(b, f"/hoso capnhat {CASE} processing")).startswith("Đã cập nhật.")
        assert await history(db) == [("received", "", ""), ("processing", "", f"telegram:{STAFF}")]
    finally:
        await b.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_an_edited_staff_command_does_not_run_again(fake: FakeTelegram, tmp_path: Path, webhook: bool) -> None:
    db = tmp_path / "db.sqlite3"
    b = await staff_bot(fake, db, webhook)
    try:
        command = fake.text_update(STAFF, f"/hoso capnhat {CASE} needs_supplement Thiếu bản sao CCCD")
        await b.deliver(command)
        [done] = await fake.wait_for("sendMessage", chat_id=STAFF)
        assert done.params["text"].startswith("Đã cập nhật.")
        # needs_supplement may repeat, so a second run would be accepted and notify again
        edit = fake.edited_update(STAFF, command["message"]["message_id"],
                                  f"/hoso capnhat {CASE} needs_supplement Thiếu bản sao CCCD, sổ hộ khẩu")
        update_id = await b.deliver(edit)
        view = await staff_says(b, f"/hoso xem {CASE}")
        assert "sổ hộ khẩu" not in view
        assert len(fake.sent(STAFF)) == 2
        assert update_id is None or update_id not in fake.delivered()
        assert await history(db) == [("received", "", ""),
                                     ("needs_supplement", "Thiếu bản sao CCCD", f"telegram:{STAFF}")]
    finally:
        await b.stop()


@pytest.mark.asyncio
async def test_a_button_press_counts_only_when_the_presser_is_the_chat(fake: FakeTelegram, tmp_path: Path) -> None:
    """Webhook only: its post returns after the turn, so "nothing happened" needs no waiting."""
    b = Bot(fake, tmp_path / "db.sqlite3", webhook=True)
    await b.start()
    try:
        [menu] = await b.say("/start")
        data = dict(buttons(menu))["Hộ tịch"]
        before = len(fake.sent(CHAT))
        await b.deliver(fake.callback_update(CHAT, data, user_id=ATTACKER))
        assert len(fake.sent(CHAT)) == before and fake.sent(ATTACKER) == []
        assert not [c for c in fake.calls if c.method == "answerCallbackQuery"]
        [group] = await b.tap(data)
        assert "Hộ tịch" in group["text"]
    finally:
        await b.stop()


# A malformed body carrying the right secret (audit R16), and a press whose answer is refused (R19).

@pytest.mark.asyncio
async def test_a_malformed_body_with_the_right_secret_gets_400_and_no_traceback(
        fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    b = Bot(fake, tmp_path / "db.sqlite3", webhook=True)
    await b.start()
    try:
        headers = {"X-Telegram-Bot-Api-Secret-Token": b.channel.secret}
        bodies = [b"{not json", b"null", b"[]", b"1", b'"0912345678"', b"{}", b'{"update_id": "abc"}',
                  b'{"update_id": 5, "message": ["0912345678"]}', b"[" * 100_000]
        async with httpx.AsyncClient() as client:
            statuses = [(await client.post(b.hook, content=body, headers=headers)).status_code for body in bodies]
        assert statuses == [400] * len(bodies)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        assert sum("is not an update" in r.getMessage() for r in caplog.records) == len(bodies)
        assert "0912345678" not in caplog.text                # the body is not logged
        [reply] = await b.say("khai sinh")                    # and the next update is served
        assert "khai sinh" in reply["text"].lower()
    finally:
        await b.stop()


@pytest.mark.asyncio
async def test_a_button_press_whose_answer_is_refused_still_gets_its_reply(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    [ask] = await bot.say("chứng thực")
    label, data = buttons(ask)[0]
    before = len(bot.fake.sent(CHAT))
    update = bot.fake.callback_update(CHAT, data)
    if bot.webhook:
        bot.fake.expire_callbacks()                           # the press waited too long to be answered
        await bot.deliver(update)
    else:
        bot.fake.push_update(update)
        bot.fake.expire_callbacks()
    replies = await bot._replies(CHAT, before)
    assert replies[0]["text"].startswith(label)
    [refused] = [c for c in bot.fake.calls if c.method == "answerCallbackQuery"]
    assert not refused.ok and "query is too old" in (refused.description or "")
    assert any("answering a button press failed" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_every_instance_of_a_deployment_registers_the_same_webhook_secret() -> None:
    """R6: a second copy registered a fresh secret, then failed to start, and the running copy
    refused every update until restarted. The secret now follows from the token alone."""
    from bot.channels.telegram import webhook_secret

    assert webhook_secret(TOKEN) == webhook_secret(TOKEN) != webhook_secret("654321:OTHER-token")
    assert TOKEN not in webhook_secret(TOKEN) and len(webhook_secret(TOKEN)) == 64


@pytest.mark.asyncio
async def test_a_second_copy_on_a_taken_port_stops_before_it_touches_the_webhook(fake: FakeTelegram,
                                                                                 tmp_path: Path) -> None:
    """R6: the second copy registered its webhook, then failed to bind, and the first copy
    refused every update until restarted."""
    import socket

    from bot.config import ConfigError

    first = Bot(fake, tmp_path / "db.sqlite3", webhook=True)
    await first.start()
    try:
        assert first.service is not None and first.service.web is not None
        port = first.service.web.port
        webhooks = len([c for c in fake.calls if c.method == "setWebhook"])
        second = Service(first.config, ["telegram"], {"TELEGRAM_BOT_TOKEN": TOKEN},
                         RunOptions(port=port, telegram_webhook_url=WEBHOOK_URL))
        with pytest.raises(ConfigError, match=f"cổng 127.0.0.1:{port}"):
            await second.start()
        assert len([c for c in fake.calls if c.method == "setWebhook"]) == webhooks
        assert await fake.post_webhook(first.hook, first.channel.secret, fake.text_update(CHAT, "khai sinh")) == 200
        with socket.create_connection(("127.0.0.1", port)):
            pass                                                   # the first copy still listens
    finally:
        await first.stop()


@pytest.mark.asyncio
async def test_a_file_sent_without_a_command_is_never_downloaded(fake: FakeTelegram, tmp_path: Path) -> None:
    """R21: any document under 1 MB with a caption was fetched before the staff check."""
    b = Bot(fake, tmp_path / "db.sqlite3")
    await b.start()
    try:
        fake.push_document(CHAT, b"x" * 900_000, "anh.jpg", caption="giấy khai sinh của con em đây ạ")
        await fake.wait_for("sendMessage", chat_id=CHAT)
        assert not [c for c in fake.calls if c.method == "getFile"]
    finally:
        await b.stop()


@pytest.mark.asyncio
async def test_webhook_replies_over_the_rate_limit_go_through_the_bot_api_and_none_vanishes(
        fake: FakeTelegram, tmp_path: Path) -> None:
    """Audit row 29: a reply carried in the webhook response bypassed the rate limiter, and
    Telegram reports nothing about such calls, so a burst lost replies to 429 without a trace."""
    import asyncio

    fake.flood_limit = 6                                   # Telegram's flood limit, scaled down
    b = Bot(fake, tmp_path / "db.sqlite3", webhook=True, telegram_rate=3.0)
    await b.start()
    try:
        chats = range(6001, 6011)
        statuses = await asyncio.gather(*(fake.post_webhook(b.hook, b.channel.secret, fake.text_update(chat, "menu"))
                                          for chat in chats))
        assert statuses == [200] * len(chats)
        for chat in chats:
            await fake.wait_for("sendMessage", chat_id=chat)
        by_webhook = [c for c in fake.calls if c.from_webhook]
        assert by_webhook and all(c.ok for c in by_webhook)    # nothing lost where no one would see it
        assert len(by_webhook) < len(chats)                    # the rest went through the Bot API
    finally:
        await b.stop()


@pytest.mark.asyncio
async def test_a_request_for_a_person_goes_to_the_staff_group_of_the_citizen_commune(
        fake: FakeTelegram, tmp_path: Path) -> None:
    """A province's deployment with a Telegram group per commune: the request of a citizen who
    said they live in xã Mường Ảng reaches that commune's group, not the other's."""
    from bot.config import Office
    communes = (Office("Phường Điện Biên Phủ", "Số 1 Võ Nguyên Giáp", "7:30–11:30", "0215 111 1111", "03127",
                       "000.01.11.H15", staff_chat=-1007001),
                Office("Xã Mường Ảng", "Số 2 Mường Ảng", "7:00–11:00", "0215 222 2222", "03256", "000.02.11.H15",
                       staff_chat=-1007002))
    b = Bot(fake, tmp_path / "db.sqlite3", listed_offices=communes)
    await b.start()
    try:
        await b.say("nhà tôi ở xã Mường Ảng, tỉnh Điện Biên")
        await b.say("cho tôi gặp cán bộ")
        [note] = await fake.wait_for("sendMessage", chat_id=-1007002)
        assert "cho tôi gặp cán bộ" in note.params["text"]
        assert fake.sent(-1007001) == []
    finally:
        await b.stop()
