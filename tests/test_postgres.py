"""PostgreSQL shared by several processes: two stores on one schema stand for two `motcua run`
processes (each has its own connections, as a process does). What one citizen or officer would
notice is checked: turns that never overwrite each other, a notification claimed once, a status
change applied once, notifiers woken by another process's change, one poller per platform, and a
SQLite deployment moved without losing a row."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from bot import clock
from bot.storage import Store
from bot.storage.copy import copy_database, tables
from bot.storage.db import StorageError

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parent.parent
CODE = "000.00.27.H15-251120-0012"
CASE = {"code": CODE, "procedure": "dang-ky-ket-hon", "name": "Nguyễn Văn An", "phone": "0912345678",
        "channel": "trực tiếp", "received": "2026-11-20T09:00:00", "due": "2026-12-01", "status": "received"}


@pytest_asyncio.fixture
async def pair(postgres_url: str) -> AsyncIterator[tuple[Store, Store]]:
    first = await Store.open(postgres_url)
    second = await Store.open(postgres_url)
    yield first, second
    await first.close()
    await second.close()


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait for a condition another connection brings about (checked at each turn of the loop)."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0)


async def waits_for_a_conversation(store: Store) -> bool:
    """Whether some process waits for a citizen's conversation another holds."""
    async with store.db.execute(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1 AND NOT granted") as cur:
        return bool((await cur.fetchone())[0])


async def test_the_user_column_is_the_citizen_not_the_database_role(postgres_url: str):
    """`user` unquoted is CURRENT_USER in PostgreSQL: the role `postgres` would match every row."""
    store = await Store.open(postgres_url)
    try:
        await store.save_state("telegram", "postgres", {"procedure": "x"})
        assert await store.get_state("telegram", "someone-else") == {}
        assert await store.get_state("telegram", "postgres") == {"procedure": "x"}
    finally:
        await store.close()


async def test_commits_do_not_wait_for_the_disk_unless_the_url_asks(postgres_url: str):
    """SQLite's trade here (WAL, synchronous=NORMAL), the same on PostgreSQL, overridable per deployment."""
    for url, expected in ((postgres_url, "off"), (f"{postgres_url}&synchronous_commit=on", "on")):
        store = await Store.open(url)
        try:
            async with store.db.execute("SELECT current_setting('synchronous_commit')") as cur:
                assert (await cur.fetchone())[0] == expected
        finally:
            await store.close()


async def test_a_citizens_turn_in_one_process_waits_for_their_turn_in_the_other(pair: tuple[Store, Store]):
    first, second = pair
    entered = asyncio.Event()

    async def other_turn() -> None:
        async with second.turn("telegram", "7001") as held:
            entered.set()
            held.save = {**held.state, "second": True}

    async with first.turn("telegram", "7001") as held:
        task = asyncio.create_task(other_turn())
        await until(lambda: waits_for_a_conversation(first))
        assert not entered.is_set()
        held.save = {**held.state, "first": True}
    await asyncio.wait_for(task, 10)
    assert await first.get_state("telegram", "7001") == {"first": True, "second": True}


async def test_a_turn_inside_a_transaction_waits_as_well(pair: tuple[Store, Store]):
    """The same steps one by one (a transaction is open) still take the citizen's turn in order."""
    first, second = pair

    async def other_turn() -> None:
        async with second.transaction(), second.turn("telegram", "7001") as held:
            held.save = {**held.state, "second": True}

    async with first.turn("telegram", "7001") as held:
        task = asyncio.create_task(other_turn())
        await until(lambda: waits_for_a_conversation(first))
        held.save = {**held.state, "first": True}
    await asyncio.wait_for(task, 10)
    assert await first.get_state("telegram", "7001") == {"first": True, "second": True}


async def test_a_citizens_messages_spread_over_two_processes_lose_no_update(pair: tuple[Store, Store]):
    """A burst of one citizen's messages, shared out by the load balancer: each turn sees what
    the one before it saved, in whichever process that ran."""
    first, second = pair

    async def turn(store: Store) -> None:
        async with store.turn("telegram", "7001") as held:
            held.save = {"turns": held.state.get("turns", 0) + 1}

    await asyncio.gather(*(turn(store) for _ in range(15) for store in pair))
    assert await second.get_state("telegram", "7001") == {"turns": 30}
    assert await first.get_state("telegram", "7001") == {"turns": 30}


async def test_questions_logged_at_once_in_two_processes_each_keep_their_own(pair: tuple[Store, Store]):
    """Their ids are handed out ahead by each process (they are in the reply before the turn
    writes the row): none is given twice, and each finds its own question."""
    async def turn(store: Store, user: str) -> tuple[int, str]:
        text = f"câu hỏi của người {user}"
        async with store.turn("telegram", user) as held:
            qid = await store.log_question("telegram", text, "unknown", None, None, 0.2, False)
            held.save = {}
        return qid, text

    first, _ = pair
    asked = await asyncio.gather(*(turn(store, f"{n}{i}") for i in range(100) for n, store in enumerate(pair)))
    assert len({qid for qid, _ in asked}) == 200
    for qid, text in asked:
        row = await first.question(qid)
        assert row is not None and row.text == text


async def test_a_turn_cut_short_does_not_lock_the_citizen_out(pair: tuple[Store, Store]):
    """A turn cancelled mid-way (a process stopping, a webhook timing out) gives the lock back."""
    first, second = pair
    inside = asyncio.Event()

    async def turn() -> None:
        async with first.turn("telegram", "7001") as held:
            held.save = {"saved": "never"}
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(turn())
    await asyncio.wait_for(inside.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(10), second.turn("telegram", "7001") as held:
        assert held.state == {}
        held.save = {"served": True}
    assert await first.get_state("telegram", "7001") == {"served": True}


async def test_another_citizen_is_not_held_up(pair: tuple[Store, Store]):
    first, second = pair
    async with first.turn("telegram", "7001"), second.turn("telegram", "7002") as held:
        held.save = {"ok": True}
    assert await first.get_state("telegram", "7002") == {"ok": True}


async def test_buttons_sent_to_a_citizen_wait_for_their_turn_in_another_process(pair: tuple[Store, Store]):
    """A notification's buttons, set while the citizen's turn runs elsewhere, are not overwritten
    by that turn's end: they wait for it, then change only the choices."""
    first, second = pair
    async with first.turn("telegram", "7001") as held:
        offered = asyncio.create_task(second.set_choices("telegram", "7001", ["rate:C:5"]))
        await until(lambda: waits_for_a_conversation(first))
        held.save = {"procedure": "dang-ky-khai-sinh", "choices": ["menu"]}
    await asyncio.wait_for(offered, 10)
    state = await first.get_state("telegram", "7001")
    assert state["procedure"] == "dang-ky-khai-sinh" and state["choices"] == ["rate:C:5"]


async def test_each_notification_is_claimed_by_one_process_only(pair: tuple[Store, Store]):
    first, second = pair
    for i in range(120):
        await first.enqueue("telegram", str(i), "status", {"text": str(i)})
    at = clock.now() + dt.timedelta(seconds=1)
    claimed: list[int] = []
    for _ in range(4):
        batches = await asyncio.gather(*(s.claim_due(["telegram"], at, dt.timedelta(minutes=5), limit=20)
                                         for s in (first, second, first, second)))
        claimed += [row.id for batch in batches for row in batch]
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 120


async def test_rows_one_process_is_claiming_are_passed_over_by_the_other(pair: tuple[Store, Store]):
    first, second = pair
    for i in range(4):
        await first.enqueue("telegram", str(i), "status", {"text": str(i)})
    at = clock.now() + dt.timedelta(seconds=1)
    async with first.transaction():
        async with first.db.execute(f"SELECT id FROM outbox ORDER BY id LIMIT 2{first.skip_locked}") as cur:
            held = [row[0] for row in await cur.fetchall()]
        rows = await second.claim_due(["telegram"], at, dt.timedelta(minutes=5))
    assert {row.id for row in rows}.isdisjoint(held) and len(rows) == 2


async def test_a_process_starting_leaves_the_claims_of_the_others_alone(pair: tuple[Store, Store]):
    first, second = pair
    await first.enqueue("telegram", "7001", "status", {"text": "x"})
    at = clock.now() + dt.timedelta(seconds=1)
    assert len(await first.claim_due(["telegram"], at, dt.timedelta(minutes=5))) == 1
    assert await second.release_claims(["telegram"]) == 0          # what a notifier does as it starts
    assert await second.claim_due(["telegram"], at, dt.timedelta(minutes=5)) == []


async def test_two_officers_changing_one_case_at_once_apply_one_change(pair: tuple[Store, Store]):
    first, second = pair
    await first.insert_case(CASE, "cb")
    results = await asyncio.gather(first.change_status(CODE, "processing", "", "cb1", steps=1),
                                   second.change_status(CODE, "supplement", "", "cb2", steps=1))
    assert sorted(results) == [False, True]
    assert len(await first.case_history(CODE)) == 2


async def test_a_notification_added_by_another_process_wakes_the_notifier_at_once(pair: tuple[Store, Store]):
    first, second = pair
    woken = asyncio.Event()
    first.outbox_listeners.append(woken.set)
    await first.watch_outbox()
    await second.enqueue("telegram", "7001", "status", {"text": "x"})
    await asyncio.wait_for(woken.wait(), 10)
    woken.clear()
    [row] = await second.outbox_rows()
    await second.mark_waiting(row.id, "window")
    await second.note_inbound("telegram", "7001")          # the citizen wrote: the waiting row is due
    await asyncio.wait_for(woken.wait(), 10)


async def test_the_look_up_brake_counts_attempts_made_in_every_process(pair: tuple[Store, Store]):
    """Wrong phone digits sent to one process count against the citizen and the case in the other."""
    first, second = pair
    for _ in range(3):
        await first.record_lookup("telegram", "7001", CODE, False)
    since = clock.now() - dt.timedelta(minutes=1)
    assert await second.failed_lookups("telegram", "7001", since) == 3
    assert await second.case_failures(CODE, since) == 3
    assert await second.failures_since(since) == 3


async def test_one_process_polls_a_platform_and_another_takes_over_when_it_ends(pair: tuple[Store, Store]):
    first, second = pair
    leader, standby = first.leadership("poll:telegram"), second.leadership("poll:telegram")
    assert await leader.try_take()
    assert not await standby.try_take()
    taking = asyncio.create_task(standby.take())
    await leader.release()                                   # the polling process is gone
    await asyncio.wait_for(taking, 10)
    await standby.release()


async def fill(store: Store) -> None:
    """A row in every table, through the stores, as a deployment would have them."""
    await store.insert_case(CASE, "cb", "Hồ sơ đủ")
    await store.follow("telegram", "7001", CODE)
    await store.change_status(CODE, "returned", "Đã trả", "cb", notify=[("telegram", "7001", "status", {"c": 1})])
    await store.save_state("telegram", "7001", {"verified": [CODE]})
    await store.add_handoff("telegram", "7001")
    question = await store.log_question("telegram", "lệ phí kết hôn", "procedure", "dang-ky-ket-hon", "fee", 0.9, True)
    await store.vote(question, "telegram", "up")
    rating = await store.add_rating(CODE, "telegram", "dang-ky-ket-hon", "UBND xã", 5, "5")
    assert rating is not None
    await store.set_rating_field(rating, "comment", "Nhanh")
    await store.add_feedback("telegram", "suggestion", "Thêm giờ làm thứ Bảy")
    await store.record_lookup("telegram", "7001", CODE, True)
    await store.save_tokens("zalo-oa", "a", "r", dt.datetime(2026, 12, 1, 9))
    await store.first_sight("telegram", "m1")
    await store.note_inbound("telegram", "7001")
    await store.raise_alert("zalo-oa", "refresh refused")


async def everything(store: Store, names: list[str]) -> dict[str, list[tuple[object, ...]]]:
    rows = {}
    for table in names:
        async with store.db.execute(f"SELECT * FROM {table}") as cur:
            rows[table] = sorted((tuple(r) for r in await cur.fetchall()), key=repr)
    return rows


async def test_db_copy_moves_every_row_of_a_sqlite_deployment(tmp_path: Path, postgres_url: str):
    source = await Store.open(tmp_path / "motcua.sqlite3")
    target = await Store.open(postgres_url)
    try:
        await fill(source)
        names = await tables(source)
        before = await everything(source, names)
        assert all(before.values()), [t for t, rows in before.items() if not rows]
        counts = await copy_database(source, target)
        assert counts == {table: len(rows) for table, rows in before.items()}
        assert await everything(target, names) == before
        # the copy goes on working: a new question gets the next id, not a copied one's
        question = await target.log_question("telegram", "giờ làm việc", "hours", None, None, 0.8, True)
        assert question > max(row[0] for row in before["questions"])
        with pytest.raises(StorageError, match="đã có dữ liệu"):
            await copy_database(source, target)           # never into a database in use
    finally:
        await source.close()
        await target.close()


async def test_the_db_copy_command_moves_a_deployment_and_says_how_many_rows(tmp_path: Path, postgres_url: str):
    source = await Store.open(tmp_path / "motcua.sqlite3")
    await fill(source)
    await source.close()

    async def motcua(*args: str) -> tuple[int | None, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode, output.decode()

    code, output = await motcua("db", "copy", str(tmp_path / "motcua.sqlite3"), postgres_url)
    assert code == 0, output
    assert "Đã chép" in output and "case_history: 2" in output
    target = await Store.open(postgres_url)
    try:
        assert len(await target.case_history(CODE)) == 2
    finally:
        await target.close()
