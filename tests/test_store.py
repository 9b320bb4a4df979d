"""The Store facade: migrations run once and in order, transactions are atomic, cases list by office and status."""

import datetime as dt
from pathlib import Path

import pytest

from bot.statuses import CLOSED, PAUSED, RESULT, STATUSES
from bot.storage import Store
from bot.storage.db import MIGRATIONS

pytestmark = pytest.mark.asyncio


async def test_migrations_bring_a_new_database_to_the_latest_version_once(tmp_path: Path):
    store = await Store.open(tmp_path / "a.sqlite3")
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    again = await Store.open(tmp_path / "a.sqlite3")
    assert await again.schema_version() == len(MIGRATIONS)
    async with again.db.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    await again.close()


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path: Path):
    store = await Store.open(tmp_path / "a.sqlite3")
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.save_state("t", "1", {"x": 1})
            raise RuntimeError("crash mid-way")
    assert await store.get_state("t", "1") == {}
    await store.close()


async def test_only_cases_still_being_worked_on_can_be_overdue(tmp_path: Path):
    """`cases list --overdue`: a case with its result, closed, or waiting for the citizen's papers
    is never late, whatever its due date says."""
    store = await Store.open(tmp_path / "a.sqlite3")
    for i, status in enumerate(STATUSES):
        await store.insert_case({"code": f"C{i:02d}", "procedure": "p", "name": "A", "phone": "0912345678",
                                 "channel": "trực tiếp", "received": f"2026-11-{i + 1:02d}T09:00:00",
                                 "due": "2026-12-31", "status": status}, "cb")
    late = dt.date(2027, 1, 4)
    assert {c.status for c in await store.overdue_rows(late, 100)} == set(STATUSES) - RESULT - CLOSED - PAUSED
    assert await store.overdue_count(late) == len(set(STATUSES) - RESULT - CLOSED - PAUSED)
    assert await store.overdue_rows(dt.date(2026, 12, 31), 100) == []
    assert await store.case_count() == len(STATUSES)
    await store.close()


async def test_cases_are_kept_per_office_and_unassigned_ones_go_to_the_office_their_prefix_names(store: Store):
    def case(code: str, office_code: str = "") -> dict[str, str]:
        return {"code": code, "procedure": "p", "name": "n", "phone": "0912345678", "channel": "trực tiếp",
                "received": "2026-11-20T09:00:00", "due": "2026-11-30", "status": "received", "office_code": office_code}

    await store.insert_case(case("A-1"), "cb")
    await store.insert_case(case("B-1"), "cb")
    await store.insert_case(case("B-2", "b"), "cb")
    await store.insert_case(case("X-1"), "cb")
    assert await store.assign_office("a", "A-") == 1
    assert await store.assign_office("b", "B-") == 1
    assert await store.assign_office("b", "B-") == 0                  # a second start finds nothing to give
    assert [r.code for r in await store.latest_cases(10, office="b")] == ["B-1", "B-2"]
    assert [r.code for r in await store.latest_cases(10, office="")] == ["X-1"]
    assert [r.code for r in await store.overdue_rows(dt.date(2026, 12, 1), 10, office="a")] == ["A-1"]
    assert await store.case_count() == 4
