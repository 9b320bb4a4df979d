"""Cases as stored: the case rows, their history, who follows them, and look-up attempts.

A status change, its history step and the outbox rows for the followers are one
transaction, which is why this group builds on the outbox's. Look-up attempts are kept to
throttle guessing of case codes and phone numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Self

import aiosqlite

from bot.clock import now
from bot.statuses import CLOSED, PAUSED, RESULT
from bot.storage import dialect
from bot.storage.outbox import OutboxQueries
from bot.storage.postgres import PgConnection
from bot.storage.scope import ReportScope

PG_FOREIGN_KEYS = (
    "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),"
    " format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))"
    " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::regclass[])")
PG_INDEXES = ("SELECT format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid)"
              " FROM pg_index WHERE indrelid = ANY($1::regclass[]) AND NOT indisunique")
SQLITE_INDEXES = ("SELECT 'DROP INDEX ' || name, sql FROM sqlite_master"
                  " WHERE type = 'index' AND tbl_name IN ({}) AND sql NOT LIKE 'CREATE UNIQUE %'")
"""How to drop, and then make again as they were, what `bulk_loading` sets aside: each row a
statement that drops and one that makes, from the database's own definitions."""

BULK_SORT_MEMORY = "256MB"
"""PostgreSQL's memory for building an index after a bulk load (default 64 MB): the sort stays in
memory, and a million cases' indexes take 10 s instead of 16."""


@dataclass(frozen=True)
class CaseRow:
    code: str
    procedure: str
    name: str
    phone: str
    channel: str
    received: dt.datetime
    due: dt.date
    status: str
    supplement_by: dt.date | None
    office: str
    created_at: dt.datetime
    id_tail: str = ""
    office_code: str = ""

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(
            row["code"], row["procedure"], row["name"], row["phone"], row["channel"],
            dt.datetime.fromisoformat(row["received"]), dt.date.fromisoformat(row["due"]), row["status"],
            dt.date.fromisoformat(row["supplement_by"]) if row["supplement_by"] else None,
            row["office"], dt.datetime.fromisoformat(row["created_at"]), row["id_tail"], row["office_code"],
        )


@dataclass(frozen=True)
class HistoryRow:
    at: dt.datetime
    status: str
    note: str
    staff: str

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(dt.datetime.fromisoformat(row["at"]), row["status"], row["note"], row["staff"])


def finished_day(status: str, at: str) -> str | None:
    """The day a step at `at` to `status` finishes its case (a result, or closed), else None: kept
    on the case as `finished` from its first such step, as `Case.finished_on` reads the history."""
    return at[:10] if status in RESULT | CLOSED else None


class CaseQueries(OutboxQueries):
    async def case(self, code: str) -> CaseRow | None:
        async with self.db.execute("SELECT * FROM cases WHERE code = ?", (code,)) as cur:
            row = await cur.fetchone()
        return None if row is None else CaseRow.from_row(row)

    async def case_history(self, code: str) -> list[HistoryRow]:
        async with self.db.execute(
            "SELECT at, status, note, staff FROM case_history WHERE code = ? ORDER BY id", (code,)
        ) as cur:
            return [HistoryRow.from_row(row) for row in await cur.fetchall()]

    async def case_with_history(self, code: str) -> tuple[CaseRow, list[HistoryRow]] | None:
        """A case and its history as they stood at one moment: one statement reads both.

        The history's length is the version `change_status` compares (`steps`), so it must be of
        the same moment as the status a change is decided on. Read by two statements, another
        process's change committed between them gave the old status with the new length: a
        change decided on the old status then passed the check (two officers both marking a
        case ready, a returned case reopened)."""
        async with self.db.execute(
            "SELECT c.*, h.at AS step_at, h.status AS step_status, h.note AS step_note, h.staff AS step_staff"
            " FROM cases c LEFT JOIN case_history h ON h.code = c.code WHERE c.code = ? ORDER BY h.id", (code,)
        ) as cur:
            rows = list(await cur.fetchall())
        if not rows:
            return None
        history = [HistoryRow(dt.datetime.fromisoformat(r["step_at"]), r["step_status"], r["step_note"],
                              r["step_staff"]) for r in rows if r["step_status"] is not None]
        return CaseRow.from_row(rows[0]), history

    async def assign_office(self, office: str, prefix: str = "") -> int:
        """Give the cases that have no office yet (filed before the offices file) to this one:
        all of them, or those whose code starts with `prefix`. Found through the office index,
        so a start with nothing left to give costs one look."""
        async with self.transaction():
            cur = await self.db.execute(
                "UPDATE cases SET office_code = ? WHERE office_code = '' AND substr(code, 1, ?) = ?",
                (office, len(prefix), prefix),
            )
        return max(cur.rowcount, 0)

    async def latest_cases(self, limit: int, office: str | None = None) -> list[CaseRow]:
        """The `limit` cases received last, oldest of them first (a page an officer can read);
        only one office's when `office` (its code) is given."""
        where, values = _office(office, "WHERE")
        async with self.db.execute(
            f"SELECT * FROM (SELECT * FROM cases{where} ORDER BY received DESC, code DESC LIMIT ?) latest"
            " ORDER BY received, code", (*values, limit),
        ) as cur:
            return [CaseRow.from_row(row) for row in await cur.fetchall()]

    async def overdue_rows(self, as_of: dt.date, limit: int, office: str | None = None) -> list[CaseRow]:
        """Open cases past their due date as `Case.timeliness` judges them (no result yet, not
        waiting for the citizen's papers), the longest overdue first."""
        where, values = _office(office, "AND")
        async with self.db.execute(
            f"SELECT * FROM cases WHERE finished IS NULL AND due < ? AND status NOT IN ({dialect.literals(PAUSED)})"
            f"{where} ORDER BY due, code LIMIT ?", (as_of.isoformat(), *values, limit),
        ) as cur:
            return [CaseRow.from_row(row) for row in await cur.fetchall()]

    async def overdue_count(self, as_of: dt.date, office: str | None = None) -> int:
        where, values = _office(office, "AND")
        async with self.db.execute(
            f"SELECT COUNT(*) FROM cases WHERE finished IS NULL AND due < ? AND status NOT IN"
            f" ({dialect.literals(PAUSED)}){where}", (as_of.isoformat(), *values),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def histories(self, codes: Sequence[str]) -> dict[str, list[HistoryRow]]:
        """The history of each of these cases, in one query (a page of a list, never all cases)."""
        out: dict[str, list[HistoryRow]] = {code: [] for code in codes}
        if not codes:
            return out
        async with self.db.execute(
            f"SELECT code, at, status, note, staff FROM case_history WHERE code IN ({dialect.placeholders(len(codes))})"
            " ORDER BY code, id", list(codes),
        ) as cur:
            for row in await cur.fetchall():
                out[row["code"]].append(HistoryRow.from_row(row))
        return out

    async def insert_case(self, row: dict[str, Any], staff: str, note: str = "") -> None:
        """A new case with the first step of its history, in one transaction."""
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO cases (code, procedure, name, phone, channel, received, due, status, office, created_at,"
                " id_tail, office_code, finished) VALUES (:code, :procedure, :name, :phone, :channel, :received, :due,"
                " :status, :office, :created_at, :id_tail, :office_code, :finished)",
                {"office": "", "id_tail": "", "office_code": "", **row, "created_at": now().isoformat(),
                 "finished": finished_day(row["status"], row["received"])},
            )
            await self.db.execute(
                "INSERT INTO case_history (code, at, status, note, staff) VALUES (?, ?, ?, ?, ?)",
                (row["code"], row["received"], row["status"], note, staff),
            )

    async def change_status(
        self, code: str, status: str, note: str, staff: str, *, due: str | None = None,
        supplement_by: str | None = None, notify: Sequence[tuple[str, str, str, dict[str, Any]]] = (),
        at: dt.datetime | None = None, steps: int | None = None,
    ) -> bool:
        """A status change, its history step and one outbox row per follower, all or nothing.

        `steps` is how many history steps the caller saw when it checked the change, read in one
        statement with the status it checked (`case_with_history`): if anyone (another officer,
        the CLI in another process) added one since, nothing is written and the answer is False,
        so the caller checks again against what is now true. Writers take turns
        (BEGIN IMMEDIATE on SQLite, the case row's lock on PostgreSQL), so the comparison and the
        write cannot be split."""
        at_text = (at or now()).isoformat()
        async with self.transaction():
            await self.db.execute(f"SELECT 1 FROM cases WHERE code = ?{self.for_update}", (code,))
            cur = await self.db.execute(
                "UPDATE cases SET status = ?, due = COALESCE(?, due), supplement_by = ?,"
                " finished = COALESCE(finished, ?) WHERE code = ?"
                " AND (CAST(? AS INTEGER) IS NULL OR (SELECT COUNT(*) FROM case_history WHERE code = cases.code) = ?)",
                (status, due, supplement_by, finished_day(status, at_text), code, steps, steps),
            )
            if cur.rowcount != 1:
                return False
            await self.db.execute(
                "INSERT INTO case_history (code, at, status, note, staff) VALUES (?, ?, ?, ?, ?)",
                (code, at_text, status, note, staff),
            )
            for channel, user, kind, payload in notify:
                await self._enqueue(channel, user, kind, payload)
        if notify:
            self._outbox_changed()
        return True

    @asynccontextmanager
    async def bulk_loading(self, tables: Sequence[str]) -> AsyncIterator[None]:
        """Around loading many rows into `tables`: one transaction, in which the tables'
        non-unique indexes (and on PostgreSQL their foreign keys, whose check locks the parent row)
        are dropped for the load and made again over all its rows at the end, which costs a
        fraction of adding an entry or checking a key row by row (a million cases: 46 s of CPU
        instead of 59 on SQLite, the history's rows 2.5× faster on PostgreSQL). A failure rolls
        back the rows and the drops alike; meanwhile other connections wait to write (on
        PostgreSQL, also to read these tables), so it is for filling a database no office uses."""
        async with self.transaction():
            if isinstance(self.db, PgConnection):
                async with self.db.connection() as conn:
                    await conn.execute(f"SET LOCAL maintenance_work_mem = '{BULK_SORT_MEMORY}'")
                    found = [*await conn.fetch(PG_FOREIGN_KEYS, list(tables)),
                             *await conn.fetch(PG_INDEXES, list(tables))]
            else:
                listed = SQLITE_INDEXES.format(dialect.placeholders(len(tables)))
                async with self.db.execute(listed, tuple(tables)) as cur:
                    found = list(await cur.fetchall())
            for drop, _ in found:
                await self.db.execute(drop)
            yield
            for _, make in reversed(found):
                await self.db.execute(make)
            if isinstance(self.db, PgConnection):
                await self.db.execute(f"ANALYZE {', '.join(tables)}")

    async def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Many rows into one table, in the caller's transaction, the fastest way each database
        takes them: PostgreSQL's COPY (a stream of rows, no statement per row), SQLite's one
        prepared insert run for every row. How `demo seed --cases` loads a million cases."""
        if isinstance(self.db, PgConnection):
            async with self.db.connection() as conn:
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            return
        await self.db.executemany(f"INSERT INTO {table} ({', '.join(columns)})"
                                  f" VALUES ({dialect.placeholders(len(columns))})", rows)

    async def followers(self, code: str) -> list[tuple[str, str]]:
        async with self.db.execute("SELECT channel, user FROM follows WHERE code = ? ORDER BY at", (code,)) as cur:
            return [(r["channel"], r["user"]) for r in await cur.fetchall()]

    async def follow(self, channel: str, user: str, code: str) -> None:
        async with self.transaction():
            await self.db.execute(
                f"{dialect.INSERT_OR_IGNORE} INTO follows (channel, user, code, at) VALUES (?, ?, ?, ?)",
                (channel, user, code, now().isoformat()),
            )

    async def unfollow(self, channel: str, user: str, code: str) -> None:
        async with self.transaction():
            await self.db.execute(
                "DELETE FROM follows WHERE channel = ? AND user = ? AND code = ?", (channel, user, code)
            )

    async def is_following(self, channel: str, user: str, code: str) -> bool:
        async with self.db.execute(
            "SELECT 1 FROM follows WHERE channel = ? AND user = ? AND code = ?", (channel, user, code)
        ) as cur:
            return await cur.fetchone() is not None

    async def record_lookup(self, channel: str, user: str, code: str, ok: bool) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO lookup_attempts (channel, user, code, at, ok) VALUES (?, ?, ?, ?, ?)",
                (channel, user, code, now().isoformat(), int(ok)),
            )

    async def failed_lookups(self, channel: str, user: str, since: dt.datetime) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM lookup_attempts WHERE channel = ? AND user = ? AND at >= ? AND ok = 0",
            (channel, user, since.isoformat()),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def case_failures(self, code: str, since: dt.datetime) -> int:
        """Wrong second factors given for one case by anyone since then."""
        async with self.db.execute(
            "SELECT COUNT(*) FROM lookup_attempts WHERE code = ? AND at >= ? AND ok = 0", (code, since.isoformat())
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def failures_since(self, since: dt.datetime) -> int:
        """Failed look-ups by everyone since then: successes are no one's to limit."""
        async with self.db.execute(
            "SELECT COUNT(*) FROM lookup_attempts WHERE at >= ? AND ok = 0", (since.isoformat(),)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0


@dataclass(frozen=True)
class ProcedureTally:
    """One procedure's line of the one-stop results form: files carried over, received, resolved
    (before, on, after the due date) in the period, and still open at its end (in time, overdue)."""

    procedure: str
    carried: int
    received: int
    received_online: int
    early: int
    on_time: int
    late: int
    open_in_time: int
    open_overdue: int


@dataclass(frozen=True)
class OpenCaseRow:
    code: str
    procedure: str
    due: dt.date
    status: str
    at: dt.datetime
    """When the listed step happened (the supplement request), or the case was received."""
    note: str


class CaseReportQueries(CaseQueries):
    """The report's figures on cases, counted by the database over the period asked."""

    async def procedure_tallies(self, scope: ReportScope, as_of: dt.date) -> list[ProcedureTally]:
        filters, named = _filters(scope)
        open_at_end = "(c.finished IS NULL OR c.finished > :end)"
        overdue = f"(c.due < :as_of AND NOT (c.finished IS NULL AND c.status IN ({dialect.literals(PAUSED)})))"
        sql = f"""
            SELECT c.procedure,
              SUM(CASE WHEN substr(c.received, 1, 10) < :start THEN 1 ELSE 0 END) AS carried,
              SUM(CASE WHEN substr(c.received, 1, 10) >= :start THEN 1 ELSE 0 END) AS received,
              SUM(CASE WHEN substr(c.received, 1, 10) >= :start AND c.channel = 'trực tuyến' THEN 1 ELSE 0 END)
                  AS received_online,
              SUM(CASE WHEN c.finished <= :end AND c.finished < c.due THEN 1 ELSE 0 END) AS early,
              SUM(CASE WHEN c.finished <= :end AND c.finished = c.due THEN 1 ELSE 0 END) AS on_time,
              SUM(CASE WHEN c.finished <= :end AND c.finished > c.due THEN 1 ELSE 0 END) AS late,
              SUM(CASE WHEN {open_at_end} AND NOT {overdue} THEN 1 ELSE 0 END) AS open_in_time,
              SUM(CASE WHEN {open_at_end} AND {overdue} THEN 1 ELSE 0 END) AS open_overdue
            FROM ({_in_period(filters)}) c
            GROUP BY c.procedure ORDER BY c.procedure"""
        named |= {"start": scope.start.isoformat(), "end": scope.end.isoformat(), "as_of": as_of.isoformat(),
                  "after": _day_after(scope.end)}
        async with self.db.execute(sql, named) as cur:
            return [ProcedureTally(r["procedure"], *(int(r[k] or 0) for k in (
                "carried", "received", "received_online", "early", "on_time", "late", "open_in_time",
                "open_overdue"))) for r in await cur.fetchall()]

    async def finished_by_day(self, scope: ReportScope) -> list[tuple[dt.date, int, int]]:
        """(day, resolved on time or early, resolved) for each day of the period with a result."""
        filters, named = _filters(scope)
        named |= {"start": scope.start.isoformat(), "end": scope.end.isoformat()}
        async with self.db.execute(
            "SELECT c.finished AS day, SUM(CASE WHEN c.finished <= c.due THEN 1 ELSE 0 END) AS on_time,"
            f" COUNT(*) AS n FROM cases c WHERE c.finished BETWEEN :start AND :end{filters}"
            " GROUP BY c.finished ORDER BY c.finished", named,
        ) as cur:
            return [(dt.date.fromisoformat(r["day"]), int(r["on_time"]), int(r["n"])) for r in await cur.fetchall()]

    async def overdue_cases(self, scope: ReportScope, as_of: dt.date, limit: int) -> list[OpenCaseRow]:
        """Open cases past their due date, the longest overdue first."""
        filters, named = _filters(scope)
        named |= {"as_of": as_of.isoformat(), "limit": limit}
        async with self.db.execute(
            "SELECT c.code, c.procedure, c.due, c.status, c.received AS at, '' AS note FROM cases c"
            f" WHERE c.finished IS NULL AND c.status NOT IN ({dialect.literals(PAUSED)}) AND c.due < :as_of{filters}"
            " ORDER BY c.due, c.code LIMIT :limit", named,
        ) as cur:
            return [_open_case(r) for r in await cur.fetchall()]

    async def supplement_requests(self, scope: ReportScope, limit: int) -> list[OpenCaseRow]:
        """Each request to complete a file made in the period, with what was missing."""
        filters, named = _filters(scope)
        named |= {"start": scope.start.isoformat(), "after": _day_after(scope.end), "limit": limit}
        async with self.db.execute(
            "SELECT c.code, c.procedure, c.due, c.status, h.at, h.note FROM case_history h"
            " JOIN cases c ON c.code = h.code WHERE h.status = 'needs_supplement'"
            f" AND h.at >= :start AND h.at < :after{filters} ORDER BY h.at LIMIT :limit", named,
        ) as cur:
            return [_open_case(r) for r in await cur.fetchall()]

    async def cases_with_phone(self, phone: str) -> list[str]:
        """The codes of the cases filed with this phone number (the demo's own), oldest first."""
        async with self.db.execute("SELECT code FROM cases WHERE phone = ? ORDER BY code", (phone,)) as cur:
            return [r["code"] for r in await cur.fetchall()]

    async def case_count(self, office: str | None = None) -> int:
        where, values = _office(office, "WHERE")
        async with self.db.execute(f"SELECT COUNT(*) FROM cases{where}", values) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def has_cases(self) -> bool:
        """Whether any case is here: one index entry read, where counting reads them all."""
        async with self.db.execute("SELECT 1 FROM cases LIMIT 1") as cur:
            return await cur.fetchone() is not None


def _office(office: str | None, joiner: str) -> tuple[str, tuple[str, ...]]:
    """The condition that keeps one office's cases (by its code), or none for every office."""
    return ("", ()) if office is None else (f" {joiner} office_code = ?", (office,))


def _filters(scope: ReportScope) -> tuple[str, dict[str, object]]:
    """The procedure and office (its code) conditions on the cases table (alias c), with their values."""
    sql, named = "", dict[str, object]()
    for column, value in (("procedure", scope.procedure), ("office_code", scope.office)):
        if value is not None:
            sql += f" AND c.{column} = :{column}"
            named[column] = value
    return sql, named


def _in_period(filters: str) -> str:
    """The cases a period's form counts (received by its end, not finished before its start), as
    three disjoint parts that each read one index: received in the period; received before and
    still open; received before and finished since. Asked as one condition, the planner reads
    every case received before the period's end, which is all of them for this month's report.
    `received || ''` keeps the last two parts off the received index (the same in both
    databases), so they read the few cases open or finished since the period began."""
    columns = "c.procedure, c.received, c.channel, c.due, c.status, c.finished"
    return f"""SELECT {columns} FROM cases c WHERE c.received >= :start AND c.received < :after
                 AND (c.finished IS NULL OR c.finished >= :start){filters}
            UNION ALL SELECT {columns} FROM cases c
               WHERE c.finished IS NULL AND c.received || '' < :start{filters}
            UNION ALL SELECT {columns} FROM cases c
               WHERE c.finished >= :start AND c.received || '' < :start{filters}"""


def _day_after(day: dt.date) -> str:
    """The bound that keeps a timestamp column on or before `day` and lets its index be used
    (`at < '2026-12-01'` holds for every moment of 30/11, as text compares)."""
    return (day + dt.timedelta(days=1)).isoformat()


def _open_case(row: aiosqlite.Row) -> OpenCaseRow:
    return OpenCaseRow(row["code"], row["procedure"], dt.date.fromisoformat(row["due"]), row["status"],
                       dt.datetime.fromisoformat(row["at"]), row["note"])
