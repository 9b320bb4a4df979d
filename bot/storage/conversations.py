"""Conversations: each chat's state, requests for a person (handoffs), and the question log.

State is kept per (channel, user) and saved after every turn, so a restart continues a
conversation where it was. The question log holds no user identifier: it feeds the
"what could the bot not answer" list and the answer votes, and stays after a citizen asks to
be forgotten. Its texts cannot be found by user, so what identifies a person in them is masked
as they are written (`bot.privacy.mask_digits`), and the purge blanks them once old.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Self

import aiosqlite

from bot.clock import now
from bot.privacy import mask_digits
from bot.state import ConversationState
from bot.storage.db import Database
from bot.storage.postgres import HeldTurn, PgConnection


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


@dataclass
class HeldConversation:
    """A citizen's conversation held for one turn (`ConversationQueries.turn`)."""

    state: dict[str, Any]
    """The stored JSON form of a `bot.state.ConversationState` when the turn began ({} at first)."""
    save: dict[str, Any] | None = None
    """What to store as the turn ends; None leaves the stored state as it is (a failed turn, a
    citizen just forgotten)."""


_pg_turn: contextvars.ContextVar[tuple[HeldTurn, asyncio.Task[Any] | None] | None] = \
    contextvars.ContextVar("pg_turn", default=None)
"""The turn on PostgreSQL this task is taking, whose end writes what it logs (not a task it starts)."""


class ConversationQueries(Database):
    @asynccontextmanager
    async def turn(self, channel: str, user: str) -> AsyncIterator[HeldConversation]:
        """A turn of one citizen: their conversation held, one turn at a time in this process and in
        any other on the same database (held already by this task, it is held again at no cost: a
        turn may send a notification's buttons), its state read, and the state the turn leaves
        saved before the next turn may read it.

        On PostgreSQL this is two round trips (`PgConnection.turn`), where lock, read, write and
        unlock one by one were six with the write's BEGIN and COMMIT; a question logged in the
        turn is written by the second (`log_question`). Inside a transaction, or
        in a turn of the same citizen already under way in this task, it is the same steps one
        by one, as the end of the two may not commit."""
        key = f"{channel}:{user}"
        async with self.in_process(key) as first:
            if first and not self.in_transaction and isinstance(self.db, PgConnection):
                async with self.db.turn(key, channel, user) as pg:
                    token = _pg_turn.set((pg, asyncio.current_task()))
                    try:
                        held = HeldConversation(json.loads(pg.stored) if pg.stored else {})
                        yield held
                        if held.save is not None:
                            pg.save = (json.dumps(held.save, ensure_ascii=False), now().isoformat())
                    finally:
                        _pg_turn.reset(token)
                return
            async with self.db.hold(key) if first else nullcontext():
                held = HeldConversation(await self.get_state(channel, user))
                yield held
                if held.save is not None:
                    await self.save_state(channel, user, held.save)

    async def get_state(self, channel: str, user: str) -> dict[str, Any]:
        """The stored JSON form of a `bot.state.ConversationState`; the dialog reads it as one."""
        async with self.db.execute(
            "SELECT state FROM conversations WHERE channel = ? AND user = ?", (channel, user)
        ) as cur:
            row = await cur.fetchone()
        state: dict[str, Any] = json.loads(row["state"]) if row else {}
        return state

    async def save_state(self, channel: str, user: str, state: dict[str, Any]) -> None:
        async with self.statement():
            await self.db.execute(
                "INSERT INTO conversations (channel, user, state, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, user) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (channel, user, json.dumps(state, ensure_ascii=False), now().isoformat()),
            )

    async def set_choices(self, channel: str, user: str, actions: list[str]) -> None:
        """A message sent outside a turn (a notification) offered these buttons: on platforms
        without buttons, the numbers the citizen types next refer to them. A turn of the citizen
        under way (in any process) finishes first: its save would overwrite these choices."""
        async with self.turn(channel, user) as held:
            state = ConversationState.from_json(held.state)
            state.choices = actions
            held.save = state.to_json()

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
        """Logs a question, masked here as well as by the caller: no caller can store it unmasked.
        In a turn on PostgreSQL it is written with the turn's state as the turn ends, under an
        id known now (the reply's vote buttons carry it)."""
        turn = _pg_turn.get()
        if turn is not None and turn[1] is asyncio.current_task() and isinstance(self.db, PgConnection):
            question_id = await self.db.next_id("questions")
            turn[0].questions.append({
                "id": question_id, "at": now().isoformat(), "channel": channel, "text": mask_digits(text),
                "intent": intent, "procedure": procedure, "aspect": aspect, "confidence": confidence,
                "answered": int(answered)})
            return question_id
        async with self.statement(), self.db.execute(
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
