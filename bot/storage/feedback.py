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
from bot.storage.scope import ReportScope

RATING_FIELDS = frozenset({"visits", "info", "attitude", "extra_fee", "comment", "contact_code"})
"""The answers a citizen adds after choosing a level; `contact_code` only when they agree to be contacted."""


@dataclass(frozen=True)
class RatingRow:
    """One rating as stored: nothing in it leads back to the case or the person, unless they
    agreed to be contacted (`contact_code`)."""

    id: int
    day: dt.date
    channel: str
    procedure: str
    office: str
    timeliness: str
    scale: int
    level: str
    visits: str | None
    info: str | None
    attitude: str | None
    extra_fee: str | None
    comment: str
    contact_code: str | None

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["id"], dt.date.fromisoformat(row["day"]), row["channel"], row["procedure"], row["office"],
                   row["timeliness"], int(row["scale"]), row["level"], row["visits"], row["info"], row["attitude"],
                   row["extra_fee"], row["comment"], row["contact_code"])


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
    async def rated(self, code: str) -> bool:
        """Whether the case was rated already (one rating per case)."""
        async with self.db.execute("SELECT 1 FROM rated_cases WHERE code = ?", (code,)) as cur:
            return await cur.fetchone() is not None

    async def rating(self, rating_id: int) -> RatingRow | None:
        async with self.db.execute("SELECT * FROM ratings WHERE id = ?", (rating_id,)) as cur:
            row = await cur.fetchone()
        return None if row is None else RatingRow.from_row(row)

    async def add_rating(self, code: str, channel: str, procedure: str, office: str, scale: int, level: str,
                         at: dt.datetime | None = None, timeliness: str = "") -> int | None:
        """The first rating of a case, as a row that does not name it; its id for the answers
        that follow, or None if the case was rated already. Only the day is kept: a time to
        the second could be matched with the conversation that gave it."""
        async with self.transaction():
            cur = await self.db.execute(f"{dialect.INSERT_OR_IGNORE} INTO rated_cases (code) VALUES (?)", (code,))
            if cur.rowcount != 1:
                return None
            async with self.db.execute(
                "INSERT INTO ratings (day, channel, procedure, office, timeliness, scale, level)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                ((at or now()).date().isoformat(), channel, procedure, office, timeliness, scale, level),
            ) as cur:
                row = await cur.fetchone()
        return int(row[0]) if row else None

    async def assign_ratings_office(self, code: str, name: str | None = None) -> int:
        """Ratings given before the offices were listed carry the desk's name as it was then, or
        nothing: give them the office's code, which reports filter by. Without a name, every
        rating not yet this office's (the one office of a deployment); with one, those that
        carry that name. A rating names no case, so nothing else can tell its office."""
        condition, params = ("office = ?", (code, name)) if name is not None else ("office != ?", (code, code))
        async with self.transaction():
            cur = await self.db.execute(f"UPDATE ratings SET office = ? WHERE {condition}", params)
        return max(cur.rowcount, 0)

    async def set_rating_field(self, rating_id: int, field: str, value: Any) -> None:
        """One answer of a rating; a comment is masked here as well as by the caller."""
        if field not in RATING_FIELDS:
            raise ValueError(f"not a rating field: {field}")
        if field == "comment" and isinstance(value, str):
            value = mask_digits(value)
        async with self.transaction():
            await self.db.execute(f"UPDATE ratings SET {field} = ? WHERE id = ?", (value, rating_id))

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

    async def rating_levels_by_day(self, scope: ReportScope) -> list[tuple[dt.date, str, int]]:
        """How many ratings of each level each day: the totals and the weekly chart add these up."""
        where, params = scope.where("day")
        async with self.db.execute(
            f"SELECT day, level, COUNT(*) AS n FROM ratings WHERE {where} GROUP BY day, level ORDER BY day", params
        ) as cur:
            return [(dt.date.fromisoformat(r["day"]), r["level"], int(r["n"])) for r in await cur.fetchall()]

    async def rating_answers(self, scope: ReportScope) -> dict[str, dict[str, int]]:
        """Each criterion's answers counted: {"visits": {"0": 12, "1": 3}, …}."""
        where, params = scope.where("day")
        parts = [f"SELECT '{key}' AS field, {key} AS answer, COUNT(*) AS n FROM ratings"
                 f" WHERE {where} AND {key} IS NOT NULL GROUP BY {key}" for key in ("visits", "info", "attitude",
                                                                                   "extra_fee", "timeliness")]
        out: dict[str, dict[str, int]] = {}
        async with self.db.execute(" UNION ALL ".join(parts), params * len(parts)) as cur:
            for r in await cur.fetchall():
                out.setdefault(r["field"], {})[r["answer"]] = int(r["n"])
        return out

    async def negative_ratings(self, scope: ReportScope, levels: frozenset[str], limit: int) -> list[RatingRow]:
        where, params = scope.where("day")
        async with self.db.execute(
            f"SELECT * FROM ratings WHERE {where} AND level IN ({dialect.literals(levels)}) ORDER BY day, id LIMIT ?",
            (*params, limit),
        ) as cur:
            return [RatingRow.from_row(row) for row in await cur.fetchall()]

    async def vote_tallies(self, scope: ReportScope) -> list[tuple[str | None, int, int]]:
        """(procedure, 👍, 👎) for the answers given in the period."""
        where, params = scope.where("at", office=False)
        async with self.db.execute(
            "SELECT procedure, SUM(CASE WHEN vote = 'up' THEN 1 ELSE 0 END) AS up,"
            f" SUM(CASE WHEN vote = 'down' THEN 1 ELSE 0 END) AS down FROM answer_votes WHERE {where}"
            " GROUP BY procedure ORDER BY procedure", params,
        ) as cur:
            return [(r["procedure"], int(r["up"]), int(r["down"])) for r in await cur.fetchall()]

    async def complaints(self, scope: ReportScope, limit: int) -> list[FeedbackRow]:
        where, params = scope.where("at", procedure=False, office=False)
        async with self.db.execute(
            f"SELECT * FROM feedback WHERE {where} AND kind = 'complaint' ORDER BY at LIMIT ?", (*params, limit)
        ) as cur:
            return [FeedbackRow.from_row(row) for row in await cur.fetchall()]

    async def unanswered_between(self, scope: ReportScope, limit: int) -> list[tuple[str, int, str | None]]:
        """What citizens asked that the bot could not answer (or answered unsure), most asked
        first: (text as logged, masked; times asked; the closest procedure)."""
        where, params = scope.where("at", procedure=False, office=False)
        async with self.db.execute(
            f"SELECT text, COUNT(*) AS n, MAX(procedure) AS procedure FROM questions WHERE {where}"
            " AND answered = 0 AND text != '' GROUP BY text ORDER BY n DESC, MAX(at) DESC LIMIT ?", (*params, limit),
        ) as cur:
            return [(r["text"], int(r["n"]), r["procedure"]) for r in await cur.fetchall()]

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
