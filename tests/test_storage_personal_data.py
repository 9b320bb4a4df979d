"""Personal data: "delete my data" removes one citizen's traces only, and the retention purge spares open cases and statistics."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot import clock
from bot.storage import Store

pytestmark = pytest.mark.asyncio
T = dt.datetime
CODE = "000.00.27.H15-251120-0012"
CUT_OFF = T(2025, 1, 1)
LONG_AGO = "2023-01-01T09:00:00"


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
    rating = await store.add_rating(CODE, "telegram", "dang-ky-ket-hon", "", 5, "4")
    qid = await store.log_question("telegram", "đăng ký kết hôn cần gì", "procedure", "dang-ky-ket-hon", None, 0.9, True)
    await store.vote(qid, "telegram", "up")
    await store.forget_user("telegram", "u")
    assert (await store.rating(rating)).level == "4"
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
    rating = await store.add_rating(old_closed, "telegram", "dang-ky-ket-hon", "", 5, "5", at=T(2023, 1, 10, 9))

    counts = await store.purge(CUT_OFF)

    assert counts["cases anonymised"] == 1 and counts["follows"] == 1
    purged = await store.case(old_closed)
    assert (purged.name, purged.phone, purged.status, purged.procedure) == ("", "", "returned", "dang-ky-ket-hon")
    assert [s.status for s in await store.case_history(old_closed)] == ["received", "processing", "returned"]
    assert (await store.case(old_open)).name == "Nguyễn Văn An"
    assert (await store.case(recently_closed)).phone == "0912345678"
    assert await store.is_following("telegram", "u", old_open) and await store.is_following("telegram", "u", recently_closed)
    assert not await store.is_following("telegram", "u", old_closed)
    assert await store.rating(rating) is not None
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
    question = await store.question(qid)                          # the row stays for the statistics,
    assert question is not None and question.text == ""           # its text (R10) does not


# R10: what a citizen typed survives neither the deletion in the file nor the purge

MARKER = "trạng-thái-riêng-của-4242"
USER = "4242424242"


def raw_bytes(path: Path) -> bytes:
    """The database file and its WAL, as someone holding a copy of the disk would read them."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.fixture
def upstream_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SQLite library built with secure_delete off (the upstream default; this machine's is on):
    every new connection starts with it off, as there."""
    connect = sqlite3.connect

    def insecure(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = connect(*args, **kwargs)  # type: ignore[arg-type]
        db.execute("PRAGMA secure_delete=0")
        return db

    monkeypatch.setattr(sqlite3, "connect", insecure)


@pytest.mark.usefixtures("upstream_default")
async def test_a_forgotten_citizen_leaves_no_bytes_in_the_file_whatever_sqlite_defaults_to(tmp_path: Path):
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    await add_case(store, CODE, T(2026, 11, 20, 9))
    for i in range(20):                                   # enough rows that the page is not freed whole
        await store.save_state("telegram", f"other-{i}", {"procedure": "dang-ky-ket-hon"})
    await store.save_state("telegram", USER, {"note": MARKER})
    await store.follow("telegram", USER, CODE)
    await store.forget_user("telegram", USER)
    await store.close()
    data = raw_bytes(path)
    assert MARKER.encode() not in data and USER.encode() not in data


async def test_after_forget_the_wal_no_longer_holds_the_rows_as_they_were(tmp_path: Path):
    """The WAL keeps each page as it was written until it is reused: emptied after a deletion."""
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    try:
        await store.save_state("telegram", USER, {"note": MARKER})
        assert MARKER.encode() in raw_bytes(path)
        await store.forget_user("telegram", USER)
        assert MARKER.encode() not in raw_bytes(path)
    finally:
        await store.close()


async def test_forget_inside_a_callers_transaction_commits_with_it(store: Store):
    async with store.transaction():
        await store.save_state("telegram", USER, {"note": MARKER})
        await store.forget_user("telegram", USER)
    assert await store.get_state("telegram", USER) == {}


async def test_purge_blanks_old_question_feedback_and_comment_texts_and_keeps_the_statistics(store: Store):
    old_case, new_case = "000.00.27.H15-230102-0001", "000.00.27.H15-251120-0002"
    await add_case(store, old_case, T(2023, 1, 2, 9), ("returned", T(2023, 1, 9, 9)))
    await add_case(store, new_case, T(2026, 11, 20, 9), ("returned", T(2026, 11, 25, 9)))
    old_id = await store.add_rating(old_case, "t", "dang-ky-ket-hon", "", 5, "2", at=T(2023, 1, 10, 9))
    new_id = await store.add_rating(new_case, "t", "dang-ky-ket-hon", "", 5, "5")
    for rating in (old_id, new_id):
        await store.set_rating_field(rating, "comment", "Phan Thị Bí Mật không hài lòng")
    old_q = await store.log_question("t", "Phan Thị Bí Mật hỏi khai sinh", "unknown", None, None, 0.1, False)
    new_q = await store.log_question("t", "Phan Thị Bí Mật hỏi kết hôn", "unknown", None, None, 0.1, False)
    await store.add_feedback("t", "complaint", "Phan Thị Bí Mật bị hạch dịch")
    await store.add_feedback("t", "complaint", "Phan Thị Bí Mật lần hai")
    await store.db.execute("UPDATE questions SET at = ? WHERE id = ?", (LONG_AGO, old_q))
    await store.db.execute("UPDATE feedback SET at = ? WHERE text LIKE '%bị hạch dịch'", (LONG_AGO,))

    counts = await store.purge(CUT_OFF)

    assert (counts["questions blanked"], counts["feedback blanked"], counts["rating comments blanked"]) == (1, 1, 1)
    assert (await store.question(old_q)).text == "" and (await store.question(old_q)).intent == "unknown"
    assert (await store.question(new_q)).text == "Phan Thị Bí Mật hỏi kết hôn"
    assert [f.text for f in await store.feedback_between(T(2000, 1, 1), T(2100, 1, 1))] == ["", "Phan Thị Bí Mật lần hai"]
    old_rating, new_rating = await store.rating(old_id), await store.rating(new_id)
    assert (old_rating.comment, old_rating.level) == ("", "2") and new_rating.comment != ""
    assert [r.text for r in await store.unanswered(T(2000, 1, 1))] == ["Phan Thị Bí Mật hỏi kết hôn"]
    assert (await store.purge(CUT_OFF))["questions blanked"] == 0


async def test_purge_masks_the_applicants_name_and_phone_in_the_notes_of_the_cases_it_anonymises(store: Store):
    old_closed, old_open = "000.00.27.H15-230102-0001", "000.00.27.H15-230102-0002"
    note = "Liên hệ Nguyễn Văn An qua 0912345678 hoặc an@example.com"
    for code, status in ((old_closed, "returned"), (old_open, "needs_supplement")):
        await add_case(store, code, T(2023, 1, 2, 9))
        await store.change_status(code, "processing", note, "cb", at=T(2023, 1, 3, 9))
        await store.change_status(code, status, "Đã trả kết quả", "cb", at=T(2023, 1, 9, 9))

    counts = await store.purge(CUT_OFF)

    assert counts["history notes masked"] == 1
    assert [h.note for h in await store.case_history(old_closed)] == ["", "Liên hệ *** qua *** hoặc ***", "Đã trả kết quả"]
    assert [h.note for h in await store.case_history(old_open)][1] == note


async def test_purge_removes_old_notifications_set_aside_or_waiting_for_ever(store: Store):
    """R21: rows that can never be delivered survived every purge, which took delivered rows only."""
    for text in ("given up", "waiting", "due"):
        await store.enqueue("t", "u", "status", {"text": text})
    rows = {r.payload: r.id for r in await store.outbox_rows()}
    await store.mark_given_up(rows['{"text": "given up"}'], 24, "blocked")
    await store.mark_waiting(rows['{"text": "waiting"}'], "reply window closed")
    await store.db.execute("UPDATE outbox SET created_at = ?", (LONG_AGO,))
    assert (await store.purge(CUT_OFF))["outbox"] == 2
    assert [r.payload for r in await store.outbox_rows()] == ['{"text": "due"}']
