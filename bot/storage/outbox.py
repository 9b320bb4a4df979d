"""The outbox: notifications waiting to be sent, written in the transaction that caused them.

A status change and the messages to its followers commit together, so a crash can neither
lose a notification nor send one for a change that did not happen. The notifier delivers the
rows and records each attempt; a row held back by a platform's reply window waits for the
citizen's next message.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Self

import aiosqlite

from bot.clock import now
from bot.storage import dialect
from bot.storage.db import Database


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    channel: str
    user: str
    kind: str
    payload: str
    """JSON, as stored: the notifier renders it at delivery."""
    created_at: dt.datetime
    attempts: int
    next_try: dt.datetime
    last_error: str
    waiting: bool
    delivered_at: dt.datetime | None
    given_up_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["id"], row["channel"], row["user"], row["kind"], row["payload"],
                   dt.datetime.fromisoformat(row["created_at"]), int(row["attempts"]),
                   dt.datetime.fromisoformat(row["next_try"]), row["last_error"], bool(row["waiting"]),
                   _time(row["delivered_at"]), _time(row["given_up_at"]))


class OutboxQueries(Database):
    async def _enqueue(self, channel: str, user: str, kind: str, payload: dict[str, Any]) -> None:
        stamp = now().isoformat()
        await self.db.execute(
            "INSERT INTO outbox (channel, user, kind, payload, created_at, next_try) VALUES (?, ?, ?, ?, ?, ?)",
            (channel, user, kind, json.dumps(payload, ensure_ascii=False), stamp, stamp),
        )

    async def enqueue(self, channel: str, user: str, kind: str, payload: dict[str, Any]) -> None:
        async with self.transaction():
            await self._enqueue(channel, user, kind, payload)
        self._outbox_changed()

    async def due_outbox(self, channels: list[str], at: dt.datetime, limit: int = 50) -> list[OutboxRow]:
        """Undelivered rows whose time has come, for the channels this process serves."""
        if not channels:
            return []
        async with self.db.execute(
            f"SELECT * FROM outbox WHERE delivered_at IS NULL AND given_up_at IS NULL AND waiting = 0"
            f" AND next_try <= ?"
            f" AND channel IN ({dialect.placeholders(len(channels))}) ORDER BY id LIMIT ?",
            (at.isoformat(), *channels, limit),
        ) as cur:
            return [OutboxRow.from_row(row) for row in await cur.fetchall()]

    async def claim_due(self, channels: list[str], at: dt.datetime, lease: dt.timedelta,
                        limit: int = 50) -> list[OutboxRow]:
        """Due rows, claimed by this process until `at + lease`: another process on the same
        database skips them, so each notification is sent once; a claim left by a process that
        died expires, and the row is sent by another (at least once, never lost)."""
        if not channels:
            return []
        async with self.transaction():
            async with self.db.execute(
                f"SELECT id FROM outbox WHERE delivered_at IS NULL AND given_up_at IS NULL AND waiting = 0"
                f" AND next_try <= ? AND (lease_until IS NULL OR lease_until <= ?)"
                f" AND channel IN ({dialect.placeholders(len(channels))}) ORDER BY id LIMIT ?{self.skip_locked}",
                (at.isoformat(), at.isoformat(), *channels, limit),
            ) as cur:
                ids = [int(row[0]) for row in await cur.fetchall()]
            if not ids:
                return []
            await self.db.execute(
                f"UPDATE outbox SET lease_until = ? WHERE id IN ({dialect.placeholders(len(ids))})",
                ((at + lease).isoformat(), *ids),
            )
            async with self.db.execute(
                f"SELECT * FROM outbox WHERE id IN ({dialect.placeholders(len(ids))}) ORDER BY id", ids
            ) as cur:
                return [OutboxRow.from_row(row) for row in await cur.fetchall()]

    async def release_claims(self, channels: list[str]) -> int:
        """Claims on these channels' rows end now: a process starting again after being killed
        takes back what it held, rather than leaving citizens waiting for the claims to expire.
        Another process sending at that very moment may then send its current row twice: at
        least once, never lost. A database shared by several processes (PostgreSQL) releases
        nothing: the others are sending what they claimed, and a dead process's claims expire."""
        if not channels or self.db.shared:
            return 0
        async with self.transaction():
            cur = await self.db.execute(
                f"UPDATE outbox SET lease_until = NULL WHERE lease_until IS NOT NULL AND delivered_at IS NULL"
                f" AND channel IN ({dialect.placeholders(len(channels))})", channels,
            )
        return int(cur.rowcount)

    async def mark_delivered(self, row_id: int) -> None:
        async with self.transaction():
            await self.db.execute(
                "UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL", (now().isoformat(), row_id)
            )

    async def mark_failed(self, row_id: int, attempts: int, next_try: dt.datetime, error: str) -> None:
        async with self.transaction():
            await self.db.execute(
                "UPDATE outbox SET attempts = ?, next_try = ?, last_error = ?, lease_until = NULL WHERE id = ?",
                (attempts, next_try.isoformat(), error[:300], row_id),
            )

    async def mark_given_up(self, row_id: int, attempts: int, error: str) -> None:
        """Set aside for good: never tried again, removed by the purge."""
        async with self.transaction():
            await self.db.execute(
                "UPDATE outbox SET attempts = ?, last_error = ?, given_up_at = ?, lease_until = NULL WHERE id = ?",
                (attempts, error[:300], now().isoformat(), row_id),
            )

    async def mark_waiting(self, row_id: int, reason: str) -> None:
        async with self.transaction():
            await self.db.execute("UPDATE outbox SET waiting = 1, last_error = ?, lease_until = NULL WHERE id = ?",
                                  (reason[:300], row_id))

    async def _release_waiting(self, channel: str, user: str) -> int:
        """Rows kept waiting for this citizen, or set aside because the platform refused them,
        become due now: the citizen just wrote, so the platform takes a reply again (a closed
        window, a block lifted). Returns how many."""
        cur = await self.db.execute(
            "UPDATE outbox SET waiting = 0, given_up_at = NULL, attempts = 0, next_try = ?"
            " WHERE channel = ? AND user = ? AND (waiting = 1 OR given_up_at IS NOT NULL)"
            " AND delivered_at IS NULL", (now().isoformat(), channel, user),
        )
        return int(cur.rowcount)

    async def set_aside(self) -> list[OutboxRow]:
        """Notifications the platforms refused for good and nobody has received yet, newest first."""
        async with self.db.execute(
            "SELECT * FROM outbox WHERE given_up_at IS NOT NULL AND delivered_at IS NULL"
            " ORDER BY given_up_at DESC, id DESC"
        ) as cur:
            return [OutboxRow.from_row(row) for row in await cur.fetchall()]

    async def outbox_rows(self) -> list[OutboxRow]:
        async with self.db.execute("SELECT * FROM outbox ORDER BY id") as cur:
            return [OutboxRow.from_row(row) for row in await cur.fetchall()]
