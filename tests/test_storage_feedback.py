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
    assert not await store.rated(CODE)
    first = await store.add_rating(CODE, "telegram", "dang-ky-tam-tru", "UBND xã", 5, "4", timeliness="on_time")
    assert first is not None and await store.rated(CODE)
    assert await store.add_rating(CODE, "zalo-oa", "dang-ky-tam-tru", "UBND xã", 5, "1") is None
    rating = await store.rating(first)
    assert rating is not None
    assert (rating.level, rating.channel, rating.office, rating.timeliness) == ("4", "telegram", "UBND xã", "on_time")
    assert await store.add_rating("000.00.27.H15-251120-0013", "telegram", "dang-ky-tam-tru", "", 5, "5") is not None


async def test_the_follow_up_answers_land_on_the_rating_and_unknown_fields_are_refused(store: Store):
    rating = await store.add_rating(CODE, "telegram", "dang-ky-tam-tru", "", 5, "2")
    assert rating is not None
    await store.set_rating_field(rating, "visits", "3+")
    await store.set_rating_field(rating, "comment", "Chờ lâu, quá hẹn mà không ai báo.")
    await store.set_rating_field(rating, "contact_code", CODE)
    row = await store.rating(rating)
    assert row is not None and (row.visits, row.comment, row.contact_code, row.attitude) == (
        "3+", "Chờ lâu, quá hẹn mà không ai báo.", CODE, None)
    with pytest.raises(ValueError, match="not a rating field"):
        await store.set_rating_field(rating, "level", "5")        # the level itself is never rewritten
    with pytest.raises(ValueError):
        await store.set_rating_field(rating, "comment = 'x', level", "5")
    assert (await store.rating(rating)).level == "2"


async def test_a_rating_keeps_the_day_only_and_nothing_that_leads_back_to_the_case(store: Store):
    """Item 3 of issue 16: the rating row holds no case code, user or time of day; the set of
    rated cases holds codes and nothing else, so neither joins the other or a person."""
    await store.insert_case({"code": CODE, "procedure": "dang-ky-tam-tru", "name": "Phan Thị Bí Mật",
                             "phone": "0912345678", "channel": "trực tiếp", "received": "2026-11-20T09:00:00",
                             "due": "2026-12-01", "status": "received"}, "cb")
    rating = await store.add_rating(CODE, "telegram", "dang-ky-tam-tru", "", 5, "1", at=T(2026, 11, 25, 14, 37, 5))
    await store.set_rating_field(rating, "comment", "Cán bộ thiếu tôn trọng")
    async with store.db.execute("SELECT * FROM ratings") as cur:
        [row] = await cur.fetchall()
    stored = dict(zip(row.keys(), tuple(row), strict=True))
    assert CODE not in stored.values() and "Phan Thị Bí Mật" not in stored.values()
    assert stored["day"] == "2026-11-25" and not any("14:37" in str(v) for v in stored.values())
    async with store.db.execute("SELECT * FROM rated_cases") as cur:
        assert [list(r.keys()) for r in await cur.fetchall()] == [["code"]]
    async with store.db.execute("SELECT * FROM ratings") as cur:
        columns = set((await cur.fetchone()).keys())
    assert not columns & {"code", "user", "chat", "at", "contact_ok"}
    async with store.db.execute(
        "SELECT c.name FROM ratings r JOIN cases c ON c.code = r.contact_code WHERE r.comment != ''"
    ) as cur:
        assert await cur.fetchall() == []                 # declined contact: no way back to the name


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
    rating = await store.add_rating(CODE, "telegram", "dang-ky-tam-tru", "UBND xã", 5, "2")
    await store.set_rating_field(rating, "comment", "liên hệ bimat@example.com hoặc +84 912 345 678")
    row = await store.rating(rating)
    assert row is not None and row.comment == "liên hệ *** hoặc ***"


async def test_ratings_stored_before_0010_are_migrated_without_their_case_code(tmp_path):
    """Existing rows keep their level, answers and day, gain timeliness from their case, and
    keep the code only where the citizen agreed to be contacted; a case rated before stays rated."""
    import sqlite3

    from bot.storage.db import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:9]:
        old.executescript(script)
    old.execute("PRAGMA user_version=9")
    late, declined = "000.00.27.H15-261101-0001", "000.00.27.H15-261101-0002"
    for code in (late, declined):
        old.execute("INSERT INTO cases (code, procedure, name, phone, channel, received, due, status, created_at)"
                    " VALUES (?, 'dang-ky-khai-sinh', 'Trần Đức Huy', '0912345678', 'trực tiếp',"
                    " '2026-11-01T09:00:00', '2026-11-05', 'returned', '2026-11-01T09:00:00')", (code,))
        old.execute("INSERT INTO case_history (code, at, status) VALUES (?, '2026-11-01T09:00:00', 'received')", (code,))
    old.execute(f"INSERT INTO case_history (code, at, status) VALUES ('{late}', '2026-11-07T10:00:00', 'ready')")
    old.execute(f"INSERT INTO case_history (code, at, status) VALUES ('{declined}', '2026-11-04T10:00:00', 'ready')")
    old.execute("INSERT INTO ratings (code, at, channel, procedure, scale, level, visits, comment, contact_ok) VALUES"
                f" ('{late}', '2026-11-08T16:02:11', 'zalo', 'dang-ky-khai-sinh', 5, '1', '2', 'Chờ lâu', 1),"
                f" ('{declined}', '2026-11-09T08:00:00', 'telegram', 'dang-ky-khai-sinh', 5, '2', NULL,"
                " 'Cán bộ thiếu tôn trọng', 0)")
    old.commit()
    old.close()

    store = await Store.open(path)
    try:
        async with store.db.execute("SELECT * FROM ratings ORDER BY day") as cur:
            rows = [dict(zip(r.keys(), tuple(r), strict=True)) for r in await cur.fetchall()]
        assert [(r["day"], r["level"], r["visits"], r["timeliness"], r["contact_code"]) for r in rows] == [
            ("2026-11-08", "1", "2", "late", late), ("2026-11-09", "2", None, "early", None)]
        assert await store.rated(late) and await store.rated(declined)
        assert await store.add_rating(declined, "telegram", "dang-ky-khai-sinh", "", 5, "5") is None
        assert not any(declined in map(str, r.values()) for r in rows)
    finally:
        await store.close()
