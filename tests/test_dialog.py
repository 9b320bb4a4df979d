"""Every conversation flow, independent of any channel."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import clock, wording
from bot.app import App, build_app
from bot.messages import Incoming, Reply
from tests.helpers import delivered, make_config

pytestmark = pytest.mark.asyncio


class Chat:
    """One citizen talking to the dialog."""

    def __init__(self, app: App, user: str = "u1", channel: str = "test"):
        self.app, self.user, self.channel = app, user, channel

    async def say(self, text: str | None) -> list[Reply]:
        return await self.app.dialog.handle(Incoming(self.channel, self.user, text=text))

    async def tap(self, action: str) -> list[Reply]:
        return await self.app.dialog.handle(Incoming(self.channel, self.user, action=action))


def actions(reply: Reply) -> dict[str, str]:
    return {b.label: b.action for b in reply.buttons}


@pytest_asyncio.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    forwarded: list[str] = []

    async def forward(text: str, office: object = None) -> None:
        forwarded.append(text)

    application = await build_app(make_config(tmp_path / "db.sqlite3"), forward)
    application.forwarded = forwarded  # type: ignore[attr-defined]
    yield application
    await application.close()


async def test_greeting_shows_the_groups_then_procedures_then_sections(app):
    chat = Chat(app)
    [menu] = await chat.say("xin chào")
    assert "trợ lý ảo" in menu.text
    assert list(actions(menu))[:3] == ["Hộ tịch", "Liên thông", "Cư trú"]
    [group] = await chat.tap(actions(menu)["Cư trú"])
    assert "Đăng ký tạm trú" in actions(group)
    [answer] = await chat.tap(actions(group)["Đăng ký tạm trú"])
    assert answer.text.startswith("Đăng ký tạm trú") and "Bạn muốn xem phần nào?" in answer.text
    assert {"Giấy tờ", "Lệ phí", "Thời gian", "Nơi nộp", "Nộp trực tuyến", "Mẫu đơn", "Điều kiện", "Các bước"} <= set(actions(answer))


async def test_the_asked_section_comes_first_with_legal_basis_and_review_date(app):
    [answer] = await Chat(app).say("đăng ký kết hôn mất phí bao nhiêu")
    assert answer.text.startswith("Đăng ký kết hôn · 💰 Lệ phí")
    assert "Căn cứ:" in answer.text and "cán bộ kiểm tra" in answer.text
    assert "Lệ phí" not in actions(answer) and "Giấy tờ" in actions(answer)


@pytest.mark.parametrize("word", ["/start", "menu", "hủy", "Huy"])
async def test_start_menu_and_cancel_always_return_to_the_menu(app, word):
    chat = Chat(app)
    await chat.say("khai báo tạm vắng")
    [menu] = await chat.say(word)
    assert "Hộ tịch" in actions(menu)
    [reply] = await chat.say("lệ phí bao nhiêu")
    assert not reply.text.startswith("Khai báo tạm vắng")


async def test_clarification_choice_continues_the_flow(app):
    chat = Chat(app)
    [ask] = await chat.say("chứng thực")
    assert ask.text.startswith("Có phải bạn hỏi về")
    assert len(ask.buttons) >= 3
    [answer] = await chat.say("2")
    assert answer.text.startswith(ask.buttons[1].label)


async def test_numbers_choose_buttons_and_other_numbers_are_questions(app):
    chat = Chat(app)
    [_menu] = await chat.say("menu")
    [group] = await chat.say("1")
    assert group.text.startswith("Lĩnh vực Hộ tịch")
    [reply] = await chat.say("999")
    assert "Hộ tịch" not in reply.text or reply.buttons


async def test_out_of_scope_says_so_and_gives_hotline_and_hours(app):
    [reply] = await Chat(app).say("xin visa đi Hàn Quốc cần gì")
    assert "chưa hỗ trợ" in reply.text
    assert app.config.office.hotline in reply.text and app.config.office.hours in reply.text


async def test_request_for_a_person_gives_contact_and_forwards_with_a_reference(app):
    [reply] = await Chat(app).say("cho em gặp cán bộ, sđt 0912345678")
    assert app.config.office.hotline in reply.text and "mã H" in reply.text
    [note] = app.forwarded
    ref = reply.text.split("mã ")[1][:7]
    assert ref in note and "0912345678" not in note


async def test_english_question_gets_an_english_lead(app):
    [reply] = await Chat(app).say("How much does it cost to register a marriage?")
    assert reply.text.startswith("Here is what you need to know about")
    assert "Lệ phí" in reply.text


async def test_thanks_gets_a_goodbye(app):
    [reply] = await Chat(app).say("ok cảm ơn ad nhiều")
    assert "Cảm ơn bạn" in reply.text


async def test_a_yes_after_an_answer_is_acknowledged_and_the_topic_stays(app):
    chat = Chat(app)
    await chat.say("khai báo tạm vắng cần gì")
    [reply] = await chat.say("dạ vâng")
    assert reply.text == wording.ACKNOWLEDGED.text
    [reply] = await chat.say("mất bao lâu")
    assert reply.text.startswith("Khai báo tạm vắng")


async def test_follow_up_question_uses_the_procedure_in_context(app):
    chat = Chat(app)
    await chat.say("sang tên sổ đỏ")
    [reply] = await chat.say("mất bao lâu vậy")
    assert reply.text.startswith("Đăng ký biến động đất đai") and "Thời gian" in reply.text


async def test_state_is_per_user_and_survives_a_new_app(app, tmp_path):
    await Chat(app, "a").say("đăng ký tạm trú")
    await Chat(app, "b").say("đăng ký khai tử")
    await app.close()
    again = await build_app(make_config(tmp_path / "db.sqlite3"))
    try:
        [a] = await Chat(again, "a").say("lệ phí bao nhiêu")
        [b] = await Chat(again, "b").say("lệ phí bao nhiêu")
        assert a.text.startswith("Đăng ký tạm trú") and b.text.startswith("Đăng ký khai tử")
    finally:
        await again.close()
        app.store = again.store  # closed already; keep the fixture's close harmless


@pytest.mark.parametrize("action", ["proc:khong-co:fees", "proc:dang-ky-khai-sinh:bogus", "grp:99", "zzz", "", "proc:",
                                    "grp:²", "vote:²:up"])
async def test_forged_or_stale_actions_get_the_menu(app, action):
    [reply] = await Chat(app).tap(action)
    assert "không còn hiệu lực" in reply.text and reply.buttons


@pytest.mark.parametrize("text", [
    "", "   ", "x" * 20_000, "😀🎉🙏" * 100, "\x00\x07\x1b[31m", "\u200b\u200d\u2060", "مرحبا كيف حالك",
    "'; DROP TABLE conversations; --", "<b>khai sinh</b> *bold* _x_ [a](http://x)", "²", "١٢",
])
async def test_bad_input_gets_a_sensible_reply(app, text):
    chat = Chat(app)
    await chat.say("menu")
    replies = await chat.say(text)
    assert replies and all(r.text for r in replies) and "sự cố" not in replies[0].text


async def test_unsupported_message_kind_gets_a_text_hint(app):
    [reply] = await Chat(app).say(None)
    assert "tin nhắn dạng chữ" in reply.text


async def test_questions_are_logged_without_identifiers_and_unanswered_are_listed(app):
    chat = Chat(app, user="secret-user-42")
    await chat.say("giá vàng hôm nay, gọi 0987654321")
    await Chat(app, user="u2").say("giá vàng hôm nay, gọi 0987654321")
    await chat.say("đăng ký khai sinh cần gì")
    import datetime as dt
    rows = await app.store.unanswered(clock.now() - dt.timedelta(days=7))
    assert [(r.text, r.n) for r in rows] == [("giá vàng hôm nay, gọi ***", 2)]
    async with app.store.db.execute("SELECT * FROM questions") as cur:
        dump = repr([tuple(r) for r in await cur.fetchall()])
    assert "secret-user-42" not in dump and "0987654321" not in dump


async def test_a_failing_turn_apologises_instead_of_raising(app, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.store, "get_state", broken)
    [reply] = await Chat(app).say("khai sinh")
    assert "sự cố" in reply.text and app.config.office.hotline in reply.text


async def test_staff_answer_a_handoff_by_its_reference(tmp_path):
    forwarded: list[str] = []

    async def forward(text: str, office: object = None) -> None:
        forwarded.append(text)

    app = await build_app(make_config(tmp_path / "db.sqlite3", staff={"test": frozenset({"officer"})}), forward)
    try:
        [contact] = await Chat(app, "citizen").say("cho tôi gặp cán bộ")
        ref = contact.text.split("mã ")[1][:7]
        [done] = await Chat(app, "officer").say(f"/traloi {ref} Chị mang thêm bản sao CCCD nhé")
        assert "Đã gửi" in done.text
        [row] = await app.store.outbox_rows()
        assert row.user == "citizen" and "Chị mang thêm bản sao CCCD" in delivered(row, app.catalog).text
        [refused] = await Chat(app, "citizen").say(f"/traloi {ref} giả mạo")
        assert "Đã gửi" not in refused.text
        assert len(await app.store.outbox_rows()) == 1
    finally:
        await app.close()


async def test_follow_ups_that_name_no_procedure_stay_on_the_one_in_view(app):
    chat = Chat(app)
    [first] = await chat.say("vợ em mới sinh, làm giấy khai sinh cho con cần gì")
    assert first.text.startswith("Đăng ký khai sinh · 📄")
    [time] = await chat.say("thế mất bao lâu")
    assert time.text.startswith("Đăng ký khai sinh · ⏱")
    [where] = await chat.say("nộp ở đâu")
    assert where.text.startswith("Đăng ký khai sinh · 📍")
    [switched] = await chat.say("còn làm căn cước cho con thì cần gì")
    assert switched.text.startswith("Cấp, cấp đổi, cấp lại thẻ căn cước · 📄")


async def test_an_out_of_scope_question_names_who_handles_it_and_its_follow_up_stays_out(app):
    chat = Chat(app)
    [passport] = await chat.say("làm hộ chiếu cho con thì nộp ở đâu")
    assert "xuất nhập cảnh" in passport.text.lower() and "chưa hỗ trợ" in passport.text
    [then] = await chat.say("thế mất bao lâu")
    assert "Thời gian giải quyết" not in then.text


async def test_a_dispute_is_pointed_to_legal_aid_and_mediation_not_to_a_procedure(app):
    [reply] = await Chat(app).say("hàng xóm lấn sang đất nhà tôi gần 1 mét, nói mãi không nghe, giờ tôi phải làm sao")
    assert "hòa giải" in reply.text and "trợ giúp pháp lý" in reply.text.lower()


@pytest.mark.parametrize("text", ["Chào cán bộ ạ", "lam the can cuoc can gi", "lam the bhyt cho be"])
async def test_vietnamese_without_marks_is_never_answered_in_english(app, text):
    [reply] = await Chat(app).say(text)
    assert not reply.text.startswith(("Here is", "Sorry", "Hello", "I am not sure"))


async def test_a_flood_from_one_account_is_slowed_and_others_are_served(app):
    """R21: one account could post 14 messages a second without limit."""
    from bot.dialog import PACE_MESSAGES

    flooder = Chat(app, user="flood")
    for _ in range(PACE_MESSAGES):
        assert await flooder.say("khai sinh")
    [told] = await flooder.say("khai sinh")
    assert "nhắn nhanh quá" in told.text
    assert await flooder.say("khai sinh") == []
    [other] = await Chat(app, user="calm").say("đăng ký tạm trú cần gì")
    assert other.text.startswith("Đăng ký tạm trú")


# Where do I go? (bot/places.py)

async def _app_for(tmp_path: Path, name: str, province: str | None) -> App:
    config = make_config(tmp_path / "db.sqlite3")
    office = dataclasses.replace(config.office, name=name, address="Bản Búng, xã Búng Lao", province=province)
    return await build_app(dataclasses.replace(config, office=office))


@pytest.mark.parametrize("address", ["xã Ẳng Tở, huyện Mường Ảng", "ang to muong ang dien bien",
                                     "Nhà em ở xã Ẳng Tở huyện Mường Ảng ạ"])
async def test_an_old_address_gets_the_commune_now_and_its_desk(tmp_path, address):
    app = await _app_for(tmp_path, "Bộ phận Một cửa UBND xã Búng Lao", "Điện Biên")
    try:
        [reply] = await Chat(app).say(address)
        assert "xã Ẳng Tở, huyện Mường Ảng nay thuộc xã Búng Lao, tỉnh Điện Biên" in reply.text
        assert "Bộ phận Một cửa UBND xã Búng Lao" in reply.text and "Bản Búng, xã Búng Lao" in reply.text
    finally:
        await app.close()


async def test_the_remembered_commune_answers_where_to_file_a_procedure(tmp_path):
    app = await _app_for(tmp_path, "Bộ phận Một cửa UBND phường Mẫu", "Điện Biên")
    try:
        chat = Chat(app)
        await chat.say("nhà tôi ở xã Búng Lao tỉnh Điện Biên")
        await chat.say("làm giấy khai sinh cho con")
        [where] = await chat.say("nộp ở đâu")
        assert where.text.startswith("Đăng ký khai sinh · 📍 Nơi nộp")
        assert "Với địa chỉ của bạn (xã Búng Lao)" in where.text
        assert "Phường Mẫu" not in where.text.split("Với địa chỉ của bạn")[1]
    finally:
        await app.close()


async def test_an_address_with_a_question_is_remembered_and_the_question_answered(tmp_path):
    app = await _app_for(tmp_path, "Bộ phận Một cửa UBND xã Búng Lao", "Điện Biên")
    try:
        [where] = await Chat(app).say("nhà tôi ở xã Ẳng Tở huyện Mường Ảng thì đăng ký khai sinh nộp ở đâu")
        assert where.text.startswith("Đăng ký khai sinh · 📍 Nơi nộp")
        assert "Với địa chỉ của bạn (xã Búng Lao)" in where.text and "Bản Búng, xã Búng Lao" in where.text
    finally:
        await app.close()


async def test_an_address_in_another_province_gets_its_commune_and_that_province_s_portal(tmp_path):
    app = await _app_for(tmp_path, "Bộ phận Một cửa UBND xã Búng Lao", "Điện Biên")
    try:
        [reply] = await Chat(app).say("tôi ở phường Hàng Bạc, quận Hoàn Kiếm, Hà Nội")
        assert "nay thuộc phường Hoàn Kiếm, thành phố Hà Nội" in reply.text
        assert "không thuộc địa bàn" in reply.text and "dichvucong.gov.vn" in reply.text
        assert "Bản Búng" not in reply.text
    finally:
        await app.close()


@pytest.mark.parametrize("text", ["tôi ở nhà", "làm khai sinh ở xã nào", "tôi ở Hà Nội"])
async def test_a_message_that_merely_says_o_is_not_taken_for_an_address(app, text):
    [reply] = await Chat(app).say(text)
    assert "Mình sẽ nhớ" not in reply.text
    assert "Với địa chỉ của bạn" not in (await Chat(app).say("đăng ký khai sinh nộp ở đâu"))[0].text
