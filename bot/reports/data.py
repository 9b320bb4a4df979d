"""The figures of a report, counted by the database over the period asked.

The indicators are those Decree 118/2025 and Decision 766/QĐ-TTg judge a desk by: files
received, resolved before, on or after their due date, still open in time or overdue (the
one-stop results form), % satisfied ((Rất hài lòng + Hài lòng) / all ratings), and the
criteria citizens rate under art. 33. Nothing here loads every case: each figure is one
aggregate query, so a province's million cases cost what a commune's hundred do.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from bot.cases import CaseDesk
from bot.clock import now
from bot.ratings import NEGATIVE, SATISFIED
from bot.storage import FeedbackRow, OpenCaseRow, ProcedureTally, RatingRow, ReportScope

WEEKDAY_START = 0  # weeks start on Monday
LIST_LIMIT = 500
"""Rows of a list (negative ratings, overdue files…) a forwarded report carries at most."""


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    """Inclusive."""
    procedure: str | None = None
    office: str | None = None
    """An office's code (the offices file's); None: every office of the deployment."""
    channel: str | None = None
    """Chat channel (telegram, zalo…): applies to ratings, answer votes, feedback and questions."""

    def scope(self) -> ReportScope:
        return ReportScope(self.start, self.end, self.procedure, self.office, self.channel)


@dataclass
class Report:
    filters: Filters
    office: str = ""
    made: dt.date = field(default_factory=lambda: now().date())
    names: dict[str, str] = field(default_factory=dict)
    """Procedure ids to the names staff know them by."""
    tallies: list[ProcedureTally] = field(default_factory=list)
    levels: Counter[str] = field(default_factory=Counter)
    weekly_levels: dict[dt.date, Counter[str]] = field(default_factory=dict)
    weekly_closed: dict[dt.date, list[int]] = field(default_factory=dict)
    answers: dict[str, dict[str, int]] = field(default_factory=dict)
    negatives: list[RatingRow] = field(default_factory=list)
    unanswered: list[tuple[str, int, str | None]] = field(default_factory=list)
    overdue: list[OpenCaseRow] = field(default_factory=list)
    supplements: list[OpenCaseRow] = field(default_factory=list)
    usefulness: list[tuple[str | None, int, int]] = field(default_factory=list)
    complaints: list[FeedbackRow] = field(default_factory=list)

    def name(self, procedure: str | None) -> str:
        return "(không rõ)" if procedure is None else self.names.get(procedure, procedure)

    def total(self, attribute: str) -> int:
        return sum(getattr(t, attribute) for t in self.tallies)

    @property
    def ratings(self) -> int:
        return sum(self.levels.values())

    @property
    def satisfied(self) -> int:
        return sum(self.levels[v] for v in SATISFIED)

    @property
    def closed(self) -> int:
        return self.total("early") + self.total("on_time") + self.total("late")

    @property
    def closed_on_time(self) -> int:
        return self.total("early") + self.total("on_time")

    @property
    def satisfied_share(self) -> float | None:
        return share(self.satisfied, self.ratings)

    @property
    def on_time_share(self) -> float | None:
        return share(self.closed_on_time, self.closed)


def share(part: int, whole: int) -> float | None:
    """A fraction for a percentage cell, or None when there is nothing to divide."""
    return part / whole if whole else None


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - WEEKDAY_START) % 7)


async def build_report(desk: CaseDesk, filters: Filters, today: dt.date | None = None) -> Report:
    store, scope = desk.store, filters.scope()
    today = today or now().date()
    as_of = min(today, filters.end)
    titled = next((o for o in desk.offices if filters.office is not None and o.code == filters.office), desk.office)
    report = Report(filters, office=titled.name, made=today,
                    names={gid: guide.name for gid, guide in desk.catalog.guides.items()})
    report.tallies = await store.procedure_tallies(scope, as_of)
    for day, level, count in await store.rating_levels_by_day(scope):
        report.levels[level] += count
        report.weekly_levels.setdefault(week_of(day), Counter())[level] += count
    for day, on_time, count in await store.finished_by_day(scope):
        tally = report.weekly_closed.setdefault(week_of(day), [0, 0])
        tally[0] += on_time
        tally[1] += count
    report.answers = await store.rating_answers(scope)
    report.negatives = await store.negative_ratings(scope, NEGATIVE, LIST_LIMIT)
    report.unanswered = await store.unanswered_between(scope, LIST_LIMIT)
    report.overdue = await store.overdue_cases(scope, as_of, LIST_LIMIT)
    report.supplements = await store.supplement_requests(scope, LIST_LIMIT)
    report.usefulness = await store.vote_tallies(scope)
    report.complaints = await store.complaints(scope, LIST_LIMIT)
    return report


def period(word: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """"tuan": the last 7 days; "thang": this month so far."""
    if word.startswith("thang"):
        return today.replace(day=1), today
    return today - dt.timedelta(days=6), today
