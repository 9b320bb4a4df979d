"""Staff reports: satisfaction, timeliness and usefulness for a period, as text, CSV, XLSX, PNG.

The figures are those Decree 118/2025 and Decision 766/QĐ-TTg judge a desk by: % satisfied
((Rất hài lòng + Hài lòng) / all ratings), the on-time rate of closed cases (early + on time
over all closed), open cases past due. Ratings are confidential (art. 29): no report shows a
citizen's name, phone or chat id, and a negative rating shows its case code only when the
citizen agreed to be contacted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.cases import Case, CaseDesk
from bot.clock import now
from bot.ratings import LEVELS, NEGATIVE, QUESTIONS, SATISFIED
from bot.storage import FeedbackRow, RatingRow, VoteRow

WEEKDAY_START = 0  # weeks start on Monday


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    """Inclusive."""
    procedure: str | None = None
    office: str | None = None
    channel: str | None = None
    """Chat channel (telegram, zalo…): applies to ratings, answer votes and feedback."""


@dataclass
class Table:
    name: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class Report:
    filters: Filters
    levels: Counter[str] = field(default_factory=Counter)
    criteria: dict[str, Counter[str]] = field(default_factory=dict)
    closed: int = 0
    closed_on_time: int = 0
    overdue: list[Case] = field(default_factory=list)
    supplements: list[tuple[Case, dt.datetime, str]] = field(default_factory=list)
    usefulness: dict[str, Counter[str]] = field(default_factory=dict)
    negatives: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)
    weekly_levels: dict[dt.date, Counter[str]] = field(default_factory=dict)
    weekly_closed: dict[dt.date, list[int]] = field(default_factory=dict)
    as_of: dt.date = field(default_factory=lambda: now().date())

    @property
    def ratings(self) -> int:
        return sum(self.levels.values())

    @property
    def satisfied_pct(self) -> float | None:
        return None if not self.ratings else 100 * sum(self.levels[v] for v in SATISFIED) / self.ratings

    @property
    def on_time_pct(self) -> float | None:
        return None if not self.closed else 100 * self.closed_on_time / self.closed

    def tables(self) -> list[Table]:
        """Every table of the report, with Vietnamese headers, in reading order."""
        pct = _pct
        summary = Table("Tổng hợp", ["Chỉ số", "Giá trị"], [
            ["Kỳ báo cáo", f"{self.filters.start:%d/%m/%Y} – {self.filters.end:%d/%m/%Y}"],
            ["Số lượt đánh giá", self.ratings],
            ["Tỷ lệ hài lòng (%)", pct(self.satisfied_pct)],
            ["Hồ sơ đã giải quyết xong", self.closed],
            ["Hồ sơ đúng hạn hoặc trước hạn", self.closed_on_time],
            ["Tỷ lệ đúng hạn (%)", pct(self.on_time_pct)],
            ["Hồ sơ đang quá hạn", len(self.overdue)],
            ["Hồ sơ phải bổ sung", len(self.supplements)],
        ])
        levels = Table("Mức độ hài lòng", ["Mức", "Số lượt", "Tỷ lệ (%)"], [
            [LEVELS[v], self.levels[v], pct(100 * self.levels[v] / self.ratings if self.ratings else None)]
            for v in LEVELS
        ])
        criteria = Table("Tiêu chí đánh giá", ["Câu hỏi", "Trả lời", "Số lượt"], [
            [QUESTIONS[key].text, label, counts[value]]
            for key, counts in self.criteria.items() for value, label in QUESTIONS[key].options
        ])
        overdue = Table("Hồ sơ quá hạn", ["Mã hồ sơ", "Thủ tục", "Hẹn trả", "Trạng thái"], [
            [c.code, c.procedure, c.due.isoformat(), c.status] for c in self.overdue
        ])
        supplements = Table("Hồ sơ phải bổ sung", ["Mã hồ sơ", "Thủ tục", "Ngày yêu cầu", "Nội dung bổ sung"], [
            [c.code, c.procedure, at.date().isoformat(), note] for c, at, note in self.supplements
        ])
        usefulness = Table("Câu trả lời hữu ích", ["Thủ tục", "👍", "👎", "Tỷ lệ hữu ích (%)"], [
            [proc, votes["up"], votes["down"], pct(100 * votes["up"] / (votes["up"] + votes["down"]))]
            for proc, votes in sorted(self.usefulness.items())
        ])
        columns = ["Ngày", "Thủ tục", "Mức", "Góp ý", "Mã hồ sơ (nếu đồng ý liên hệ)"]
        negatives = Table("Đánh giá chưa hài lòng", columns, [
            [n["at"], n["procedure"], LEVELS[n["level"]], n["comment"], n["code"]] for n in self.negatives
        ])
        complaints = Table("Phản ánh", ["Ngày", "Kênh", "Nội dung"], [
            [c["at"], c["channel"], c["text"]] for c in self.complaints
        ])
        return [summary, levels, criteria, overdue, supplements, usefulness, negatives, complaints]


def _pct(value: float | None) -> float | str:
    return "–" if value is None else round(value, 1)


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - WEEKDAY_START) % 7)


async def build_report(desk: CaseDesk, filters: Filters, today: dt.date | None = None) -> Report:
    """Gather the period's ratings, cases, votes and feedback and aggregate them."""
    store = desk.store
    start = dt.datetime.combine(filters.start, dt.time())
    end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time())
    cases = [c for c in await desk.list() if _case_matches(c, filters)]
    return aggregate(
        filters, today or now().date(), cases,
        await store.ratings_between(start, end), await store.votes_between(start, end),
        await store.feedback_between(start, end),
    )


def _case_matches(case: Case, f: Filters) -> bool:
    return (f.procedure is None or case.procedure == f.procedure) and (f.office is None or case.office == f.office)


def aggregate(filters: Filters, today: dt.date, cases: list[Case], ratings: list[RatingRow],
              votes: list[VoteRow], feedback: list[FeedbackRow]) -> Report:
    """Pure aggregation over already-fetched rows, so the numbers can be checked by hand."""
    report = Report(filters, as_of=min(today, filters.end))

    def chat_matches(row: RatingRow | VoteRow | FeedbackRow) -> bool:
        return filters.channel is None or row.channel == filters.channel

    for r in ratings:
        if not chat_matches(r) or (filters.procedure and r.procedure != filters.procedure) \
                or (filters.office and r.office != filters.office):
            continue
        report.levels[r.level] += 1
        report.weekly_levels.setdefault(week_of(r.at.date()), Counter())[r.level] += 1
        for key in QUESTIONS:
            answer = getattr(r, key)
            if answer:
                report.criteria.setdefault(key, Counter())[answer] += 1
        if r.level in NEGATIVE:
            report.negatives.append({
                "at": r.at.date().isoformat(), "procedure": r.procedure, "level": r.level,
                "comment": r.comment or "", "code": r.code if r.contact_ok else "",
            })
    for case in cases:
        done = case.finished_on()
        if done is not None and filters.start <= done <= filters.end:
            report.closed += 1
            on_time = case.timeliness(today) in {"early", "on_time"}
            report.closed_on_time += on_time
            tally = report.weekly_closed.setdefault(week_of(done), [0, 0])
            tally[0] += on_time
            tally[1] += 1
        elif done is None and case.timeliness(report.as_of) == "overdue":
            report.overdue.append(case)
        for step in case.history:
            if step.status == "needs_supplement" and filters.start <= step.at.date() <= filters.end:
                report.supplements.append((case, step.at, step.note))
    for v in votes:
        if chat_matches(v) and (filters.procedure is None or v.procedure == filters.procedure):
            report.usefulness.setdefault(v.procedure or "(không rõ)", Counter())[v.vote] += 1
    for fb in feedback:
        if chat_matches(fb) and fb.kind == "complaint":
            report.complaints.append({"at": fb.at.date().isoformat(), "channel": fb.channel, "text": fb.text})
    return report


def render_text(report: Report) -> str:
    lines: list[str] = []
    for table in report.tables():
        lines.append(f"== {table.name} ==")
        if not table.rows:
            lines.append("(không có)")
        if table.name == "Tổng hợp":
            lines += [f"{k}: {v}" for k, v in table.rows]
        else:
            lines += [" | ".join(str(c) for c in row) for row in table.rows]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def summary_text(report: Report) -> str:
    """The short version staff get in the chat."""
    f = report.filters
    sat = _pct(report.satisfied_pct)
    on_time = _pct(report.on_time_pct)
    return (f"Báo cáo {f.start:%d/%m} – {f.end:%d/%m/%Y}\n"
            f"Đánh giá: {report.ratings} lượt, hài lòng {sat}%\n"
            f"Hồ sơ giải quyết xong: {report.closed}, đúng hạn {on_time}%\n"
            f"Đang quá hạn: {len(report.overdue)} · Phải bổ sung: {len(report.supplements)}\n"
            f"Đánh giá chưa hài lòng: {len(report.negatives)} · Phản ánh: {len(report.complaints)}")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, CSV injection): complaints, rating
comments and staff notes are typed by people outside the office, and "=HYPERLINK(…)" in a
complaint must stay text in the officer's Excel."""


def _inert(value: object) -> object:
    """A text cell as text, whatever it starts with: CSV has no types, so a leading apostrophe
    tells Excel and LibreOffice to show the rest as typed."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def to_csv(report: Report) -> str:
    """All tables in one CSV, each under its name, separated by a blank line."""
    out = io.StringIO()
    writer = csv.writer(out)
    for table in report.tables():
        writer.writerow([f"# {table.name}"])
        writer.writerow(table.headers)
        writer.writerows([_inert(v) for v in row] for row in table.rows)
        writer.writerow([])
    return out.getvalue()


def to_xlsx(report: Report) -> bytes:
    """One sheet per table, Vietnamese headers in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    for sheet in book.worksheets:  # the empty default sheet
        book.remove(sheet)
    for table in report.tables():
        sheet = book.create_sheet(table.name[:31])
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    # openpyxl stores any text starting with "=" as a formula: keep it a string,
                    # shown as typed (quotePrefix is Excel's own "this is text" mark)
                    cell.data_type = "s"
                    cell.quotePrefix = True
        for i, header in enumerate(table.headers, 1):
            width = max([len(str(header))] + [len(str(r[i - 1])) for r in table.rows]) + 2
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(60, width)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_png(report: Report) -> bytes:
    """Ratings per level per week (stacked bars) above the weekly on-time rate."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    weeks = sorted(set(report.weekly_levels) | set(report.weekly_closed)) or [week_of(report.filters.start)]
    labels = [f"{w:%d/%m}" for w in weeks]
    colors = {"5": "#1a9850", "4": "#91cf60", "3": "#fee08b", "2": "#fc8d59", "1": "#d73027"}
    # the Figure API, not pyplot: no global state, so charts can be drawn in a worker thread
    fig = Figure(figsize=(10, 7), dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True)
    base = [0] * len(weeks)
    for level, name in LEVELS.items():
        counts = [report.weekly_levels.get(w, Counter())[level] for w in weeks]
        top.bar(labels, counts, bottom=base, color=colors[level], label=name)
        base = [b + c for b, c in zip(base, counts, strict=False)]
    top.set_ylabel("Số lượt đánh giá")
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_title(f"Mức độ hài lòng theo tuần ({report.filters.start:%d/%m} – {report.filters.end:%d/%m/%Y})")
    top.legend(fontsize=8, loc="upper left")
    rates = [100 * report.weekly_closed[w][0] / report.weekly_closed[w][1] if w in report.weekly_closed else None
             for w in weeks]
    bottom.plot(labels, [r if r is not None else float("nan") for r in rates], marker="o", color="#2c7bb6")
    bottom.set_ylim(0, 105)
    bottom.set_ylabel("Đúng hạn (%)")
    bottom.set_xlabel("Tuần bắt đầu")
    bottom.set_title("Tỷ lệ hồ sơ giải quyết đúng hạn")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def period(word: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """"tuan": the last 7 days; "thang": this month so far."""
    if word.startswith("thang"):
        return today.replace(day=1), today
    return today - dt.timedelta(days=6), today
