"""The case queries staff commands run, on SQLite and on PostgreSQL: what the database counts over
a period must be what the desk's own rules say of each case (`Case.timeliness`), and the lists an
officer pages through must hold the right cases in the right order."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bot.cases import Case, CaseDesk
from bot.catalog import Catalog
from bot.config import Office
from bot.demo import seed_cases
from bot.statuses import PAUSED
from bot.storage import ReportScope, Store
from bot.workdays import Calendar

pytestmark = pytest.mark.asyncio

T = dt.datetime


async def all_cases(desk: CaseDesk) -> list[Case]:
    """Every case with its history, the slow way: the oracle the queries are checked against."""
    return [c for c in [await desk.get(r.code) for r in await desk.store.latest_cases(10**9)] if c is not None]


def expected_tallies(cases: list[Case], start: dt.date, end: dt.date, as_of: dt.date) -> dict[str, Counter[str]]:
    """The one-stop results form per procedure, from each case's own rules."""
    out: dict[str, Counter[str]] = {}
    for c in cases:
        done = c.finished_on()
        if c.received.date() > end or (done is not None and done < start):
            continue
        t = out.setdefault(c.procedure, Counter())
        new = c.received.date() >= start
        t["carried" if not new else "received"] += 1
        t["received_online"] += new and c.channel == "trực tuyến"
        if done is not None and done <= end:
            t[c.timeliness(as_of)] += 1
        elif (done is None and c.status in PAUSED) or c.due >= as_of:
            t["open_in_time"] += 1
        else:
            t["open_overdue"] += 1
    return out


@pytest.fixture
def desk(store: Store, catalog: Catalog) -> CaseDesk:
    office = Office("UBND xã Demo", "1 Đường Demo", "7:30–17:00", "1900 0000")
    return CaseDesk(store, catalog, Calendar(), front=office, offices=(office,))


async def test_report_figures_are_each_cases_own_timeliness(desk: CaseDesk, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("bot.demo.now", lambda: T(2026, 11, 30, 17))
    assert await seed_cases(desk, 400, years=0.5) == 400
    cases = await all_cases(desk)
    for start, end in [(dt.date(2026, 11, 1), dt.date(2026, 11, 30)), (dt.date(2026, 8, 1), dt.date(2026, 9, 15))]:
        as_of = min(end, dt.date(2026, 11, 30))
        tallies = await desk.store.procedure_tallies(ReportScope(start, end), as_of)
        got = {t.procedure: Counter({k: v for k, v in vars(t).items() if k != "procedure" and v}) for t in tallies}
        assert got == {p: +c for p, c in expected_tallies(cases, start, end, as_of).items()}
        by_day = await desk.store.finished_by_day(ReportScope(start, end))
        finished = [c for c in cases if (d := c.finished_on()) is not None and start <= d <= end]
        assert sum(n for _, _, n in by_day) == len(finished) > 0
        assert sum(ok for _, ok, _ in by_day) == sum(c.timeliness(as_of) in {"early", "on_time"} for c in finished)


async def test_the_overdue_list_is_the_open_cases_past_due_longest_first(desk: CaseDesk,
                                                                         monkeypatch: pytest.MonkeyPatch):
    today = T(2026, 11, 30, 17)
    for module in ("bot.demo", "bot.cases"):
        monkeypatch.setattr(f"{module}.now", lambda: today)
    await seed_cases(desk, 300, years=0.5)
    for day in range(2, 20, 3):       # left on a desk since early November
        await desk.add(f"000.00.27.H15-2611{day:02d}-0002", "chung-thuc-ban-sao", "Đỗ Thị Chờ", "0912000222",
                       received=T(2026, 11, day, 10))
    # a result given, then the file taken back to work on: judged by its result, never overdue
    reopened = await desk.add("000.00.27.H15-261102-0001", "dang-ky-khai-sinh", "Lê Văn Làm Lại", "0912000111",
                              received=T(2026, 11, 2, 9))
    await desk.update(reopened.code, "ready", "", "cb", at=T(2026, 11, 3, 9))
    await desk.update(reopened.code, "processing", "làm lại", "cb", at=today)
    overdue = [c for c in await all_cases(desk) if c.timeliness(today.date()) == "overdue"]
    assert len(overdue) > 5 and reopened.code not in {c.code for c in overdue}
    assert await desk.count(overdue=True) == len(overdue)
    listed = await desk.list(overdue=True, limit=5)
    assert [c.code for c in listed] == [c.code for c in sorted(overdue, key=lambda c: (c.due, c.code))][:5]
    assert all(len(c.history) == len(next(o for o in overdue if o.code == c.code).history) for c in listed)


async def test_the_plain_list_is_a_page_of_the_cases_received_last(desk: CaseDesk, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("bot.demo.now", lambda: T(2026, 11, 30, 17))
    await seed_cases(desk, 120, years=0.2)
    cases = sorted(await all_cases(desk), key=lambda c: (c.received, c.code))
    assert [c.code for c in await desk.list(limit=10)] == [c.code for c in cases[-10:]]
    assert await desk.count() == 120


async def test_cases_stored_before_0011_gain_the_day_their_first_result_came(tmp_path):
    """An office's existing cases keep counting right in reports after the upgrade: a case with a
    result (even if it was then taken back to work on) gets that first day, an open one none."""
    import sqlite3

    from bot.storage.db import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:10]:
        old.executescript(script)
    old.execute("PRAGMA user_version=10")
    steps = {"A": [("2026-11-02T09:00:00", "received"), ("2026-11-05T10:00:00", "ready"),
                   ("2026-11-06T10:00:00", "processing"), ("2026-11-09T10:00:00", "ready")],
             "B": [("2026-11-02T09:00:00", "received"), ("2026-11-03T09:00:00", "processing")]}
    for code, history in steps.items():
        old.execute("INSERT INTO cases (code, procedure, name, phone, channel, received, due, status, created_at)"
                    " VALUES (?, 'dang-ky-khai-sinh', 'Trần Đức Huy', '0912345678', 'trực tiếp',"
                    " '2026-11-02T09:00:00', '2026-11-05', ?, '2026-11-02T09:00:00')", (code, history[-1][1]))
        old.executemany("INSERT INTO case_history (code, at, status) VALUES (?, ?, ?)",
                        [(code, at, status) for at, status in history])
    old.commit()
    old.close()
    store = await Store.open(path)
    try:
        async with store.db.execute("SELECT code, finished FROM cases ORDER BY code") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("A", "2026-11-05"), ("B", None)]
        assert await store.overdue_count(dt.date(2026, 11, 30)) == 1
    finally:
        await store.close()
