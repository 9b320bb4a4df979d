"""Demo cases: a newcomer's first `motcua chat` finds three cases to look up, added once and never over real data."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

import bot.demo
from bot import reports
from bot.app import build_app, open_desk
from bot.cases import CaseDesk
from bot.demo import DEMO_PHONE, demo_codes, ensure_demo_cases, only_demo_cases, seed_cases, seed_month, welcome
from bot.messages import Incoming
from bot.storage.postgres import PgConnection
from bot.wording import demo_not_empty
from tests.helpers import OFFICE_A, make_config, make_offices_config

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def desk(tmp_path: Path) -> AsyncIterator[CaseDesk]:
    d = await open_desk(make_config(tmp_path / "db.sqlite3"))
    yield d
    await d.store.close()


async def test_three_cases_in_telling_states_are_added_to_an_empty_database(desk: CaseDesk):
    codes = await ensure_demo_cases(desk)
    assert len(codes) == 3
    cases = [await desk.require(code) for code in codes]
    assert [c.status for c in cases] == ["processing", "needs_supplement", "processing"]
    assert all(c.phone == DEMO_PHONE for c in cases)
    assert "Bản vẽ thiết kế" in cases[1].last_note()     # what to bring is shown on the supplement case
    assert [s.staff for s in cases[0].history] == ["demo", "demo"]


async def test_a_second_call_adds_nothing(desk: CaseDesk):
    first = await ensure_demo_cases(desk)
    assert await ensure_demo_cases(desk) == []
    assert sorted(c.code for c in await desk.store.latest_cases(10**9)) == sorted(first)


async def test_a_database_with_real_cases_gets_no_demo_cases(desk: CaseDesk):
    await desk.add("000.00.27.H15-251120-0012", "dang-ky-thuong-tru", "Phạm Thị Thật", "0987654321")
    assert await ensure_demo_cases(desk) == []
    assert [c.name for c in await desk.store.latest_cases(10**9)] == ["Phạm Thị Thật"]
    assert await seed_month(desk) == 0


async def test_the_welcome_lists_every_code_and_the_digits_to_type(desk: CaseDesk):
    assert welcome([]) == ""
    codes = await ensure_demo_cases(desk)
    text = welcome(codes)
    assert all(code in text for code in codes)
    assert DEMO_PHONE[-4:] in text and DEMO_PHONE not in text


async def test_a_demo_case_can_be_looked_up_in_the_chat_with_the_digits_the_welcome_gives(tmp_path: Path):
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    try:
        codes = await ensure_demo_cases(app.desk)
        await app.dialog.handle(Incoming("console", "me", text=f"tra cứu {codes[1]}"))
        replies = await app.dialog.handle(Incoming("console", "me", text=DEMO_PHONE[-4:]))
        shown = "\n".join(r.text for r in replies)
        assert f"Hồ sơ {codes[1]}" in shown and "Cần bổ sung hồ sơ" in shown
    finally:
        await app.close()


async def test_the_demo_cases_are_found_again_on_every_start(desk: CaseDesk):
    codes = await ensure_demo_cases(desk)
    assert await ensure_demo_cases(desk) == [] and sorted(await demo_codes(desk)) == sorted(codes)
    assert await only_demo_cases(desk)


async def test_a_month_goes_into_the_chats_demo_database_only_when_forced(desk: CaseDesk):
    codes = await ensure_demo_cases(desk)
    assert await seed_month(desk) == 0
    assert await seed_month(desk, force=True) == 120
    assert None not in [await desk.get(code) for code in codes]             # the chat's three are kept
    assert not await only_demo_cases(desk)
    assert await seed_month(desk, force=True) == 0                          # never beside real-looking data


async def test_demo_seed_says_what_to_do_instead_of_failing_bare(tmp_path: Path):
    config = make_config(tmp_path / "chat.sqlite3")
    assert "--force" in demo_not_empty(config.database, True) and "--db" in demo_not_empty(config.database, True)
    assert "--force" not in demo_not_empty(config.database, False) and "--db" in demo_not_empty(config.database, False)


async def test_every_menu_of_the_console_chat_repeats_the_demo_cases(tmp_path: Path):
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    try:
        codes = await ensure_demo_cases(app.desk)
        app.dialog.notice = welcome(await demo_codes(app.desk))
        for text in ("/start", "menu"):
            [menu] = await app.dialog.handle(Incoming("console", "me", text=text))
            assert menu.text.startswith("Xin chào!") and all(code in menu.text for code in codes)
            assert DEMO_PHONE[-4:] in menu.text
    finally:
        await app.close()


async def test_with_several_offices_the_demo_cases_are_the_first_office(tmp_path: Path):
    desk = await open_desk(make_offices_config(tmp_path, tmp_path / "db.sqlite3"))
    try:
        codes = await ensure_demo_cases(desk)
        assert [(await desk.get(code)).office for code in codes] == [OFFICE_A] * 3
        assert await seed_month(desk, force=True) > 0
    finally:
        await desk.store.close()


async def test_seeded_cases_are_consistent_with_their_history_and_the_guides(desk: CaseDesk):
    """`demo seed --cases`: each case's status is its last step, its due date comes from its
    guide's working days (counted again from the day a supplement completed the file), its
    finishing day is kept as the history says, and only returned cases are rated, once."""
    assert await seed_cases(desk, 250, years=1) == 250
    store = desk.store
    rows = await store.latest_cases(10**9)
    assert len(rows) == await store.case_count() == 250
    statuses = set()
    for row in rows:
        case = await desk.require(row.code)
        statuses.add(case.status)
        assert case.status == case.history[-1].status and case.history[0].status == "received"
        assert [s.at for s in case.history] == sorted(s.at for s in case.history)
        started = next((s.at for s in case.history if s.note == "Đã bổ sung đủ"), case.received)
        days = desk.catalog[case.procedure].processing_time.working_days
        assert case.due == desk.calendar.due_date(started, days)
        async with store.db.execute("SELECT finished FROM cases WHERE code = ?", (row.code,)) as cur:
            finished = (await cur.fetchone())[0]
        assert finished == (None if case.finished_on() is None else case.finished_on().isoformat())
    assert {"returned", "processing", "refused"} <= statuses
    assert await desk.count(overdue=True) > 0
    async with store.db.execute("SELECT COUNT(*) FROM ratings") as cur:
        ratings = (await cur.fetchone())[0]
    async with store.db.execute("SELECT COUNT(*) FROM rated_cases r JOIN cases c ON c.code = r.code"
                                " WHERE c.status = 'returned'") as cur:
        assert ratings == (await cur.fetchone())[0] > 0
    assert await seed_cases(desk, 10) == 0          # never into a database that has cases


async def _schema(desk: CaseDesk) -> list[str]:
    """The indexes and foreign keys a database holds: what a bulk load sets aside for a while."""
    if isinstance(desk.store.db, PgConnection):
        query = ("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() UNION ALL"
                 " SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = current_schema()::regnamespace")
    else:
        query = "SELECT name || ':' || COALESCE(sql, '') FROM sqlite_master WHERE type = 'index'"
    async with desk.store.db.execute(query) as cur:
        return sorted(str(row[0]) for row in await cur.fetchall())


async def test_a_seed_leaves_the_indexes_and_keys_as_they_were_even_when_it_fails_half_way(
        database: str | Path, monkeypatch: pytest.MonkeyPatch):
    """The seed sets indexes and keys aside while it loads: they must all be back afterwards (the
    staff commands rely on them), and a seed stopped by an error must leave neither half its
    cases (the next seed would refuse the database) nor an index missing."""
    desk = await open_desk(make_config(database))
    try:
        before = await _schema(desk)
        written = bot.demo._write

        async def fail_after_one(d: CaseDesk, rows: bot.demo._Rows) -> None:
            await written(d, rows)
            raise OSError("disk full")

        monkeypatch.setattr("bot.demo.SEED_BATCH", 40)
        monkeypatch.setattr("bot.demo._write", fail_after_one)
        with pytest.raises(OSError):
            await seed_cases(desk, 200, years=0.5)
        assert await desk.store.case_count() == 0 and await _schema(desk) == before
        monkeypatch.setattr("bot.demo._write", written)
        assert await seed_cases(desk, 200, years=0.5) == 200
        assert await desk.store.case_count() == 200 and await _schema(desk) == before
    finally:
        await desk.store.close()


async def test_seeded_sqlite_and_postgresql_databases_report_the_same(tmp_path: Path, postgres_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch):
    """Each database is loaded its own way (PostgreSQL's COPY, SQLite's one insert for many rows):
    the month's report, the counts and the overdue list an officer reads must not depend on which."""
    monkeypatch.setattr("bot.demo.now", lambda: dt.datetime(2026, 11, 30, 17))
    for module in ("bot.storage.feedback", "bot.storage.conversations"):
        monkeypatch.setattr(f"{module}.now", lambda: dt.datetime(2026, 11, 30, 12))
    month = reports.Filters(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    seen = []
    for database in (tmp_path / "db.sqlite3", postgres_url):
        desk = await open_desk(make_config(database))
        try:
            assert await seed_cases(desk, 800, years=0.5) == 800
            report = await reports.build_report(desk, month, dt.date(2026, 11, 30))
            seen.append((reports.render_text(report), await desk.count(), await desk.count(overdue=True),
                         [c.code for c in await desk.list(overdue=True, limit=20)]))
        finally:
            await desk.store.close()
    assert seen[0] == seen[1]
    text, cases, overdue, listed = seen[0]
    assert cases == 800 and overdue == len(listed) > 0 and all(code in text for code in listed)
