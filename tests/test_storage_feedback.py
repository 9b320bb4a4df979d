"""What citizens think, as stored: one rating per case, one vote per answer, each read back by period."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import clock
from bot.storage import Store

pytestmark = pytest.mark.asyncio
CODE = "000.00.27.H15-251120-0012"
T = dt.datetime


async def test_a_case_is_rated_once_and_the_first_rating_stands(store: Store):
    assert await store.rating(CODE) is None
    assert await store.add_rating(CODE, "telegram", "dang-ky-tam-tru", "UBND xã", 5, "4") is True
    assert await store.add_rating(CODE, "zalo-oa", "dang-ky-tam-tru", "UBND xã", 5, "1") is False
    rating = await store.rating(CODE)
    assert rating is not None and (rating.level, rating.channel, rating.office) == ("4", "telegram", "UBND xã")
    assert await store.add_rating("000.00.27.H15-251120-0013", "telegram", "dang-ky-tam-tru", "", 5, "5") is True


async def test_the_follow_up_answers_land_on_the_rating_and_unknown_fields_are_refused(store: Store):
    await store.add_rating(CODE, "telegram", "dang-ky-tam-tru", "", 5, "2")
    await store.set_rating_field(CODE, "visits", "3+")
    await store.set_rating_field(CODE, "comment", "Chờ lâu, quá hẹn mà không ai báo.")
    await store.set_rating_field(CODE, "contact_ok", 1)
    rating = await store.rating(CODE)
    assert (rating.visits, rating.comment, rating.contact_ok, rating.attitude) == (
        "3+", "Chờ lâu, quá hẹn mà không ai báo.", True, None)
    with pytest.raises(ValueError, match="not a rating field"):
        await store.set_rating_field(CODE, "level", "5")        # the level itself is never rewritten
    with pytest.raises(ValueError):
        await store.set_rating_field(CODE, "comment = 'x', level", "5")
    assert (await store.rating(CODE)).level == "2"


async def test_ratings_between_is_half_open_and_in_time_order(store: Store):
    await store.add_rating("C3", "t", "p", "", 5, "3", at=T(2026, 12, 1, 0))
    await store.add_rating("C1", "t", "p", "", 5, "1", at=T(2026, 11, 1, 0))
    await store.add_rating("C2", "t", "p", "", 5, "2", at=T(2026, 11, 15, 9))
    november = await store.ratings_between(T(2026, 11, 1), T(2026, 12, 1))
    assert [r.code for r in november] == ["C1", "C2"]


async def test_an_answer_gets_one_vote_carrying_its_procedure(store: Store):
    qid = await store.log_question("telegram", "khai sinh cần gì", "procedure", "dang-ky-khai-sinh", "papers", 0.9, True)
    assert await store.vote(qid, "telegram", "up") is True
    assert await store.vote(qid, "telegram", "down") is False          # a second tap changes nothing
    [vote] = await store.votes_between(clock.now() - dt.timedelta(hours=1), clock.now() + dt.timedelta(hours=1))
    assert (vote.question_id, vote.vote, vote.procedure) == (qid, "up", "dang-ky-khai-sinh")


async def test_a_vote_on_an_answer_that_was_never_given_is_not_recorded(store: Store):
    assert await store.vote(12345, "telegram", "up") is False
    assert await store.votes_between(T(2000, 1, 1), T(2100, 1, 1)) == []


async def test_feedback_messages_are_kept_with_their_kind(store: Store):
    await store.add_feedback("zalo-oa", "complaint", "Gọi hotline mãi không ai nghe máy.")
    await store.add_feedback("telegram", "praise", "Cán bộ hướng dẫn tận tình.")
    rows = await store.feedback_between(clock.now() - dt.timedelta(hours=1), clock.now() + dt.timedelta(hours=1))
    assert {(r.channel, r.kind, r.text) for r in rows} == {
        ("zalo-oa", "complaint", "Gọi hotline mãi không ai nghe máy."), ("telegram", "praise", "Cán bộ hướng dẫn tận tình.")}
    assert await store.feedback_between(T(2000, 1, 1), T(2001, 1, 1)) == []


async def test_feedback_and_rating_comments_are_masked_whoever_writes_them(store: Store):
    """R10: complaints and comments carry no user link, so "delete my data" cannot find them."""
    await store.add_feedback("telegram", "complaint", "tôi Phan Thị Bí Mật ở nhà số 12 ngõ 34 Hàng Bạc, gọi 0912 345 678")
    rows = await store.feedback_between(clock.now() - dt.timedelta(hours=1), clock.now() + dt.timedelta(hours=1))
    assert [r.text for r in rows] == ["tôi *** ở nhà số ***, gọi ***"]
    await store.add_rating(CODE, "telegram", "dang-ky-tam-tru", "UBND xã", 5, "2")
    await store.set_rating_field(CODE, "comment", "liên hệ bimat@example.com hoặc +84 912 345 678")
    await store.set_rating_field(CODE, "contact_ok", True)
    rating = await store.rating(CODE)
    assert (rating.comment, rating.contact_ok) == ("liên hệ *** hoặc ***", True)
