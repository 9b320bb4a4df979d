"""Conversations: each chat's state, requests for a person (handoffs), and the question log.

State is kept per (channel, user) and saved after every turn, so a restart continues a
conversation where it was. The question log holds no user identifier: it feeds the
"what could the bot not answer" list and the answer votes, and stays after a citizen asks to
be forgotten. Its texts cannot be found by user, so what identifies a person in them is masked
as they are written (`bot.privacy.mask_digits`), and the purge blanks them once old.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any, Self

import aiosqlite

from bot.clock import now
from bot.privacy import mask_digits
from bot.state import ConversationState
from bot.storage.db import Database


@dataclass(frozen=True)
class HandoffRow:
    ref: str
    channel: str
    user: str
    at: dt.datetime
    office_code: str = ""

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["ref"], row["channel"], row["user"], dt.datetime.fromisoformat(row["at"]), row["office_code"])


@dataclass(frozen=True)
class QuestionRow:
    id: int
    at: dt.datetime
    channel: str
    text: str
    intent: str
    procedure: str | None
    aspect: str | None
    confidence: float
    answered: bool

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["id"], dt.datetime.fromisoformat(row["at"]), row["channel"], row["text"], row["intent"],
                   row["procedure"], row["aspect"], float(row["confidence"]), bool(row["answered"]))


@dataclass(frozen=True)
class UnansweredRow:
    """One distinct question text the bot could not answer, with how often it was asked."""

    text: str
    n: int
    intent: str
    procedure: str | None
    confidence: float

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["text"], int(row["n"]), row["intent"], row["procedure"], float(row["confidence"]))


class ConversationQueries(Database):
    async def get_state(self, channel: str, user: str) -> dict[str, Any]:
        """The stored JSON form of a `bot.state.ConversationState`; the dialog reads it as one."""
        async with self.db.execute(
            "SELECT state FROM conversations WHERE channel = ? AND user = ?", (channel, user)
        ) as cur:
            row = await cur.fetchone()
        state: dict[str, Any] = json.loads(row["state"]) if row else {}
        return state

    async def save_state(self, channel: str, user: str, state: dict[str, Any]) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO conversations (channel, user, state, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, user) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (channel, user, json.dumps(state, ensure_ascii=False), now().isoformat()),
            )

    async def set_choices(self, channel: str, user: str, actions: list[str]) -> None:
        """A message sent outside a turn (a notification) offered these buttons: on platforms
        without buttons, the numbers the citizen types next refer to them. A turn of the citizen
        under way (in any process) finishes first: its save would overwrite these choices."""
        async with self.conversation(channel, user), self.transaction():
            state = ConversationState.from_json(await self.get_state(channel, user))
            state.choices = actions
            await self.save_state(channel, user, state.to_json())

    async def add_handoff(self, channel: str, user: str, office_code: str = "") -> str:
        """A short reference staff can quote to answer a citizen who asked for a person; it
        belongs to the office that serves them, '' when the conversation does not tell."""
        async with self.transaction():
            while True:
                ref = "H" + secrets.token_hex(3).upper()
                async with self.db.execute("SELECT 1 FROM handoffs WHERE ref = ?", (ref,)) as cur:
                    if await cur.fetchone() is None:
                        break
            await self.db.execute(
                "INSERT INTO handoffs (ref, channel, user, at, office_code) VALUES (?, ?, ?, ?, ?)",
                (ref, channel, user, now().isoformat(), office_code),
            )
        return ref

    async def handoff(self, ref: str) -> HandoffRow | None:
        async with self.db.execute("SELECT * FROM handoffs WHERE ref = ?", (ref.upper(),)) as cur:
            row = await cur.fetchone()
        return None if row is None else HandoffRow.from_row(row)

    async def log_question(
        self, channel: str, text: str, intent: str, procedure: str | None, aspect: str | None,
        confidence: float, answered: bool,
    ) -> int:
        """Logs a question, masked here as well as by the caller: no caller can store it unmasked."""
        async with self.transaction(), self.db.execute(
            "INSERT INTO questions (at, channel, text, intent, procedure, aspect, confidence, answered)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (now().isoformat(), channel, mask_digits(text), intent, procedure, aspect, confidence, int(answered)),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def question(self, question_id: int) -> QuestionRow | None:
        async with self.db.execute("SELECT * FROM questions WHERE id = ?", (question_id,)) as cur:
            row = await cur.fetchone()
        return None if row is None else QuestionRow.from_row(row)

    async def unanswered(self, since: dt.datetime, limit: int = 50) -> list[UnansweredRow]:
        """Questions the bot could not answer or answered unsure, most frequent first (not those
        whose text the purge blanked)."""
        async with self.db.execute(
            "SELECT text, COUNT(*) AS n, MAX(intent) AS intent, MAX(procedure) AS procedure,"
            " ROUND(AVG(confidence), 2) AS confidence FROM questions"
            " WHERE at >= ? AND answered = 0 AND text != '' GROUP BY text ORDER BY n DESC, MAX(at) DESC LIMIT ?",
            (since.isoformat(), limit),
        ) as cur:
            return [UnansweredRow.from_row(row) for row in await cur.fetchall()]
