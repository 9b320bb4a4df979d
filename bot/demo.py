"""Demo data: three cases a newcomer running `motcua chat` can look up at once, and a month of
cases and ratings (`motcua demo seed`) to try the reports on.

The chat's three demo cases are filed with `DEMO_PHONE`, which is how they are found again on
every later start (and how a database holding only them is told from one with real cases).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.cases import SUPPLEMENT_DAYS, CaseDesk, CaseError
from bot.clock import now
from bot.config import Office
from bot.ratings import QUESTIONS
from bot.storage.cases import finished_day
from bot.workdays import CUTOFF

DEMO_PHONE = "0912345678"


SEED_SERIALS_FROM = 101
"""The month's codes end in 0101…: never one of the chat's three (…-0001 to -0003) on the same day."""


async def demo_codes(desk: CaseDesk) -> list[str]:
    """The chat's demo cases in this database: shown on every start, not only the first."""
    return await desk.store.cases_with_phone(DEMO_PHONE)


async def only_demo_cases(desk: CaseDesk) -> bool:
    """Whether every case here is one of the chat's demo cases (a database no office uses yet)."""
    return await desk.store.case_count() == len(await demo_codes(desk))


def demo_prefix(desk: CaseDesk) -> str:
    """The demo's cases go to the first office of a deployment with several, whose prefix they carry."""
    return desk.offices[0].prefix or "000.00.27.H15"


async def ensure_demo_cases(desk: CaseDesk) -> list[str]:
    """Three cases in telling states, added only to a database that has no cases yet."""
    if await desk.store.has_cases():
        return []
    today = now().replace(hour=9, minute=30, second=0)
    plan = [
        ("0001", "dang-ky-thuong-tru", "Nguyễn Văn An", 2, [("processing", "")]),
        ("0002", "cap-giay-phep-xay-dung", "Trần Thị Bình", 4,
         [("needs_supplement", "Bản vẽ thiết kế có chữ ký của chủ nhà; bản sao giấy chứng nhận quyền sử dụng đất")]),
        ("0003", "dang-ky-bien-dong-dat-dai", "Lê Văn Cường", 30,
         [("processing", "Chờ Chi cục Thuế xác định nghĩa vụ tài chính")]),
    ]
    added = []
    for serial, procedure, name, days_ago, steps in plan:
        received = today - dt.timedelta(days=days_ago)
        code = f"{demo_prefix(desk)}-{received:%y%m%d}-{serial}"
        await desk.add(code, procedure, name, DEMO_PHONE, received=received, staff="demo")
        for status, note in steps:
            await desk.update(code, status, note, "demo", at=received + dt.timedelta(hours=2))
        added.append(code)
    return added


def welcome(codes: list[str]) -> str:
    if not codes:
        return ""
    lines = "\n".join(f"  {c}" for c in codes)
    return (f"(Dữ liệu mẫu) Bạn có thể thử tra cứu các hồ sơ sau, 4 số cuối điện thoại là "
            f"{DEMO_PHONE[-4:]}:\n{lines}")


_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
_GIVEN = ["Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thị Hoa", "Đức Huy", "Thu Hà", "Ngọc Lan", "Văn Long",
          "Thị Mai", "Hữu Nam", "Thanh Tâm", "Thị Yến", "Công Vinh"]
_WEIGHTED = ["dang-ky-khai-sinh"] * 6 + ["chung-thuc-ban-sao"] * 6 + ["dang-ky-thuong-tru"] * 4 + \
    ["dang-ky-tam-tru"] * 4 + ["dang-ky-ket-hon"] * 3 + ["xac-nhan-tinh-trang-hon-nhan"] * 3 + \
    ["dang-ky-khai-tu"] * 2 + ["dang-ky-bien-dong-dat-dai"] * 2 + ["cap-giay-phep-xay-dung"] + \
    ["tro-cap-xa-hoi-hang-thang"] + ["chung-thuc-hop-dong"] * 2 + ["dang-ky-ho-kinh-doanh"]
_COMMENTS = {
    "1": ["Phải đi lại nhiều lần mới xong, mỗi lần bổ sung một thứ.", "Cán bộ nói chuyện thiếu tôn trọng."],
    "2": ["Chờ lâu, quá hẹn mà không ai báo.", "Hướng dẫn trên mạng khác với thực tế ở quầy."],
    "3": ["Bình thường, hơi đông người.", ""],
    "4": ["Nhanh gọn.", "", ""],
    "5": ["Cán bộ rất nhiệt tình, cảm ơn!", "", "", "Làm nhanh hơn tôi nghĩ."],
}


async def seed_month(desk: CaseDesk, days: int = 30, count: int = 120, *, force: bool = False) -> int:
    """A month of cases, outcomes, ratings, votes and feedback: into an empty database, or with
    `force` into one that holds only the chat's demo cases; never beside real cases (0)."""
    if await desk.store.case_count() and not (force and await only_demo_cases(desk)):
        return 0
    rng = random.Random(2026)
    store, cal = desk.store, desk.calendar
    end = now()
    for serial in range(1, count + 1):
        procedure = rng.choice(_WEIGHTED)
        day = (end - dt.timedelta(days=rng.randint(1, days))).date()
        while not cal.is_working_day(day):
            day -= dt.timedelta(days=1)
        received = dt.datetime.combine(day, dt.time(rng.randint(7, 16), rng.choice([0, 15, 30, 45])))
        code = f"{demo_prefix(desk)}-{received:%y%m%d}-{serial + SEED_SERIALS_FROM - 1:04d}"
        name = f"{rng.choice(_FAMILY)} {rng.choice(_GIVEN)}"
        phone = f"09{rng.randint(10_000_000, 99_999_999)}"
        case = await desk.add(code, procedure, name, phone, received=received, staff="demo",
                              channel=rng.choice(["trực tiếp", "trực tiếp", "trực tuyến"]))
        at = received + dt.timedelta(hours=1)
        if rng.random() < 0.12:
            at += dt.timedelta(hours=20)
            await desk.update(code, "needs_supplement", rng.choice(
                ["Bản sao giấy tờ chứng minh chỗ ở hợp pháp", "Tờ khai chưa có chữ ký", "Giấy ủy quyền có chứng thực"]),
                "demo", at=at)
            if rng.random() < 0.35:
                continue
            at += dt.timedelta(days=rng.randint(1, 4))
            case = await desk.update(code, "processing", "Đã bổ sung đủ", "demo", at=at)
        elif case.due > received.date():
            case = await desk.update(code, "processing", "", "demo", at=at)
        late = rng.random() < 0.12
        early_day = max(at.date(), case.due - dt.timedelta(days=rng.randint(0, 2)))
        finish_day = cal.add_working_days(case.due, rng.randint(1, 3)) if late else early_day
        finish = dt.datetime.combine(finish_day, dt.time(rng.randint(8, 16), 0))
        if finish > end:
            continue
        if rng.random() < 0.03:
            await desk.update(code, "refused", "Không đủ điều kiện theo quy định", "demo", at=finish)
            continue
        await desk.update(code, "ready", "", "demo", at=finish)
        returned = finish + dt.timedelta(hours=rng.randint(1, 48))
        if returned > end:
            continue
        case = await desk.update(code, "returned", "", "demo", at=returned)
        if rng.random() < 0.7:
            level = _level(rng, late)
            rated_at = returned + dt.timedelta(hours=rng.randint(1, 30))
            if rated_at > end:
                rated_at = end
            rating = await store.add_rating(code, rng.choice(["telegram", "telegram", "zalo"]), procedure,
                                            case.office, 5, level, at=rated_at, timeliness=case.timeliness(end.date()))
            assert rating is not None           # a case just added has no rating yet
            for key, value in zip(_ASKED, _answers(rng, level), strict=True):
                if value is not None:
                    await store.set_rating_field(rating, key, value)
            comment = rng.choice(_COMMENTS[level])
            if comment:
                await store.set_rating_field(rating, "comment", comment)
            if level in {"1", "2"} and rng.random() < 0.6:
                await store.set_rating_field(rating, "contact_code", code)
    await _seed_chat(desk, rng)
    return count


async def _seed_chat(desk: CaseDesk, rng: random.Random) -> None:
    """Questions with votes on their answers, and a few complaints: the report's chat pages."""
    store = desk.store
    for guide_id in sorted(set(_WEIGHTED)):
        for i in range(rng.randint(3, 9)):
            qid = await store.log_question("telegram", desk.catalog[guide_id].questions[i % 5], "procedure",
                                           guide_id, None, 0.8, True)
            await store.vote(qid, "telegram", "up" if rng.random() < 0.82 else "down")
    for kind, text in [("complaint", "Gọi hotline mãi không ai nghe máy."),
                       ("complaint", "Nộp hồ sơ 3 lần vẫn bị trả về, mỗi lần thiếu một thứ."),
                       ("praise", "Cán bộ một cửa hướng dẫn rất tận tình.")]:
        await store.add_feedback("telegram", kind, text)


SEED_BATCH = 5_000
"""Cases made at a time by `seed_cases`, and written by one statement per table: large enough
that a million cost a couple of hundred round trips, small enough that two batches' rows (one
written, the next being made) sit comfortably in memory."""

_SUPPLEMENT_NOTES = ["Bản sao giấy tờ chứng minh chỗ ở hợp pháp", "Tờ khai chưa có chữ ký",
                     "Giấy ủy quyền có chứng thực"]
_CASES = ("code", "procedure", "name", "phone", "channel", "received", "due", "status", "supplement_by", "office",
          "office_code", "created_at", "id_tail", "finished")
_HISTORY = ("code", "at", "status", "note", "staff")
_RATINGS = ("day", "channel", "procedure", "office", "timeliness", "scale", "level", "visits", "info", "attitude",
            "extra_fee", "comment", "contact_code")
_RATED = ("code",)
_TABLES = ("cases", "case_history", "ratings", "rated_cases")

_LEVELS = ("5", "4", "3", "2", "1")
_LEVEL_ODDS = {False: list(itertools.accumulate((52, 28, 10, 6, 4))),
               True: list(itertools.accumulate((15, 25, 20, 25, 15)))}
"""How returned cases are rated: in time (False) and late (True)."""
_ASKED = ("visits", "attitude", "extra_fee")
_OPTIONS = [[v for v, _ in QUESTIONS[key].options] for key in _ASKED]


def _level(rng: random.Random, late: bool) -> str:
    return rng.choices(_LEVELS, cum_weights=_LEVEL_ODDS[late])[0]


def _answers(rng: random.Random, level: str) -> list[str | None]:
    """A rating's answers to the criteria (None: not answered); the first option is the good one."""
    good = level in {"5", "4"}
    return [None if rng.random() >= 0.8 else options[0] if good or rng.random() < 0.5 else rng.choice(options)
            for options in _OPTIONS]


@dataclass
class _Rows:
    """One batch of rows for each table, as the bulk statements take them."""

    cases: list[Sequence[Any]] = field(default_factory=list)
    history: list[Sequence[Any]] = field(default_factory=list)
    ratings: list[Sequence[Any]] = field(default_factory=list)
    rated: list[Sequence[Any]] = field(default_factory=list)


async def seed_cases(desk: CaseDesk, count: int, years: float = 3, *, force: bool = False) -> int:
    """`count` cases received over the last `years` years, for benchmarks and demos at a
    province's scale: procedures from the catalog, due dates from the guides' working days and
    the office's calendar, histories that lead to each status, ratings of returned cases, and
    some cases overdue. Written in bulk (`Store.insert_rows`) in one transaction that sets the
    tables' indexes aside meanwhile (`Store.bulk_loading`): a seed that fails leaves the database
    as it was. Each batch is made in a thread while the one before is written: PostgreSQL works
    in its own process meanwhile (a million cases: 38 s instead of 60), SQLite shares this one's
    interpreter lock and gains nothing. Like `seed_month`, only into an empty database or, with
    `force`, one holding just the chat's demo cases (0 otherwise)."""
    store = desk.store
    if await store.has_cases() and not (force and await only_demo_cases(desk)):
        return 0
    rng = random.Random(2026)
    end = now().replace(microsecond=0)
    days = _working_days(desk, end.date() - dt.timedelta(days=round(365.25 * years)), end.date())
    per_day = Counter(rng.choices(range(len(days)), k=count))
    if max(per_day.values()) > 10_000 - SEED_SERIALS_FROM:
        raise CaseError(f"{count} hồ sơ trong {years} năm là quá 9.899 hồ sơ một ngày (số thứ tự trong mã hồ sơ "
                        "có 4 chữ số); tăng --years")
    batches = _case_batches(desk, rng, [(days[i], per_day[i]) for i in sorted(per_day)], end)
    async with store.bulk_loading(_TABLES):
        made = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
        try:
            while (rows := await made) is not None:
                made = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
                await _write(desk, rows)
        finally:
            made.cancel()
        await _seed_chat(desk, rng)
    return count


def _case_batches(desk: CaseDesk, rng: random.Random, days: list[tuple[dt.date, int]],
                  end: dt.datetime) -> Iterator[_Rows]:
    """The cases of each day (`days`: the day and how many), `SEED_BATCH` or a few more at a time."""
    procedures = _procedure_weights(desk)
    cal = desk.calendar
    due_on = functools.cache(lambda day, after_hours, days: cal.due_date(
        dt.datetime.combine(day, dt.time(16 if after_hours else 9)), days))

    def due_date(at: dt.datetime, days: int) -> dt.date:
        """`Calendar.due_date`, worked out once per day, half-day and length (a million cases have few)."""
        return due_on(at.date(), at.time() > CUTOFF, days)

    later = functools.cache(cal.add_working_days)
    rows = _Rows()
    for day, count in days:
        prefix = f"000.00.27.H15-{day:%y%m%d}-"
        times = sorted(dt.datetime.combine(day, dt.time(rng.randint(7, 16), rng.choice((0, 15, 30, 45))))
                       for _ in range(count))
        for serial, received in enumerate(times, SEED_SERIALS_FROM):
            _one_case(rows, rng, f"{prefix}{serial:04d}", rng.choice(procedures), received, end, desk, due_date,
                      later)
        if len(rows.cases) >= SEED_BATCH:
            yield rows
            rows = _Rows()
    if rows.cases:
        yield rows


def _working_days(desk: CaseDesk, first: dt.date, last: dt.date) -> list[dt.date]:
    span = (last - first).days
    return [d for d in (first + dt.timedelta(days=i) for i in range(span)) if desk.calendar.is_working_day(d)]


def _procedure_weights(desk: CaseDesk) -> list[tuple[str, int]]:
    """The demo month's common procedures as often as there, and every other guide of the catalog once."""
    weighted = [g for g in _WEIGHTED if g in desk.catalog]
    rest = sorted(set(desk.catalog.guides) - set(weighted))
    return [(g, desk.catalog[g].processing_time.working_days) for g in weighted + rest]


def _one_case(rows: _Rows, rng: random.Random, code: str, procedure: tuple[str, int], received: dt.datetime,
              end: dt.datetime, desk: CaseDesk, due_date: Callable[[dt.datetime, int], dt.date],
              later: Callable[[dt.date, int], dt.date]) -> None:
    """One case's row, its history and maybe its rating, as a desk would have recorded them."""
    guide, working_days = procedure
    due = due_date(received, working_days)
    steps: list[tuple[dt.datetime, str, str]] = [(received, "received", "")]
    supplement_by: dt.date | None = None
    at = received + dt.timedelta(hours=1)
    recent = end - received < dt.timedelta(days=30)
    if rng.random() < 0.12:
        at += dt.timedelta(hours=20)
        steps.append((at, "needs_supplement", rng.choice(_SUPPLEMENT_NOTES)))
        supplement_by = at.date() + dt.timedelta(days=SUPPLEMENT_DAYS)
        if rng.random() < 0.35:
            if not recent:       # an old file never completed was withdrawn
                steps.append((at + dt.timedelta(days=SUPPLEMENT_DAYS), "withdrawn", ""))
            _rows_for(rows, rng, code, guide, received, due, supplement_by, steps, end, desk.offices[0])
            return
        at += dt.timedelta(days=rng.randint(1, 4))
        if at > end:
            _rows_for(rows, rng, code, guide, received, due, supplement_by, steps, end, desk.offices[0])
            return
        supplement_by = None
        due = due_date(at, working_days)     # the clock restarts in full (ND 118 art. 19)
        steps.append((at, "processing", "Đã bổ sung đủ"))
    elif due > received.date():
        steps.append((at, "processing", ""))
    if at > end or rng.random() < 0.01:      # forgotten on a desk: open, and overdue once due
        _rows_for(rows, rng, code, guide, received, due, supplement_by, steps[:1] if at > end else steps, end,
                 desk.offices[0])
        return
    late = rng.random() < 0.12
    finish_day = later(due, rng.randint(1, 3)) if late else max(at.date(), due - dt.timedelta(days=rng.randint(0, 2)))
    finish = max(dt.datetime.combine(finish_day, dt.time(rng.randint(8, 16), 0)), at + dt.timedelta(minutes=30))
    if finish <= end:
        if rng.random() < 0.03:
            steps.append((finish, "refused", "Không đủ điều kiện theo quy định"))
        else:
            steps.append((finish, "ready", ""))
            returned = finish + dt.timedelta(hours=rng.randint(1, 48))
            if returned <= end:
                steps.append((returned, "returned", ""))
    _rows_for(rows, rng, code, guide, received, due, supplement_by, steps, end, desk.offices[0])


def _rows_for(rows: _Rows, rng: random.Random, code: str, procedure: str, received: dt.datetime, due: dt.date,
             supplement_by: dt.date | None, steps: list[tuple[dt.datetime, str, str]], end: dt.datetime,
             office: Office) -> None:
    """The case's rows from its steps, so its status, finishing day and history always agree.
    With several offices the seeded cases are the first office's, as the chat's demo cases are."""
    at, status, _ = steps[-1]
    stamps = [s_at.isoformat() for s_at, _, _ in steps]
    finished = next((f for (_, s, _), stamp in zip(steps, stamps, strict=True) if (f := finished_day(s, stamp))),
                    None)
    due_day = due.isoformat()
    rows.cases.append((code, procedure, f"{rng.choice(_FAMILY)} {rng.choice(_GIVEN)}",
                       f"09{rng.randint(10_000_000, 99_999_999)}", rng.choice(("trực tiếp", "trực tiếp", "trực tuyến")),
                       stamps[0], due_day, status,
                       supplement_by.isoformat() if supplement_by and status == "needs_supplement" else None,
                       office.name, office.code, stamps[0], "", finished))
    rows.history.extend((code, stamp, s, note, "demo") for (_, s, note), stamp in zip(steps, stamps, strict=True))
    if status != "returned" or rng.random() >= 0.7 or finished is None:
        return
    timeliness = "early" if finished < due_day else "on_time" if finished == due_day else "late"
    level = _level(rng, timeliness == "late")
    answers = _answers(rng, level)
    rated = min(at + dt.timedelta(hours=rng.randint(1, 30)), end)
    contact = code if level in {"1", "2"} and rng.random() < 0.6 else None
    rows.ratings.append((rated.date().isoformat(), rng.choice(("telegram", "telegram", "zalo")), procedure, office.code,
                         timeliness, 5, level, answers[0], None, *answers[1:], rng.choice(_COMMENTS[level]), contact))
    rows.rated.append((code,))


async def _write(desk: CaseDesk, rows: _Rows) -> None:
    for table, columns, batch in zip(_TABLES, (_CASES, _HISTORY, _RATINGS, _RATED),
                                     (rows.cases, rows.history, rows.ratings, rows.rated), strict=True):
        if batch:
            await desk.store.insert_rows(table, columns, batch)
