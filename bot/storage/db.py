"""The SQLite connection: opening it, transactions, the versioned schema, backup.

Conversation state lives here, never only in memory, so a restart mid-conversation continues
where it was. The schema is versioned: each migration runs once, in order, inside a
transaction, and `PRAGMA user_version` records how far a database has come. Migrations are
`.sql` files in `migrations/`, numbered from 0001, read from the installed package.

Durability: WAL journal, `synchronous=NORMAL`. A committed transaction survives the process
being killed at any moment (it is in the WAL file); only an operating-system crash or power
loss can lose the last few commits, which is the usual trade for a chat service that must
answer hundreds of messages a second on one core.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Self

import aiosqlite

from bot.storage import dialect


def split_statements(script: str) -> Iterator[str]:
    """The statements of a script, each whole: a `;` inside a string literal or a trigger body
    does not end one. A statement ends at the end of a line, as SQLite itself judges it."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if any(line.strip() and not line.strip().startswith("--") for line in pending.splitlines()):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending.strip()[:80]!r}")


def load_migrations(folder: Traversable | Path | None = None) -> list[str]:
    """The scripts of `NNNN_name.sql` files in order; numbering must run 0001, 0002, … without gaps."""
    folder = folder or resources.files("bot.storage") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    for number, file in enumerate(files, 1):
        if not file.name.startswith(f"{number:04d}_"):
            raise ValueError(f"migration {file.name} is out of sequence: expected {number:04d}_*.sql")
    return [file.read_text(encoding="utf-8") for file in files]


MIGRATIONS = load_migrations()


class Database:
    """One open connection; the query groups in this package build on it."""

    def __init__(self, db: aiosqlite.Connection):
        self.db = db
        self._lock = asyncio.Lock()
        self.outbox_listeners: list[Callable[[], None]] = []
        """Called after a commit that added outbox rows (the notifier wakes at once)."""
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
                await self.db.execute(dialect.BEGIN)
                try:
                    yield
                except BaseException:
                    await self.db.execute("ROLLBACK")
                    raise
                await self.db.execute("COMMIT")
            finally:
                self._in_tx.reset(token)

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        db.row_factory = aiosqlite.Row
        for setting in dialect.CONNECTION_SETTINGS:
            await db.execute(setting)
        store = cls(db)
        await store.migrate()
        return store

    async def close(self) -> None:
        await self.db.close()

    async def migrate(self, scripts: Sequence[str] = MIGRATIONS) -> None:
        version = await self.schema_version()
        for number, script in enumerate(scripts[version:], version + 1):
            await self.db.execute(dialect.BEGIN)
            try:
                for statement in split_statements(script):
                    await self.db.execute(statement)
                await self.db.execute(dialect.set_schema_version(number))
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise

    async def schema_version(self) -> int:
        async with self.db.execute(dialect.SCHEMA_VERSION) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def backup(self, target: Path) -> None:
        """A consistent copy while the bot keeps running (SQLite's online backup)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(str(target)) as dest:
            await self.db.backup(dest, pages=256, sleep=0.01)

    def _outbox_changed(self) -> None:
        for listener in self.outbox_listeners:
            listener()
