"""Personal data: "delete my data" removes one citizen's traces only, and the retention purge spares open cases and statistics."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import clock
from bot.storage import Store

pytestmark = pytest.mark.asyncio
T = dt.datetime
CODE = "000.00.27.H15-251120-0012"
CUT_OFF = T(2025, 1, 1)
LONG_AGO = "2023-01-01T09:00:00"


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "db.sqlite3")
    yield s
    await s.close()


async def add_case(store: Store, code: str, received: T, *steps: tuple[str, T]) -> None:
    await store.insert_case({"code": code, "procedure": "dang-ky-ket-hon", "name": "Nguyễn Văn An",
                             "phone": "0912345678", "channel": "trực tiếp", "received": received.isoformat(),
                             "due": (received + dt.timedelta(days=10)).date().isoformat(), "status": "received"}, "cb")
    for status, at in steps:
        await store.change_status(code, status, "", "cb", at=at)


async def leave_traces(store: Store, channel: str, user: str) -> str:
    """Everything a citizen who looked up and followed a case leaves behind; returns the handoff reference."""
    await store.save_state(channel, user, {"procedure": "dang-ky-ket-hon"})
    await store.follow(channel, user, CODE)
    await store.enqueue(channel, user, "status", {"code": CODE})
    await store.record_lookup(channel, user, CODE, False)
    await store.note_inbound(channel, user)
    return await store.add_handoff(channel, user)


async def test_forget_user_removes_that_citizens_data_only(store: Store):
    await add_case(store, CODE, T(2026, 11, 20, 9))
    ref = await leave_traces(store, "telegram", "u")
    await leave_traces(store, "zalo-oa", "u")           # the same id on another platform is another person
    other_ref = await leave_traces(store, "telegram", "v")

    counts = await store.forget_user("telegram", "u")

    assert counts == {"conversations": 1, "follows": 1, "outbox": 1, "reply_windows": 1, "handoffs": 1}
    assert await store.get_state("telegram", "u") == {}
    assert set(await store.followers(CODE)) == {("zalo-oa", "u"), ("telegram", "v")}
    assert {(r.channel, r.user) for r in await store.outbox_rows()} == {("zalo-oa", "u"), ("telegram", "v")}
    since = clock.now() - dt.timedelta(hours=1)
    # R2: the look-up record is what the limits count; deleting one's data must not reset them
    assert await store.failed_lookups("telegram", "u", since) == 1
    assert await store.failed_lookups("telegram", "v", since) == 1
    assert await store.reply_window("telegram", "u") is None
    assert await store.handoff(ref) is None and await store.handoff(other_ref) is not None
    assert await store.get_state("zalo-oa", "u") != {} and await store.get_state("telegram", "v") != {}


async def test_forget_user_keeps_anonymous_ratings_votes_and_the_office_record(store: Store):
    await add_case(store, CODE, T(2026, 11, 20, 9), ("returned", T(2026, 11, 25, 9)))
    await leave_traces(store, "telegram", "u")
    await store.add_rating(CODE, "telegram", "dang-ky-ket-hon", "", 5, "4")
    qid = await store.log_question("telegram", "đăng ký kết hôn cần gì", "procedure", "dang-ky-ket-hon", None, 0.9, True)
    await store.vote(qid, "telegram", "up")
    await store.forget_user("telegram", "u")
    assert (await store.rating(CODE)).level == "4"
    assert await store.question(qid) is not None
    assert len(await store.votes_between(T(2000, 1, 1), T(2100, 1, 1))) == 1
    case = await store.case(CODE)
    assert (case.name, case.phone) == ("Nguyễn Văn An", "0912345678")
    assert await store.forget_user("telegram", "u") == dict.fromkeys(
        ("conversations", "follows", "outbox", "reply_windows", "handoffs"), 0)


async def test_purge_anonymises_closed_cases_older_than_the_cut_off_and_keeps_open_ones(store: Store):
    old_closed, old_open, recently_closed = (f"000.00.27.H15-230102-000{i}" for i in (1, 2, 3))
    await add_case(store, old_closed, T(2023, 1, 2, 9), ("processing", T(2023, 1, 3, 9)), ("returned", T(2023, 1, 9, 9)))
    await add_case(store, old_open, T(2023, 1, 2, 9), ("needs_supplement", T(2023, 1, 3, 9)))
    await add_case(store, recently_closed, T(2023, 1, 2, 9), ("refused", T(2025, 6, 1, 9)))
    for code in (old_closed, old_open, recently_closed):
        await store.follow("telegram", "u", code)
    await store.add_rating(old_closed, "telegram", "dang-ky-ket-hon", "", 5, "5", at=T(2023, 1, 10, 9))

    counts = await store.purge(CUT_OFF)

    assert counts["cases anonymised"] == 1 and counts["follows"] == 1
    purged = await store.case(old_closed)
    assert (purged.name, purged.phone, purged.status, purged.procedure) == ("", "", "returned", "dang-ky-ket-hon")
    assert [s.status for s in await store.case_history(old_closed)] == ["received", "processing", "returned"]
    assert (await store.case(old_open)).name == "Nguyễn Văn An"
    assert (await store.case(recently_closed)).phone == "0912345678"
    assert await store.is_following("telegram", "u", old_open) and await store.is_following("telegram", "u", recently_closed)
    assert not await store.is_following("telegram", "u", old_closed)
    assert await store.rating(old_closed) is not None
    assert (await store.purge(CUT_OFF))["cases anonymised"] == 0      # a second run finds nothing new


async def test_purge_deletes_old_traces_but_not_undelivered_notifications_or_recent_ones(store: Store):
    for user in ("old", "new"):
        await store.save_state("t", user, {"x": 1})
        await store.record_lookup("t", user, CODE, True)
        await store.note_inbound("t", user)
        await store.add_handoff("t", user)
        await store.first_sight("t", f"msg-{user}")
        await store.enqueue("t", user, "status", {"text": "delivered"})
        await store.enqueue("t", user, "status", {"text": "pending"})
    for table, column in (("conversations", "updated_at"), ("lookup_attempts", "at"), ("reply_windows", "last_inbound"),
                          ("handoffs", "at"), ("outbox", "created_at")):
        await store.db.execute(f"UPDATE {table} SET {column} = ? WHERE user = 'old'", (LONG_AGO,))
    await store.db.execute("UPDATE seen_messages SET at = ? WHERE message_id = 'msg-old'", (LONG_AGO,))
    for row in await store.outbox_rows():
        if row.payload == '{"text": "delivered"}':
            await store.mark_delivered(row.id)
    qid = await store.log_question("t", "câu hỏi cũ", "unknown", None, None, 0.1, False)
    await store.db.execute("UPDATE questions SET at = ? WHERE id = ?", (LONG_AGO, qid))

    counts = await store.purge(CUT_OFF)

    assert {k: counts[k] for k in ("conversations", "outbox", "lookup_attempts", "handoffs", "seen_messages",
                                   "reply_windows")} == dict.fromkeys(
        ("conversations", "outbox", "lookup_attempts", "handoffs", "seen_messages", "reply_windows"), 1)
    assert await store.get_state("t", "old") == {} and await store.get_state("t", "new") == {"x": 1}
    assert await store.reply_window("t", "old") is None and await store.reply_window("t", "new") is not None
    assert {(r.user, r.payload) for r in await store.outbox_rows()} == {
        ("old", '{"text": "pending"}'), ("new", '{"text": "delivered"}'), ("new", '{"text": "pending"}')}
    assert await store.first_sight("t", "msg-old") is True       # forgotten: a re-delivery this late is new
    assert await store.first_sight("t", "msg-new") is False
    assert await store.question(qid) is not None                  # the question log is anonymous statistics
