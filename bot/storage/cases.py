"""Cases as stored: the case rows, their history, who follows them, and look-up attempts.

A status change, its history step and the outbox rows for the followers are one
transaction, which is why this group builds on the outbox's. Look-up attempts are kept to
throttle guessing of case codes and phone numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import aiosqlite

from bot.clock import now
from bot.statuses import CLOSED
from bot.storage import dialect
from bot.storage.outbox import OutboxQueries


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

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(
            row["code"], row["procedure"], row["name"], row["phone"], row["channel"],
            dt.datetime.fromisoformat(row["received"]), dt.date.fromisoformat(row["due"]), row["status"],
            dt.date.fromisoformat(row["supplement_by"]) if row["supplement_by"] else None,
            row["office"], dt.datetime.fromisoformat(row["created_at"]), row["id_tail"],
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

    async def cases(self, *, open_only: bool = False) -> list[CaseRow]:
        where = f" WHERE status NOT IN ({dialect.literals(CLOSED)})" if open_only else ""
        async with self.db.execute(f"SELECT * FROM cases{where} ORDER BY received") as cur:
            return [CaseRow.from_row(row) for row in await cur.fetchall()]

    async def insert_case(self, row: dict[str, Any], staff: str, note: str = "") -> None:
        """A new case with the first step of its history, in one transaction."""
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO cases (code, procedure, name, phone, channel, received, due, status, office, created_at,"
                " id_tail) VALUES (:code, :procedure, :name, :phone, :channel, :received, :due, :status, :office,"
                " :created_at, :id_tail)",
                {"office": "", "id_tail": "", **row, "created_at": now().isoformat()},
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

        `steps` is how many history steps the caller saw when it checked the change: if anyone
        (another officer, the CLI in another process) added one since, nothing is written and the
        answer is False, so the caller checks again against what is now true. Writers take turns
        (BEGIN IMMEDIATE on SQLite, the case row's lock on PostgreSQL), so the comparison and the
        write cannot be split."""
        at_text = (at or now()).isoformat()
        async with self.transaction():
            await self.db.execute(f"SELECT 1 FROM cases WHERE code = ?{self.for_update}", (code,))
            cur = await self.db.execute(
                "UPDATE cases SET status = ?, due = COALESCE(?, due), supplement_by = ? WHERE code = ?"
                " AND (CAST(? AS INTEGER) IS NULL OR (SELECT COUNT(*) FROM case_history WHERE code = cases.code) = ?)",
                (status, due, supplement_by, code, steps, steps),
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
