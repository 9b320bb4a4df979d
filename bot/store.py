"""The SQLite store: schema, migrations and every query the domain needs, behind one class.

Conversation state lives here, never only in memory, so a restart mid-conversation continues
where it was. The schema is versioned: each migration runs once, in order, inside a
transaction, and `PRAGMA user_version` records how far a database has come.

Durability: WAL journal, `synchronous=NORMAL`. A committed transaction survives the process
being killed at any moment (it is in the WAL file); only an operating-system crash or power
loss can lose the last few commits, which is the usual trade for a chat service that must
answer hundreds of messages a second on one core.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import json
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import aiosqlite

MIGRATIONS: list[str] = [
    # 1: conversation state and the question log
    """
    CREATE TABLE conversations (
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, user)
    );
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        channel TEXT NOT NULL,
        text TEXT NOT NULL,
        intent TEXT NOT NULL,
        procedure TEXT,
        aspect TEXT,
        confidence REAL NOT NULL,
        answered INTEGER NOT NULL
    );
    CREATE INDEX questions_at ON questions(at);
    CREATE TABLE handoffs (
        ref TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        at TEXT NOT NULL
    );
    """,
]


def now() -> dt.datetime:
    """Local wall-clock time without zone: the office works in one time zone."""
    return dt.datetime.now().replace(microsecond=0)


class Store:
    """One open database; create with `await Store.open(path)`."""

    def __init__(self, db: aiosqlite.Connection):
        self.db = db
        self._lock = asyncio.Lock()
        self._in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar("in_tx", default=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All writes inside commit together or not at all.

        One connection serves every coroutine, so transactions take turns; a transaction
        opened inside another (same task) joins it.
        """
        if self._in_tx.get():
            yield
            return
        async with self._lock:
            token = self._in_tx.set(True)
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await self.db.execute("ROLLBACK")
                    raise
                await self.db.execute("COMMIT")
            finally:
                self._in_tx.reset(token)

    @classmethod
    async def open(cls, path: Path | str) -> "Store":
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db)
        await store.migrate()
        return store

    async def close(self) -> None:
        await self.db.close()

    async def migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], version + 1):
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in filter(str.strip, script.split(";")):
                    await self.db.execute(statement)
                await self.db.execute(f"PRAGMA user_version={number}")
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    # conversation state

    async def get_state(self, channel: str, user: str) -> dict[str, Any]:
        async with self.db.execute(
            "SELECT state FROM conversations WHERE channel = ? AND user = ?", (channel, user)
        ) as cur:
            row = await cur.fetchone()
        return json.loads(row["state"]) if row else {}

    async def save_state(self, channel: str, user: str, state: dict[str, Any]) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO conversations (channel, user, state, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, user) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (channel, user, json.dumps(state, ensure_ascii=False), now().isoformat()),
            )

    async def add_handoff(self, channel: str, user: str) -> str:
        """A short reference staff can quote to answer a citizen who asked for a person."""
        async with self.transaction():
            while True:
                ref = "H" + secrets.token_hex(3).upper()
                async with self.db.execute("SELECT 1 FROM handoffs WHERE ref = ?", (ref,)) as cur:
                    if await cur.fetchone() is None:
                        break
            await self.db.execute(
                "INSERT INTO handoffs (ref, channel, user, at) VALUES (?, ?, ?, ?)",
                (ref, channel, user, now().isoformat()),
            )
        return ref

    # question log

    async def log_question(
        self, channel: str, text: str, intent: str, procedure: str | None, aspect: str | None,
        confidence: float, answered: bool,
    ) -> int:
        async with self.transaction():
            cur = await self.db.execute(
                "INSERT INTO questions (at, channel, text, intent, procedure, aspect, confidence, answered)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now().isoformat(), channel, text, intent, procedure, aspect, confidence, int(answered)),
            )
        return int(cur.lastrowid or 0)

    async def unanswered(self, since: dt.datetime, limit: int = 50) -> list[aiosqlite.Row]:
        """Questions the bot could not answer or answered unsure, most frequent first."""
        async with self.db.execute(
            "SELECT text, COUNT(*) AS n, MAX(intent) AS intent, MAX(procedure) AS procedure,"
            " ROUND(AVG(confidence), 2) AS confidence FROM questions"
            " WHERE at >= ? AND answered = 0 GROUP BY text ORDER BY n DESC, MAX(at) DESC LIMIT ?",
            (since.isoformat(), limit),
        ) as cur:
            return list(await cur.fetchall())
