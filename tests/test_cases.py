"""Cases: registration, status changes with history, the supplement clock, CSV import."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiosqlite.context import Result

from bot.app import open_desk
from bot.cases import Case, CaseDesk, CaseError, normalize_phone
from tests.helpers import CODE_A, CODE_B, OFFICE_A, OFFICE_B, make_config, make_offices_config

pytestmark = pytest.mark.asyncio
CODE = "000.00.27.H15-251120-0012"
T = dt.datetime


@pytest_asyncio.fixture
async def desk(tmp_path: Path) -> AsyncIterator[CaseDesk]:
    d = await open_desk(make_config(tmp_path / "db.sqlite3"))
    yield d
    await d.store.close()


async def test_add_normalises_code_and_phone_and_computes_the_due_date(desk):
    case = await desk.add("000 00 27 h15-251120-0012", "dang-ky-thuong-tru", "Nguyễn Văn An", "+84 912 345 678",
                          received=T(2026, 11, 30, 9, 0), staff="cb.lan")
    assert case.code == CODE and case.phone == "0912345678"
    assert case.due == dt.date(2026, 12, 9)          # 7 working days
    assert [(s.status, s.staff) for s in case.history] == [("received", "cb.lan")]


@pytest.mark.parametrize("args, message", [
    (("000.00.27-12", "dang-ky-thuong-tru", "A", "0912345678"), "không đúng định dạng"),
    ((CODE, "lam-ho-chieu", "A", "0912345678"), "không có trong danh mục"),
    ((CODE, "dang-ky-thuong-tru", " ", "0912345678"), "thiếu họ tên"),
    ((CODE, "dang-ky-thuong-tru", "A", "12345"), "số điện thoại"),
])
async def test_bad_input_is_refused_with_a_clear_message(desk, args, message):
    with pytest.raises(CaseError, match=message):
        await desk.add(*args)


async def test_duplicate_code_is_refused(desk):
    await desk.add(CODE, "dang-ky-thuong-tru", "A", "0912345678")
    with pytest.raises(CaseError, match="đã có"):
        await desk.add(CODE, "dang-ky-tam-tru", "B", "0912345679")


async def test_every_change_is_recorded_with_who_and_when(desk):
    await desk.add(CODE, "dang-ky-thuong-tru", "A", "0912345678", received=T(2026, 11, 30, 9), staff="a")
    await desk.update(CODE, "processing", "", "b", at=T(2026, 11, 30, 10))
    case = await desk.update(CODE, "ready", "xong", "c", at=T(2026, 12, 2, 8))
    assert [(s.status, s.staff, s.at) for s in case.history] == [
        ("received", "a", T(2026, 11, 30, 9)), ("processing", "b", T(2026, 11, 30, 10)), ("ready", "c", T(2026, 12, 2, 8))]
    assert case.timeliness(dt.date(2026, 12, 20)) == "early"


async def test_supplement_pauses_then_restarts_the_clock_in_full(desk):
    await desk.add(CODE, "dang-ky-thuong-tru", "A", "0912345678", received=T(2026, 11, 30, 9))
    paused = await desk.update(CODE, "needs_supplement", "CT01 có chữ ký chủ hộ", at=T(2026, 12, 1, 9))
    assert paused.supplement_by == dt.date(2026, 12, 16)
    assert paused.timeliness(dt.date(2027, 1, 1)) == "in_time"
    resumed = await desk.update(CODE, "processing", "", at=T(2026, 12, 7, 16, 0))
    assert resumed.due == dt.date(2026, 12, 17)      # from Tue 8/12 (after 15:00), 7 working days


async def test_overdue_is_computed_not_stored(desk):
    await desk.add(CODE, "dang-ky-thuong-tru", "A", "0912345678", received=T(2026, 1, 5, 9))
    case = await desk.require(CODE)
    assert case.timeliness(dt.date(2026, 1, 30)) == "overdue"
    assert case.timeliness(dt.date(2026, 1, 6)) == "in_time"
    assert [c.code for c in await desk.list(overdue=True)] == [CODE]


async def test_notes_are_required_for_supplement_and_refusal_and_closed_cases_stay_closed(desk):
    await desk.add(CODE, "dang-ky-thuong-tru", "A", "0912345678")
    with pytest.raises(CaseError, match="ghi chú"):
        await desk.update(CODE, "needs_supplement")
    await desk.update(CODE, "refused", "Không có chỗ ở hợp pháp")
    with pytest.raises(CaseError, match="đã kết thúc"):
        await desk.update(CODE, "processing")


async def test_phone_numbers():
    assert normalize_phone("0912 345 678") == "0912345678"
    assert normalize_phone("84912345678") == "0912345678"
    assert normalize_phone("abc") is None


async def test_csv_import_reports_every_bad_row_by_line_and_imports_nothing(desk, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "code,procedure,name,phone,received\n"
        "000.00.27.H15-251120-0001,dang-ky-khai-sinh,Nguyễn A,0912345678,2026-11-20T09:00\n"
        "000.00.27.H15-251120-0002,khong-co,Trần B,0912345678,\n"
        "bad-code,dang-ky-khai-tu,Lê C,0912345678,\n"
        "000.00.27.H15-251120-0001,dang-ky-khai-tu,Lê D,0912345678,\n"
        "000.00.27.H15-251120-0005,dang-ky-khai-tu,Lê E,0912345678,hôm qua\n",
        encoding="utf-8")
    with pytest.raises(CaseError) as info:
        await desk.import_csv(path)
    message = str(info.value)
    assert "4 dòng lỗi" in message
    for line in ("dòng 3:", "dòng 4:", "dòng 5:", "dòng 6:"):
        assert line in message
    assert await desk.list() == []


async def test_csv_import_of_a_good_file(desk, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("\ufeffcode,procedure,name,phone\n000.00.27.H15-251120-0001,dang-ky-khai-sinh,Nguyễn A,0912345678\n",
                    encoding="utf-8")
    assert await desk.import_csv(path) == 1


async def test_csv_with_a_broken_encoding_is_refused_clearly(desk, tmp_path):
    path = tmp_path / "cases.csv"
    # saved by a spreadsheet in a legacy code page instead of UTF-8
    path.write_bytes("code,procedure,name,phone\n000.00.27.H15-251120-0001,dang-ky-khai-sinh,Nguyên Á,0912345678\n"
                     .encode("latin-1"))
    with pytest.raises(CaseError, match="không phải UTF-8"):
        await desk.import_csv(path)
    assert await desk.list() == []


async def test_repeating_a_status_changes_nothing(desk):
    await desk.add(CODE, "dang-ky-thuong-tru", "A", "0912345678")
    await desk.store.follow("t", "u", CODE)
    await desk.update(CODE, "processing")
    with pytest.raises(CaseError, match="đã ở trạng thái Đang xử lý"):
        await desk.update(CODE, "processing")
    assert len((await desk.require(CODE)).history) == 2 and len(await desk.store.outbox_rows()) == 1


async def test_two_officers_changing_one_case_at_once_never_duplicate_or_reopen(tmp_path):
    """R7: the check and the write were separate, so two updates at once both passed the check:
    "ready" twice (two steps, two notifications), or "processing" reopening a returned case."""

    config = make_config(tmp_path / "db.sqlite3")
    a, b = await open_desk(config), await open_desk(config)
    try:
        for i in range(10):
            code = f"000.00.27.H15-251122-{i:04d}"
            await a.add(code, "dang-ky-khai-sinh", "Nguyễn Văn An", "0912345678")
            await a.store.follow("telegram", "4242", code)
            await a.update(code, "processing", "", "cb")
            same = await asyncio.gather(a.update(code, "ready", "", "cb.a"), b.update(code, "ready", "", "cb.b"),
                                        return_exceptions=True)
            assert sum(not isinstance(r, Exception) for r in same) == 1
            assert [s.status for s in (await a.require(code)).history].count("ready") == 1
            await asyncio.gather(a.update(code, "returned", "", "cb.a"), b.update(code, "processing", "", "cb.b"),
                                 return_exceptions=True)
            case = await a.require(code)
            assert not (case.status != "returned" and any(s.status == "returned" for s in case.history))
        notified = [r for r in await a.store.outbox_rows() if '"ready"' in r.payload]
        assert len(notified) == 10                       # one "ready" notification per case
    finally:
        await a.store.close()
        await b.store.close()


class Hold:
    """Stops a desk after its `after`-th statement outside a transaction until `released`: the
    other desk's whole change then lands exactly there, between two of its reads, as it did only
    now and then on a loaded machine. Never inside a transaction: the other desk would wait for
    its write lock."""

    def __init__(self, desk: CaseDesk, monkeypatch: pytest.MonkeyPatch, after: int):
        self.reached, self.released = asyncio.Event(), asyncio.Event()
        execute, begin = desk.store.db.execute, desk.store.db.begin
        seen = 0

        def held(sql: str, parameters: Any = None) -> Result[Any]:
            async def run() -> Any:
                nonlocal seen
                seen += 1
                cursor = await execute(sql, parameters)
                if seen == after:
                    self.reached.set()
                    await self.released.wait()
                return cursor
            return Result(run())

        def beginning(lock: asyncio.Lock | None = None) -> AbstractAsyncContextManager[None]:
            nonlocal seen
            seen = after              # from the first transaction on, it runs through
            return begin(lock)

        monkeypatch.setattr(desk.store.db, "execute", held)
        monkeypatch.setattr(desk.store.db, "begin", beginning)

    async def race(self, held: Awaitable[Case], other: Awaitable[Case]) -> list[Case | BaseException]:
        """`held` runs up to the hold (or to its end, if it has fewer statements), then `other`
        runs to its end, then `held` goes on."""
        first = asyncio.ensure_future(held)
        reached = asyncio.ensure_future(self.reached.wait())
        await asyncio.wait({first, reached}, return_when=asyncio.FIRST_COMPLETED)
        reached.cancel()
        outcomes: list[Case | BaseException] = list(await asyncio.gather(other, return_exceptions=True))
        self.released.set()
        return outcomes + list(await asyncio.gather(first, return_exceptions=True))


@pytest.mark.parametrize("after", [1, 2, 3])
async def test_a_change_landing_between_an_officers_reads_is_checked_again(database, monkeypatch, after):
    """R7: the desk read a case's status and its history in two statements. Another officer's
    change committed between them gave the old status with the new history's length, and the
    length is what the write compares: both officers marked the case ready, or one reopened a
    case the other had just returned."""
    config = make_config(database)
    a, b = await open_desk(config), await open_desk(config)
    try:
        await a.add(CODE, "dang-ky-khai-sinh", "Nguyễn Văn An", "0912345678")
        await a.update(CODE, "processing", "", "cb")
        with monkeypatch.context() as patch:
            same = await Hold(b, patch, after).race(b.update(CODE, "ready", "", "cb.b"),
                                                    a.update(CODE, "ready", "", "cb.a"))
        assert sum(not isinstance(r, BaseException) for r in same) == 1
        assert [s.status for s in (await a.require(CODE)).history].count("ready") == 1
        with monkeypatch.context() as patch:
            await Hold(b, patch, after).race(b.update(CODE, "processing", "", "cb.b"),
                                             a.update(CODE, "returned", "", "cb.a"))
        case = await a.require(CODE)
        assert case.status == "returned" and case.history[-1].status == "returned"
    finally:
        await a.store.close()
        await b.store.close()


async def add(desk: CaseDesk, code: str) -> None:
    await desk.add(code, "dang-ky-thuong-tru", "Nguyễn Văn An", "0912345678", received=T(2026, 11, 20, 9))


async def test_an_office_desk_sees_and_changes_only_its_own_cases(tmp_path):
    config = make_offices_config(tmp_path, tmp_path / "db.sqlite3")
    whole = await open_desk(config)
    try:
        await add(whole, CODE_A)
        await add(whole, CODE_B)
        assert (await whole.get(CODE_A)).office == OFFICE_A and (await whole.get(CODE_B)).office == OFFICE_B
        a = whole.within(config.office_by_code(OFFICE_A))
        assert [c.code for c in await a.list()] == [CODE_A]
        assert await a.get(CODE_B) is None
        with pytest.raises(CaseError, match="không có hồ sơ"):
            await a.update(CODE_B, "processing")
        with pytest.raises(CaseError, match="thuộc Xã Mường Ảng, không phải cơ quan của bạn"):
            await add(a, "000.02.11.H15-251120-0003")
        assert (await whole.get(CODE_B)).status == "received"
        assert await whole.get("000.02.11.H15-251120-0003") is None
        with pytest.raises(CaseError, match="không bắt đầu bằng mã cơ quan"):
            await add(whole, "000.09.11.H15-251120-0004")
        rows = tmp_path / "rows.csv"
        rows.write_text(f"code,procedure,name,phone\n{CODE_A[:-1]}9,dang-ky-thuong-tru,An,0912345678\n"
                        "000.02.11.H15-251120-0005,dang-ky-thuong-tru,An,0912345678\n", encoding="utf-8")
        with pytest.raises(CaseError, match=r"dòng 3: hồ sơ 000\.02\.11\.H15-251120-0005 thuộc Xã Mường Ảng"):
            await a.import_csv(rows)
        assert len(await a.list()) == 1                  # all rows or none
    finally:
        await whole.store.close()


async def test_cases_filed_before_the_offices_file_go_to_the_office_their_prefix_names(tmp_path):
    db = tmp_path / "db.sqlite3"
    one = await open_desk(make_config(db))
    for code in (CODE_A, CODE_B, "000.09.11.H15-251120-0009"):
        await add(one, code)
    await one.store.close()
    config = make_offices_config(tmp_path, db)
    whole = await open_desk(config)
    try:
        assert [(await whole.get(c)).office for c in (CODE_A, CODE_B)] == [OFFICE_A, OFFICE_B]
        unclaimed = "000.09.11.H15-251120-0009"
        assert (await whole.get(unclaimed)).office == ""       # no office's staff see it
        assert [await whole.within(o).get(unclaimed) for o in config.offices] == [None, None]
    finally:
        await whole.store.close()


async def test_ratings_given_before_the_offices_file_count_in_the_report_of_the_office_they_name(tmp_path):
    """A one-office deployment grows into a province's: its old ratings carry the desk's name as
    written then (or nothing, before names were kept); the office of that name reports them."""
    import dataclasses

    from bot.reports import Filters, build_report

    db = tmp_path / "db.sqlite3"
    one = await open_desk(make_config(db))
    day = dt.datetime(2026, 11, 20, 9, 0)
    for n, office in enumerate(("Xã Mường Ảng", "Xã Mường Ảng", "")):
        await one.store.add_rating(f"old-{n}", "telegram", "dang-ky-khai-sinh", office, 5, "rat_hai_long", at=day)
    await one.store.close()
    config = make_offices_config(tmp_path, db)
    whole = await open_desk(config)
    try:
        month = Filters(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        counts = [(await build_report(whole.within(o), dataclasses.replace(month, office=o.code))).ratings
                  for o in config.offices]
        assert counts == [0, 2]                          # Mường Ảng is OFFICE_B; the unnamed one is nobody's
        assert (await build_report(whole, month)).ratings == 3
    finally:
        await whole.store.close()


async def test_a_dated_change_of_processing_time_sets_the_due_date_of_files_received_from_then(desk):
    """A new decree shortens a procedure from 01/12/2026: a file received the day before keeps the
    old time, one received that day gets the new one."""
    import dataclasses

    from bot.catalog import Change, ProcessingTime
    guide = desk.catalog["dang-ky-thuong-tru"]
    shorter = Change(dt.date(2026, 12, 1), "Từ 01/12/2026, thời hạn giải quyết là 03 ngày làm việc.",
                     (("processing_time", ProcessingTime(3, "03 ngày làm việc.")),))
    desk.catalog.guides["dang-ky-thuong-tru"] = dataclasses.replace(guide, changes=(*guide.changes, shorter))
    before = await desk.add(CODE, "dang-ky-thuong-tru", "A", "0912345678", received=T(2026, 11, 30, 9, 0))
    after = await desk.add("000.00.27.H15-251201-0013", "dang-ky-thuong-tru", "B", "0912345678",
                           received=T(2026, 12, 1, 9, 0))
    assert before.due == dt.date(2026, 12, 9)        # 7 working days
    assert after.due == dt.date(2026, 12, 4)         # 3 working days
