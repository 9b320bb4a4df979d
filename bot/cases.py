"""Cases filed at the desk: statuses, due dates, what a citizen is told, staff operations.

Statuses follow the one-stop process of Decree 118/2025 and the status list that case systems
synchronise with the national portal. Whether a case is on time is computed from its history
and due date, never stored, so correcting a date corrects every report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import codes
from bot.catalog import Catalog
from bot.clock import now
from bot.config import Office, office_for_code
from bot.privacy import mask_phone
from bot.statuses import CLOSED, PAUSED, RESULT, STATUSES
from bot.storage import CaseRow, HistoryRow, Store
from bot.timeline import as_of
from bot.workdays import Calendar

STATUS_NAMES: dict[str, str] = {
    "submitted": "Đã nộp trực tuyến, chờ tiếp nhận", "received": "Đã tiếp nhận", "processing": "Đang xử lý",
    "needs_supplement": "Cần bổ sung hồ sơ", "awaiting_fees": "Chờ nộp phí, lệ phí",
    "transferred": "Đã chuyển cơ quan có thẩm quyền", "ready": "Đã có kết quả, chờ trả",
    "returned": "Đã trả kết quả", "refused": "Từ chối giải quyết", "withdrawn": "Đã rút hồ sơ",
    "stopped": "Dừng xử lý",
}
"""Each status by the name the one-stop process gives it; what it means to a citizen is in wording.py."""
UPDATE_TRIES = 3
SUPPLEMENT_DAYS = 15
LIST_LIMIT = 100
"""Cases a list shows at most: a page an officer reads, whether the database holds a hundred or a million."""
"""A file not completed within 15 days of the supplement request is closed (ND 118 art. 19.5)."""


class CaseError(ValueError):
    """Bad staff input, with a message that says what to correct."""


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    status: str
    note: str
    staff: str


@dataclass(frozen=True)
class Case:
    code: str
    procedure: str
    name: str
    phone: str
    channel: str
    received: dt.datetime
    due: dt.date
    status: str
    supplement_by: dt.date | None
    history: tuple[Step, ...]
    office: str = ""
    """The code of the office that holds the case (empty: the one office of a deployment)."""
    id_tail: str = ""
    """The last four digits of the applicant's căn cước number, where the office verifies with it."""

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    def finished_on(self) -> dt.date | None:
        """When the result was ready, or the case closed without one."""
        for step in self.history:
            if step.status in RESULT or step.status in CLOSED:
                return step.at.date()
        return None

    def timeliness(self, today: dt.date) -> str:
        """early / on_time / late for finished cases; in_time / overdue for open ones."""
        done = self.finished_on()
        if done is not None:
            return "early" if done < self.due else "on_time" if done == self.due else "late"
        if self.status in PAUSED:
            return "in_time"
        return "overdue" if today > self.due else "in_time"

    def on_time(self, today: dt.date) -> bool:
        return self.timeliness(today) in {"early", "on_time", "in_time"}

    def last_note(self) -> str:
        return self.history[-1].note if self.history else ""

    def as_json(self, today: dt.date) -> dict[str, Any]:
        return {
            "code": self.code, "procedure": self.procedure, "status": self.status,
            "received": self.received.isoformat(), "due": self.due.isoformat(),
            "on_time": self.on_time(today), "timeliness": self.timeliness(today),
            "phone": mask_phone(self.phone),
            "history": [{"at": s.at.isoformat(), "status": s.status, "note": s.note, "staff": s.staff}
                        for s in self.history],
        }


def id_number_tail(raw: str) -> str:
    """The last four digits of a căn cước (12 digits) or older ID number (9): all an office
    needs to verify a look-up with it, and all that is kept. Empty when none was given."""
    digits = re.sub(r"[\s.\-]", "", unicodedata.normalize("NFKC", raw))
    if not digits:
        return ""
    if not re.fullmatch(r"[0-9]{9}|[0-9]{12}", digits):
        raise CaseError("số căn cước không hợp lệ (cần 12 chữ số, hoặc 9 chữ số của CMND cũ)")
    return digits[-4:]


def normalize_phone(raw: str) -> str | None:
    """ASCII digits only: full-width ones are converted, others refused, so a citizen typing on
    an ordinary keyboard can always verify the case (R20)."""
    digits = re.sub(r"[\s.\-()]", "", unicodedata.normalize("NFKC", raw))
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if re.fullmatch(r"0[0-9]{8,10}", digits) else None


def parse_time(raw: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(raw.strip().replace(" ", "T")).replace(tzinfo=None, microsecond=0)
    except ValueError:
        raise CaseError(f"thời điểm {raw!r} không đúng dạng 2026-11-20T09:30") from None


class CaseDesk:
    """Staff operations on cases: the rules, never the words (those are in wording.py).

    A desk `within` one office sees and changes that office's cases only: another office's
    case is answered as if it did not exist, so its officers learn nothing of it. The desk the
    citizens' look-ups use is the whole deployment's."""

    def __init__(self, store: Store, catalog: Catalog, calendar: Calendar, code_pattern: str = codes.DEFAULT_PATTERN,
                 *, front: Office, offices: tuple[Office, ...], scope: Office | None = None):
        self.store = store
        self.catalog = catalog
        self.calendar = calendar
        self.code_pattern = code_pattern
        self.front = front
        """Who the bot speaks for: the one office, or the province's desk in front of its communes."""
        self.offices = offices
        self.scope = scope

    def within(self, office: Office) -> CaseDesk:
        return CaseDesk(self.store, self.catalog, self.calendar, self.code_pattern, front=self.front,
                        offices=self.offices, scope=office)

    @property
    def office(self) -> Office:
        """The office whose name a report or an officer's answer carries."""
        return self.scope or self.front

    @property
    def office_filter(self) -> str | None:
        """The office code this desk's cases and reports are limited to; None for the whole
        deployment, and for a deployment of one office, which reads its cases as it always has
        (and whose older ratings carry no code)."""
        return self.scope.code if self.scope is not None and len(self.offices) > 1 else None

    def office_of(self, case: Case) -> Office:
        """The office holding a case, for the contact lines a citizen reads about it."""
        return next((o for o in self.offices if o.code == case.office), self.front)

    def office_for_new(self, code: str) -> Office:
        """The office a new case goes to, told by its code's agency prefix; an officer adds
        only their own office's cases."""
        office = office_for_code(self.offices, code)
        if office is None:
            prefixes = ", ".join(f"{o.prefix} ({o.name})" for o in self.offices)
            raise CaseError(f"mã hồ sơ {code} không bắt đầu bằng mã cơ quan của xã, phường nào ({prefixes})")
        if self.office_filter not in (None, office.code):
            raise CaseError(f"hồ sơ {code} thuộc {office.name}, không phải cơ quan của bạn")
        return office

    def canonical_code(self, raw: str) -> str:
        code = codes.canonical(raw, self.code_pattern)
        if code is None:
            raise CaseError(f"mã hồ sơ {raw!r} không đúng định dạng (ví dụ 000.00.27.H15-251120-0012)")
        return code

    async def get(self, code: str) -> Case | None:
        found = await self.store.case_with_history(code)
        if found is None or self.office_filter not in (None, found[0].office_code):
            return None
        return _case(*found)

    async def require(self, raw_code: str) -> Case:
        case = await self.get(self.canonical_code(raw_code))
        if case is None:
            raise CaseError(f"không có hồ sơ {raw_code.strip()}")
        return case

    def check_new(self, code: str, procedure: str, name: str, phone: str) -> tuple[str, str, str, str]:
        canonical = self.canonical_code(code)
        if procedure not in self.catalog:
            raise CaseError(f"thủ tục {procedure!r} không có trong danh mục")
        if not name.strip():
            raise CaseError("thiếu họ tên người nộp")
        normalized = normalize_phone(phone)
        if normalized is None:
            raise CaseError("số điện thoại không hợp lệ (cần 10 chữ số, ví dụ 0912345678)")
        return canonical, procedure, name.strip(), normalized

    def working_days(self, procedure: str, day: dt.date) -> int:
        """The processing time in force on the day the file is complete: a guide's dated change
        (a new decree's shorter time) applies to the files received from that day."""
        return as_of(self.catalog[procedure], day).processing_time.working_days

    async def add(self, code: str, procedure: str, name: str, phone: str, *, received: dt.datetime | None = None,
                  staff: str = "", channel: str = "trực tiếp", status: str = "received",
                  id_number: str = "") -> Case:
        code, procedure, name, phone = self.check_new(code, procedure, name, phone)
        id_tail = id_number_tail(id_number)
        office = self.office_for_new(code)
        if await self.store.case(code) is not None:
            raise CaseError(f"hồ sơ {code} đã có")
        received = received or now()
        due = self.calendar.due_date(received, self.working_days(procedure, received.date()))
        await self.store.insert_case({
            "code": code, "procedure": procedure, "name": name, "phone": phone, "channel": channel,
            "received": received.isoformat(), "due": due.isoformat(), "status": status, "office": office.name,
            "id_tail": id_tail, "office_code": office.code,
        }, staff)
        return await self.require(code)

    async def update(self, raw_code: str, status: str, note: str = "", staff: str = "",
                     at: dt.datetime | None = None) -> Case:
        """Two officers (or the chat and the CLI) changing one case at once: one change wins and
        the other is checked again against it, so a closed case is never reopened and a repeated
        change is never written twice."""
        for _ in range(UPDATE_TRIES):
            case = await self._try_update(raw_code, status, note, staff, at)
            if case is not None:
                return case
        raise CaseError(f"hồ sơ {raw_code.strip()} đang được cập nhật liên tục; bạn thử lại sau giây lát")

    async def _try_update(self, raw_code: str, status: str, note: str, staff: str,
                          at: dt.datetime | None) -> Case | None:
        if status not in STATUS_NAMES:
            raise CaseError(f"trạng thái {status!r} không hợp lệ; dùng một trong: {', '.join(STATUSES)}")
        case = await self.require(raw_code)
        if case.closed:
            raise CaseError(f"hồ sơ {case.code} đã kết thúc ({STATUS_NAMES[case.status]}), không cập nhật được")
        if status == case.status and status not in PAUSED:
            # a repeated command (double tap, or a chat update delivered again after a restart)
            # must not add a step or notify followers twice
            raise CaseError(f"hồ sơ {case.code} đã ở trạng thái {STATUS_NAMES[status]}")
        if status in {"needs_supplement", "refused", "stopped"} and not note.strip():
            raise CaseError("cần ghi chú: giấy tờ phải bổ sung hoặc lý do")
        at = at or now()
        due = None
        supplement_by = None
        if status == "needs_supplement":
            supplement_by = (at.date() + dt.timedelta(days=SUPPLEMENT_DAYS)).isoformat()
        elif case.status in PAUSED:
            # the clock restarts in full once the file is complete (ND 118 art. 19)
            due = self.calendar.due_date(at, self.working_days(case.procedure, at.date())).isoformat()
        followers = await self.store.followers(case.code)
        # facts, not words: the notifier puts them into words when it delivers
        facts = {"code": case.code, "status": status, "note": note.strip(), "procedure": case.procedure}
        if len(self.offices) > 1:
            facts["office"] = self.office_of(case).name
        changed = await self.store.change_status(
            case.code, status, note.strip(), staff, due=due, supplement_by=supplement_by, at=at,
            notify=[(channel, user, "status", facts) for channel, user in followers], steps=len(case.history),
        )
        return await self.require(case.code) if changed else None

    async def list(self, *, overdue: bool = False, limit: int = LIST_LIMIT) -> list[Case]:
        """The cases received last (oldest of them first), or the open cases past due (the longest
        overdue first), of this desk's office: at most `limit`, in two queries however many cases
        there are."""
        office = self.office_filter
        rows = await (self.store.overdue_rows(now().date(), limit, office) if overdue
                      else self.store.latest_cases(limit, office))
        histories = await self.store.histories([r.code for r in rows])
        return [_case(r, histories[r.code]) for r in rows]

    async def count(self, *, overdue: bool = False) -> int:
        """How many cases `list` chooses from, to say how many a page leaves out."""
        office = self.office_filter
        return await (self.store.overdue_count(now().date(), office) if overdue else self.store.case_count(office))

    def days_left(self, case: Case, today: dt.date) -> int:
        """Working days from today to the due date; negative once it has passed."""
        return self.calendar.working_days_between(today, case.due)

    async def import_csv(self, path: Path, staff: str = "") -> int:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CaseError(f"{path}: {exc.strerror}") from None
        return await self.import_csv_bytes(data, path.name, staff)

    async def import_csv_bytes(self, data: bytes, name: str, staff: str = "") -> int:
        """All rows or none: every bad row is reported by line number, then nothing is written."""
        path = Path(name)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CaseError(f"{path.name}: không phải UTF-8 (byte {exc.start}); "
                            "hãy lưu lại file dạng CSV UTF-8") from None
        reader = csv.DictReader(io.StringIO(text))
        required = ["code", "procedure", "name", "phone"]
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise CaseError(f"{path.name}: thiếu cột {', '.join(missing)} "
                            "(cần: code,procedure,name,phone[,received,channel,id_number])")
        rows, problems, seen = [], [], set()
        try:
            for row in reader:
                try:
                    code, procedure, name, phone = self.check_new(*(row.get(c) or "" for c in required))
                    self.office_for_new(code)
                    received = parse_time(row["received"]) if (row.get("received") or "").strip() else now()
                    if code in seen or await self.store.case(code) is not None:
                        raise CaseError(f"hồ sơ {code} đã có")
                    seen.add(code)
                    id_number = (row.get("id_number") or "").strip()
                    id_number_tail(id_number)
                    rows.append((code, procedure, name, phone, received, (row.get("channel") or "trực tiếp").strip(),
                                 id_number))
                except CaseError as exc:
                    problems.append(f"dòng {reader.line_num}: {exc}")
        except csv.Error as exc:
            # a stray quote swallows the rest of the file into one field until the csv module gives up
            raise CaseError(f"{path.name}: dòng {reader.line_num}: CSV hỏng ({exc}); kiểm tra dấu ngoặc kép") from None
        if problems:
            raise CaseError(f"{path.name}: {len(problems)} dòng lỗi, chưa nhập dòng nào:\n" + "\n".join(problems))
        async with self.store.transaction():
            for code, procedure, name, phone, received, channel, id_number in rows:
                await self.add(code, procedure, name, phone, received=received, staff=staff, channel=channel,
                               id_number=id_number)
        return len(rows)


async def assign_offices(store: Store, offices: tuple[Office, ...]) -> None:
    """Cases filed before the offices were listed go to the office their code's prefix names,
    or all to the one office when there is one; a case no prefix claims stays with no office,
    seen by no office's staff until an operator lists its prefix. Ratings follow by the office's
    name (they name no case); those that carry no name stay in the deployment's report only."""
    if len(offices) == 1:
        if offices[0].code:
            await store.assign_office(offices[0].code)
            await store.assign_ratings_office(offices[0].code)
        return
    for office in sorted(offices, key=lambda o: len(o.prefix), reverse=True):
        await store.assign_office(office.code, office.prefix)
        await store.assign_ratings_office(office.code, office.name)


def _case(row: CaseRow, history: list[HistoryRow]) -> Case:
    return Case(
        code=row.code, procedure=row.procedure, name=row.name, phone=row.phone, channel=row.channel,
        received=row.received, due=row.due, status=row.status, supplement_by=row.supplement_by,
        history=tuple(Step(h.at, h.status, h.note, h.staff) for h in history), office=row.office_code,
        id_tail=row.id_tail,
    )
