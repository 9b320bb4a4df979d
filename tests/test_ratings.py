"""Rating a returned case, rating answers, and feedback messages, through the dialog."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import clock
from bot.app import App, build_app
from bot.messages import Incoming, Reply
from bot.storage import RatingRow
from tests.helpers import delivered, make_config

pytestmark = pytest.mark.asyncio
CODE = "000.00.27.H15-251120-0012"


async def make_app(tmp_path: Path, **config: object) -> App:
    app = await build_app(make_config(tmp_path / "db.sqlite3", **config))
    await app.desk.add(CODE, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678",
                       received=clock.now() - dt.timedelta(days=2))
    await app.store.follow("test", "citizen", CODE)
    return app


@pytest_asyncio.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    application = await make_app(tmp_path)
    yield application
    await application.close()


async def tap(app: App, action: str, user: str = "citizen") -> Reply:
    [reply] = await app.dialog.handle(Incoming("test", user, action=action))
    return reply


async def say(app: App, text: str, user: str = "citizen") -> Reply:
    return (await app.dialog.handle(Incoming("test", user, text=text)))[-1]


def action_of(reply: Reply, label: str) -> str:
    return next(b.action for b in reply.buttons if b.label == label)


async def only_rating(app: App) -> RatingRow | None:
    """The one rating stored, found as a report would: by what it says, not by the case."""
    async with app.store.db.execute("SELECT id FROM ratings") as cur:
        ids = [r[0] for r in await cur.fetchall()]
    assert len(ids) <= 1
    return await app.store.rating(ids[0]) if ids else None


async def test_returned_case_notifies_followers_with_the_five_levels(app):
    await app.desk.update(CODE, "returned", "")
    [row] = await app.store.outbox_rows()
    assert [b.label for b in delivered(row, app.catalog).buttons] == [
        "Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"]


async def test_full_rating_with_skips_and_comment_is_stored_without_identifiers(app):
    await app.desk.update(CODE, "returned", "")
    q1 = await tap(app, f"rate:{CODE}:4")
    assert "(1/3" in q1.text and "bao nhiêu lần" in q1.text
    q2 = await tap(app, action_of(q1, "1 lần"))
    assert "(2/3" in q2.text
    q3 = await tap(app, action_of(q2, "Bỏ qua"))
    assert "(3/3" in q3.text
    ask_comment = await tap(app, action_of(q3, "Không"))
    assert "góp ý" in ask_comment.text
    thanks = await say(app, "Cán bộ nhiệt tình, gọi tôi 0912345678 nếu cần")
    assert "Cảm ơn bạn đã đánh giá" in thanks.text
    row = await only_rating(app)
    assert row is not None and (row.level, row.visits, row.attitude, row.extra_fee) == ("4", "1", None, "no")
    case = await app.desk.require(CODE)
    assert (row.procedure, row.timeliness) == ("dang-ky-ket-hon", case.timeliness(clock.today()))   # for reports
    assert row.comment == "Cán bộ nhiệt tình, gọi tôi *** nếu cần"
    assert not {"citizen", CODE, "Nguyễn Văn An"} & {str(v) for v in dataclasses.astuple(row)}


async def test_a_second_rating_says_it_was_already_recorded(app):
    await app.desk.update(CODE, "returned", "")
    await tap(app, f"rate:{CODE}:5")
    again = await tap(app, f"rate:{CODE}:1")
    assert "đã được ghi nhận" in again.text
    assert (await only_rating(app)).level == "5"


async def test_negative_rating_asks_for_consent_to_be_contacted(app):
    await app.desk.update(CODE, "returned", "")
    reply = await tap(app, f"rate:{CODE}:1")
    for _ in range(3):
        reply = await tap(app, action_of(reply, "Bỏ qua"))
    consent = await tap(app, action_of(reply, "Bỏ qua"))
    assert "liên hệ lại" in consent.text
    await tap(app, action_of(consent, "Đồng ý"))
    assert (await only_rating(app)).contact_code == CODE          # with consent, and only then


async def test_rating_needs_ownership_and_a_returned_case(app):
    assert "tra cứu hồ sơ" in (await tap(app, f"rate:{CODE}:5", user="stranger")).text
    assert "sau khi đã nhận kết quả" in (await tap(app, f"rate:{CODE}:5")).text
    assert await only_rating(app) is None


async def test_typing_danh_gia_rates_the_verified_returned_case(app):
    await app.desk.update(CODE, "returned", "")
    assert "tra cứu" in (await say(app, "tôi muốn đánh giá mức độ hài lòng")).text
    await say(app, f"tra cứu {CODE}")
    await say(app, "5678")
    reply = await say(app, "tôi muốn đánh giá mức độ hài lòng")
    assert reply.text.startswith("Bạn hài lòng thế nào") and len(reply.buttons) == 5


async def test_three_level_scale_from_config(tmp_path):
    app = await make_app(tmp_path, rating_scale=3)
    try:
        await app.desk.update(CODE, "returned", "")
        reply = await tap(app, f"rate:{CODE}")
        assert [b.label for b in reply.buttons] == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
        forged = await tap(app, f"rate:{CODE}:3")          # "Bình thường" is not on this scale
        assert forged.text.startswith("Bạn hài lòng thế nào") and await only_rating(app) is None
    finally:
        await app.close()


async def test_answer_votes_one_per_answer_and_thumbs_down_offers_staff(tmp_path):
    forwarded: list[str] = []

    async def forward(note: str, office: object = None) -> None:
        forwarded.append(note)

    app = await build_app(make_config(tmp_path / "db.sqlite3"), forward)
    try:
        answer = await say(app, "đăng ký kết hôn cần giấy tờ gì")
        up, down = action_of(answer, "👍 Hữu ích"), action_of(answer, "👎 Chưa hữu ích")
        offer = await tap(app, down)
        assert "chuyển câu hỏi" in offer.text
        assert "rồi" in (await tap(app, up)).text
        contact = await tap(app, action_of(offer, "📨 Chuyển cho cán bộ"))
        assert app.config.office.hotline in contact.text and "Mình đã chuyển" in contact.text
        assert len(forwarded) == 1 and "đăng ký kết hôn cần giấy tờ gì" in forwarded[0]
        forged = await tap(app, "vote:999:up")
        assert "không còn hiệu lực" in forged.text
        async with app.store.db.execute("SELECT vote, procedure FROM answer_votes") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("down", "dang-ky-ket-hon")]
    finally:
        await app.close()


async def test_without_a_staff_chat_thumbs_down_says_how_to_reach_the_office(app):
    """No pretending: with no staff chat configured nothing is offered to forward, and an old
    "📨 Chuyển cho cán bộ" button says it was not forwarded."""
    answer = await say(app, "đăng ký kết hôn cần giấy tờ gì")
    qid = action_of(answer, "👎 Chưa hữu ích").split(":")[1]
    reply = await tap(app, action_of(answer, "👎 Chưa hữu ích"))
    assert "chưa chuyển được" in reply.text and app.config.office.hotline in reply.text
    assert "📨 Chuyển cho cán bộ" not in [b.label for b in reply.buttons]
    stale = await tap(app, f"fwd:{qid}")
    assert "chưa chuyển được" in stale.text and "Mình đã chuyển" not in stale.text


async def test_feedback_is_stored_and_complaints_get_how_they_are_handled(app):
    complaint = await say(app, "Tôi muốn phản ánh thái độ cán bộ tiếp nhận, rất khó chịu")
    assert "xin lỗi" in complaint.text and app.config.office.hotline in complaint.text
    praise = await say(app, "cán bộ phường làm nhanh, nhiệt tình, cho mình gửi lời khen")
    assert "Cảm ơn bạn rất nhiều" in praise.text
    async with app.store.db.execute("SELECT kind FROM feedback ORDER BY id") as cur:
        assert [r[0] for r in await cur.fetchall()] == ["complaint", "praise"]
