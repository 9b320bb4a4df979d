"""Personal data across every table: a citizen's "delete my data", and the retention purge.

These two cut across the other groups on purpose: what counts as personal data is decided in
one place, so a new table that holds a chat id is added to both lists here, beside each other.
"""

from __future__ import annotations

import datetime as dt

from bot.privacy import MASK, mask_digits
from bot.statuses import CLOSED
from bot.storage import dialect
from bot.storage.db import Database

USER_TABLES = ("conversations", "follows", "outbox", "reply_windows", "handoffs")
"""Tables keyed by (channel, user) that "delete my data" empties. Not lookup_attempts: they are
the record the look-up limits count, so a deletion must not reset them (it let one account
guess every phone tail); the purge removes them once old."""

EXPIRING = (
    ("conversations", "updated_at", ""),
    # delivered, set aside, or still waiting for a citizen who never wrote again (R21)
    ("outbox", "created_at", " AND (delivered_at IS NOT NULL OR given_up_at IS NOT NULL OR waiting = 1)"),
    ("lookup_attempts", "at", ""), ("handoffs", "at", ""), ("seen_messages", "at", ""),
    ("reply_windows", "last_inbound", ""),
)
"""(table, time column, extra condition) of rows the purge deletes once older than its cut-off."""

FREE_TEXT = (("questions", "text", "at", "questions blanked"), ("feedback", "text", "at", "feedback blanked"),
             ("ratings", "comment", "day", "rating comments blanked"))
"""(table, text column, time column, count name) of what citizens typed without a user link: masked at write,
but a name with nothing before it cannot be recognised, so the purge blanks the text once old.
The rows stay: intent, procedure, kind and rating are the statistics."""


class PersonalDataQueries(Database):
    async def forget_user(self, channel: str, user: str) -> dict[str, int]:
        """A citizen's "delete my data": conversation, follows, pending messages, handoffs.

        Ratings and the question log hold no user identifier, so they stay as anonymous
        statistics (their texts were masked as they were written). The deleted rows are zeroed
        in the file (`secure_delete`), and the WAL, which still holds them as they were, is
        emptied.
        """
        counts: dict[str, int] = {}
        async with self.transaction():
            for table in USER_TABLES:
                cur = await self.db.execute(f"DELETE FROM {table} WHERE channel = ? AND user = ?", (channel, user))
                counts[table] = cur.rowcount
        await self.checkpoint()
        return counts

    async def checkpoint(self) -> None:
        """Empty the WAL into the database, best effort: a reader in another process makes it a
        partial checkpoint (SQLite reports busy in the result row; nothing fails). Inside a
        caller's transaction it waits for the next one: nothing is committed yet."""
        if self._in_tx.get():
            return
        async with self._lock:
            await self.db.execute(dialect.CHECKPOINT)

    async def purge(self, before: dt.datetime) -> dict[str, int]:
        """Personal data older than `before`: names and phones of cases closed before it (and
        both, masked, in their history notes), idle conversations, delivered notifications,
        look-up traces, and the texts of questions, feedback and rating comments. Case rows,
        history steps, ratings and question rows stay for the statistics."""
        stamp = before.isoformat()
        closed_statuses = dialect.literals(CLOSED)
        closed = (f"SELECT code FROM case_history WHERE status IN ({closed_statuses})"
                  " GROUP BY code HAVING MAX(at) < ?")
        counts: dict[str, int] = {}
        async with self.transaction():
            counts["history notes masked"] = await self._mask_history_notes(closed_statuses, closed, stamp)
            cur = await self.db.execute(
                f"UPDATE cases SET name = '', phone = '' WHERE name != '' AND status IN"
                f" ({closed_statuses}) AND code IN ({closed})", (stamp,))
            counts["cases anonymised"] = cur.rowcount
            cur = await self.db.execute(f"DELETE FROM follows WHERE code IN ({closed})", (stamp,))
            counts["follows"] = cur.rowcount
            for table, column, extra in EXPIRING:
                cur = await self.db.execute(f"DELETE FROM {table} WHERE {column} < ?{extra}", (stamp,))
                counts[table] = cur.rowcount
            for table, column, time, name in FREE_TEXT:
                cur = await self.db.execute(
                    f"UPDATE {table} SET {column} = '' WHERE {time} < ? AND {column} != ''", (stamp,))
                counts[name] = cur.rowcount
        await self.checkpoint()
        return counts

    async def _mask_history_notes(self, closed_statuses: str, closed: str, stamp: str) -> int:
        """Staff notes of the cases about to be anonymised name the applicant ("Liên hệ chị …"):
        the case's own name and phone become '***', then the rest is masked as typed text is."""
        async with self.db.execute(
            "SELECT h.id, h.note, c.name, c.phone FROM case_history h JOIN cases c ON c.code = h.code"
            f" WHERE h.note != '' AND c.name != '' AND c.status IN ({closed_statuses}) AND c.code IN ({closed})",
            (stamp,),
        ) as cur:
            rows = await cur.fetchall()
        changed = 0
        for row in rows:
            note = str(row["note"])
            for value in (str(row["name"]), str(row["phone"])):
                if value.strip():
                    note = note.replace(value, MASK)
            note = mask_digits(note)
            if note != row["note"]:
                await self.db.execute("UPDATE case_history SET note = ? WHERE id = ?", (note, row["id"]))
                changed += 1
        return changed
