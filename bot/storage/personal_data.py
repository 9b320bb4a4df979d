"""Personal data across every table: a citizen's "delete my data", and the retention purge.

These two cut across the other groups on purpose: what counts as personal data is decided in
one place, so a new table that holds a chat id is added to both lists here, beside each other.
"""

from __future__ import annotations

import datetime as dt

from bot.statuses import CLOSED
from bot.storage import dialect
from bot.storage.db import Database

USER_TABLES = ("conversations", "follows", "outbox", "reply_windows", "handoffs")
"""Tables keyed by (channel, user) that "delete my data" empties. Not lookup_attempts: they are
the record the look-up limits count, so a deletion must not reset them (it let one account
guess every phone tail); the purge removes them once old."""

EXPIRING = (
    ("conversations", "updated_at", ""), ("outbox", "created_at", " AND delivered_at IS NOT NULL"),
    ("lookup_attempts", "at", ""), ("handoffs", "at", ""), ("seen_messages", "at", ""),
    ("reply_windows", "last_inbound", ""),
)
"""(table, time column, extra condition) of rows the purge deletes once older than its cut-off."""


class PersonalDataQueries(Database):
    async def forget_user(self, channel: str, user: str) -> dict[str, int]:
        """A citizen's "delete my data": conversation, follows, pending messages, handoffs.

        Ratings and the question log hold no user identifier, so they stay as anonymous
        statistics.
        """
        counts: dict[str, int] = {}
        async with self.transaction():
            for table in USER_TABLES:
                cur = await self.db.execute(f"DELETE FROM {table} WHERE channel = ? AND user = ?", (channel, user))
                counts[table] = cur.rowcount
        return counts

    async def purge(self, before: dt.datetime) -> dict[str, int]:
        """Personal data older than `before`: names and phones of cases closed before it, idle
        conversations, delivered notifications, look-up traces. Case rows, history, ratings and
        the question log stay for the statistics."""
        stamp = before.isoformat()
        closed_statuses = dialect.literals(CLOSED)
        closed = (f"SELECT code FROM case_history WHERE status IN ({closed_statuses})"
                  " GROUP BY code HAVING MAX(at) < ?")
        counts: dict[str, int] = {}
        async with self.transaction():
            cur = await self.db.execute(
                f"UPDATE cases SET name = '', phone = '' WHERE name != '' AND status IN"
                f" ({closed_statuses}) AND code IN ({closed})", (stamp,))
            counts["cases anonymised"] = cur.rowcount
            cur = await self.db.execute(f"DELETE FROM follows WHERE code IN ({closed})", (stamp,))
            counts["follows"] = cur.rowcount
            for table, column, extra in EXPIRING:
                cur = await self.db.execute(f"DELETE FROM {table} WHERE {column} < ?{extra}", (stamp,))
                counts[table] = cur.rowcount
        return counts
