"""What citizens think: satisfaction ratings of cases, votes on answers, feedback messages.

Ratings carry no user identifier (they are confidential, ND 118 art. 29), one per case; an
answer gets one vote. Reports read each kind for a period through its own typed query.
Free text (feedback, rating comments) is masked as it is written (`bot.privacy.mask_digits`):
it carries no user link, so "delete my data" cannot find it; the purge blanks it once old.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Self

import aiosqlite

from bot.clock import now
from bot.privacy import mask_digits
from bot.storage import dialect
from bot.storage.db import Database

RATING_FIELDS = frozenset({"visits", "info", "attitude", "extra_fee", "comment", "contact_ok"})
"""The answers a citizen adds after choosing a level."""


@dataclass(frozen=True)
class RatingRow:
    id: int
    code: str | None
    at: dt.datetime
    channel: str
    procedure: str
    office: str
    scale: int
    level: str
    visits: str | None
    info: str | None
    attitude: str | None
    extra_fee: str | None
    comment: str
    contact_ok: bool

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["id"], row["code"], dt.datetime.fromisoformat(row["at"]), row["channel"], row["procedure"],
                   row["office"], int(row["scale"]), row["level"], row["visits"], row["info"], row["attitude"],
                   row["extra_fee"], row["comment"], bool(row["contact_ok"]))


@dataclass(frozen=True)
class VoteRow:
    question_id: int
    at: dt.datetime
    channel: str
    procedure: str | None
    vote: str

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["question_id"], dt.datetime.fromisoformat(row["at"]), row["channel"], row["procedure"],
                   row["vote"])


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    at: dt.datetime
    channel: str
    kind: str
    text: str

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["id"], dt.datetime.fromisoformat(row["at"]), row["channel"], row["kind"], row["text"])


class FeedbackQueries(Database):
    async def rating(self, code: str) -> RatingRow | None:
        async with self.db.execute("SELECT * FROM ratings WHERE code = ?", (code,)) as cur:
            row = await cur.fetchone()
        return None if row is None else RatingRow.from_row(row)

    async def add_rating(self, code: str, channel: str, procedure: str, office: str, scale: int, level: str,
                         at: dt.datetime | None = None) -> bool:
        """The first rating of a case; False if the case was rated already (one per case)."""
        async with self.transaction():
            cur = await self.db.execute(
                f"{dialect.INSERT_OR_IGNORE} INTO ratings (code, at, channel, procedure, office, scale, level)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (code, (at or now()).isoformat(), channel, procedure, office, scale, level),
            )
        return cur.rowcount == 1

    async def set_rating_field(self, code: str, field: str, value: Any) -> None:
        """One answer of a rating; a comment is masked here as well as by the caller."""
        if field not in RATING_FIELDS:
            raise ValueError(f"not a rating field: {field}")
        if field == "comment" and isinstance(value, str):
            value = mask_digits(value)
        async with self.transaction():
            await self.db.execute(f"UPDATE ratings SET {field} = ? WHERE code = ?", (value, code))

    async def vote(self, question_id: int, channel: str, vote: str) -> bool:
        """One vote per answer; False if this answer was voted on already."""
        async with self.transaction():
            cur = await self.db.execute(
                f"{dialect.INSERT_OR_IGNORE} INTO answer_votes (question_id, at, channel, procedure, vote)"
                " SELECT id, ?, ?, procedure, ? FROM questions WHERE id = ?",
                (now().isoformat(), channel, vote, question_id),
            )
        return cur.rowcount == 1

    async def add_feedback(self, channel: str, kind: str, text: str) -> None:
        """A complaint or suggestion, masked here as well as by the caller."""
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO feedback (at, channel, kind, text) VALUES (?, ?, ?, ?)",
                (now().isoformat(), channel, kind, mask_digits(text)),
            )

    async def ratings_between(self, start: dt.datetime, end: dt.datetime) -> list[RatingRow]:
        async with self.db.execute(
            "SELECT * FROM ratings WHERE at >= ? AND at < ? ORDER BY at", (start.isoformat(), end.isoformat())
        ) as cur:
            return [RatingRow.from_row(row) for row in await cur.fetchall()]

    async def votes_between(self, start: dt.datetime, end: dt.datetime) -> list[VoteRow]:
        async with self.db.execute(
            "SELECT * FROM answer_votes WHERE at >= ? AND at < ? ORDER BY at", (start.isoformat(), end.isoformat())
        ) as cur:
            return [VoteRow.from_row(row) for row in await cur.fetchall()]

    async def feedback_between(self, start: dt.datetime, end: dt.datetime) -> list[FeedbackRow]:
        async with self.db.execute(
            "SELECT * FROM feedback WHERE at >= ? AND at < ? ORDER BY at", (start.isoformat(), end.isoformat())
        ) as cur:
            return [FeedbackRow.from_row(row) for row in await cur.fetchall()]
