"""The database: opening it (a SQLite file, or PostgreSQL through `postgres.py`), transactions,
a citizen's turns one at a time, the versioned schema, backup.

Conversation state lives here, never only in memory, so a restart mid-conversation continues
where it was. The schema is versioned: each migration runs once, in order, inside a
transaction, and `PRAGMA user_version` (on PostgreSQL the table `motcua_schema`) records how far
a database has come. Migrations are `.sql` files in `migrations/`, numbered from 0001, read from
the installed package, written in SQLite's words and translated for PostgreSQL (`dialect.py`).

Durability: WAL journal, `synchronous=NORMAL`. A committed transaction survives the process
being killed at any moment (it is in the WAL file); only an operating-system crash or power
loss can lose the last few commits, which is the usual trade for a chat service that must
answer hundreds of messages a second on one core.

Sharing: the bot and the staff CLI write the same file from different processes. A writer
waits its turn (`BEGIN IMMEDIATE` under the busy timeout) instead of failing, which holds only
while the connection has no read transaction of its own open: SQLite cannot upgrade a read
snapshot that another process's commit has made stale, and says `database is locked` at once
without waiting. So every statement here is run to its end in one step on the connection's
thread (see `SharedConnection`), and no read transaction survives an `await`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Protocol, Self

import aiosqlite
import asyncpg
from aiosqlite.context import Result

from bot.locks import KeyedLock
from bot.storage import dialect, postgres

BUSY_TIMEOUT_SECONDS = 5.0
"""How long a connection waits for another one's write transaction before giving up; set when
the connection opens, so it is in force from the first statement (even the WAL switch), and
the same value as the `busy_timeout` pragma in `dialect.CONNECTION_SETTINGS`. A staff command
or a turn holds the write lock for milliseconds; five seconds covers a large CSV import."""


class StorageError(Exception):
    """A database or backup file that cannot be used, said for a person (Vietnamese first) with
    the file's name: the command stops with it instead of a traceback or a hang."""


def sidecars(database: Path) -> tuple[Path, ...]:
    """The database file and the files SQLite keeps beside it; writing over any of them
    destroys the live data."""
    return tuple(Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm", "-journal"))


def is_database_file(path: Path, database: Path) -> bool:
    """Whether `path` is the database or one of its side files, however it is spelt (relative,
    `..`, a symbolic link or a hard link)."""
    if str(database) == ":memory:":
        return False
    target = path.expanduser().resolve()
    for own in sidecars(database.expanduser().resolve()):
        if target == own:
            return True
        try:
            if os.path.samefile(target, own):
                return True
        except OSError:
            continue
    return False


class _FetchedCursor(aiosqlite.Cursor):
    """A cursor whose rows were all read when its statement ran: fetching never goes back to
    SQLite, so the statement is finished and holds no read transaction between awaits."""

    def __init__(self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor, rows: list[sqlite3.Row]) -> None:
        super().__init__(conn, cursor)
        self._rows = rows

    async def fetchone(self) -> sqlite3.Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[sqlite3.Row]:
        size = self.arraysize if size is None else size
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list[sqlite3.Row]:
        rows, self._rows = self._rows, []
        return rows


def _run_to_end(conn: sqlite3.Connection, sql: str, parameters: Any) -> tuple[sqlite3.Cursor, list[sqlite3.Row]]:
    """On the connection's thread: the statement with all its rows, in one step."""
    cursor = conn.execute(sql, parameters)
    return cursor, cursor.fetchall()


class SharedConnection(aiosqlite.Connection):
    """The connection every coroutine of the process shares.

    aiosqlite's own `execute` leaves a SELECT open after its first row, and the next
    `fetchone` is a separate call on the connection's thread. While one turn sat between the
    two, another turn's `BEGIN IMMEDIATE` ran inside the first one's read snapshot; if the CLI
    had committed meanwhile, SQLite refused at once with `database is locked` (busy_timeout
    does not apply to upgrading a stale snapshot), and the citizen got an apology. Here a
    statement and all its rows are one call: results are small (one conversation, one case, a
    report's rows), so holding them in memory costs nothing worth the failure.
    """

    shared = False
    """One process serves from a SQLite file: its turns are ordered in memory."""

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Result[aiosqlite.Cursor]:
        return Result(self._execute_to_end(sql, parameters))

    async def _execute_to_end(self, sql: str, parameters: Iterable[Any] | None) -> aiosqlite.Cursor:
        on_thread: Callable[..., Awaitable[tuple[sqlite3.Cursor, list[sqlite3.Row]]]] = self._execute
        cursor, rows = await on_thread(_run_to_end, self._conn, sql, [] if parameters is None else parameters)
        return _FetchedCursor(self, cursor, rows)

    @asynccontextmanager
    async def begin(self, lock: asyncio.Lock | None = None) -> AsyncIterator[None]:
        """The write lock from the start (`BEGIN IMMEDIATE`); the process's transactions take turns
        on `lock`, as they share this one connection."""
        async with lock or asyncio.Lock():
            await self.execute(dialect.BEGIN)
            try:
                yield
            except BaseException:
                await self.execute("ROLLBACK")
                raise
            await self.execute("COMMIT")

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Nothing to hold across processes: the bot is the one process serving this file."""
        yield

    async def lock_schema(self) -> None:
        """`BEGIN IMMEDIATE` already keeps another process out while a migration runs."""

    async def schema_version(self) -> int:
        async with self.execute(dialect.SCHEMA_VERSION) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def set_schema_version(self, number: int) -> None:
        await self.execute(dialect.set_schema_version(number))

    async def prepare(self) -> None:
        """Nothing beyond the migrations."""

    async def listen(self, on_due: Callable[[], None]) -> None:
        """Nothing to listen to: the bot's own commits wake its notifier, and those the CLI makes
        from another process are found at the notifier's next pass."""

    def leadership(self, name: str) -> SoleLeader:
        return SoleLeader()


class SoleLeader:
    """On SQLite one process serves the database, so it polls every platform it runs."""

    async def try_take(self) -> bool:
        return True

    async def take(self) -> None:
        return None

    async def release(self) -> None:
        return None


class Leadership(Protocol):
    async def try_take(self) -> bool: ...
    async def take(self) -> None: ...
    async def release(self) -> None: ...


class Connection(Protocol):
    """What the stores use of a database connection, SQLite's or PostgreSQL's."""

    shared: bool

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Result[aiosqlite.Cursor]: ...
    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Awaitable[Any]: ...
    def begin(self, lock: asyncio.Lock | None = None) -> AbstractAsyncContextManager[None]: ...
    def hold(self, key: str) -> AbstractAsyncContextManager[None]: ...
    async def lock_schema(self) -> None: ...
    async def schema_version(self) -> int: ...
    async def set_schema_version(self, number: int) -> None: ...
    async def prepare(self) -> None: ...
    async def listen(self, on_due: Callable[[], None]) -> None: ...
    def leadership(self, name: str) -> Leadership: ...
    async def close(self) -> None: ...


def connect(path: Path | str) -> SharedConnection:
    """Like `aiosqlite.connect`, with statements run to their end and the busy timeout set."""
    location = str(path)
    connector = functools.partial(sqlite3.connect, location, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    return SharedConnection(connector, iter_chunk_size=64)


def _describe(error: BaseException) -> str:
    """Why a database cannot be used, in Vietnamese, from SQLite's or the system's words."""
    text = str(error)
    if isinstance(error, IsADirectoryError):
        return "đó là một thư mục, không phải tệp (is a directory)"
    if isinstance(error, PermissionError) or "readonly" in text or "read-only" in text:
        return f"không có quyền đọc và ghi tệp ({text})"
    if "not a database" in text:
        return f"tệp không phải cơ sở dữ liệu SQLite ({text})"
    if "malformed" in text or "corrupt" in text:
        return f"tệp bị hỏng ({text})"
    if "locked" in text or "busy" in text:
        return f"một chương trình khác đang khoá tệp ({text})"
    if "unable to open" in text:
        return f"không mở được tệp: thư mục không tồn tại, là thư mục, hoặc không có quyền ({text})"
    return text


def _unusable(path: Path | str, error: BaseException) -> StorageError:
    return StorageError(f"Không dùng được cơ sở dữ liệu {path}: {_describe(error)}. "
                        f"(Cannot use the database {path}.)")


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
    """One open database, a SQLite file or a PostgreSQL one; the query groups in this package build on it."""

    def __init__(self, db: Connection):
        self.db = db
        self._lock = asyncio.Lock()
        self.outbox_listeners: list[Callable[[], None]] = []
        """Called after a commit that added outbox rows (the notifier wakes at once)."""
        self._in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar("in_tx", default=False)
        self._conversations = KeyedLock()
        self._held: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("held", default=frozenset())
        self.path: Path | None = None
        """The database file, when opened from one (a backup must never land on it)."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """All writes inside commit together or not at all.

        On SQLite one connection serves every coroutine, so transactions take turns; on
        PostgreSQL each has its own connection. A transaction opened inside another (same task)
        joins it.
        """
        if self._in_tx.get():
            yield
            return
        async with self.db.begin(self._lock):
            token = self._in_tx.set(True)
            try:
                yield
            finally:
                self._in_tx.reset(token)

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[None]:
        """A block that writes with one statement, atomic by itself. On PostgreSQL it runs on this
        task's own connection and commits alone, without the two round trips of BEGIN and COMMIT;
        on SQLite it is a transaction, as the process's coroutines share one connection and a
        statement run while another's transaction is open there would join it."""
        if self.db.shared:
            yield
            return
        async with self.transaction():
            yield

    @asynccontextmanager
    async def in_process(self, key: str) -> AsyncIterator[bool]:
        """This process's part of holding a conversation: its other tasks wait, and none of them
        waits for the other processes while holding a connection. True unless this task held it
        already (then the holder is further up this task's calls, and nothing is taken again)."""
        held = self._held.get()
        if key in held:
            yield False
            return
        async with self._conversations.hold(key):
            token = self._held.set(held | {key})
            try:
                yield True
            finally:
                self._held.reset(token)

    @property
    def in_transaction(self) -> bool:
        """Whether this task has a transaction open (`transaction`)."""
        return self._in_tx.get()

    @property
    def skip_locked(self) -> str:
        """Ends a SELECT of rows this transaction claims: other processes pass over them instead of
        claiming them too. SQLite's writers take turns, so it needs nothing."""
        return " FOR UPDATE SKIP LOCKED" if self.db.shared else ""

    @property
    def for_update(self) -> str:
        """Ends a SELECT of rows this transaction will change based on what it read: another
        process's change to them waits for this commit (SQLite's writers take turns already)."""
        return " FOR UPDATE" if self.db.shared else ""

    def leadership(self, name: str) -> Leadership:
        """The right to be the one process that does `name` (polls a platform)."""
        return self.db.leadership(name)

    async def watch_outbox(self) -> None:
        """Wake the notifier when any process adds or releases a notification (PostgreSQL's
        NOTIFY); on SQLite this process's own commits wake it, the CLI's wait for its next pass."""
        await self.db.listen(self._outbox_changed)

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """The database ready to use, or `StorageError` naming it and why.

        `path` is a SQLite file or a `postgresql://` URL. Whatever fails (not a SQLite file, a
        folder, no permission, locked, corrupt, no server), the connection is closed before
        raising: its worker thread or pool would otherwise keep the process alive after the
        error, and every command would hang instead of exiting.
        """
        if postgres.is_url(path):
            return await cls._open_postgres(str(path))
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                if Path(path).is_dir():
                    raise IsADirectoryError(str(path))
            db = connect(path)
            await db
        except (sqlite3.Error, OSError) as exc:
            raise _unusable(path, exc) from exc
        try:
            db.row_factory = aiosqlite.Row
            for setting in dialect.CONNECTION_SETTINGS:
                await db.execute(setting)
            store = cls(db)
            store.path = None if str(path) == ":memory:" else Path(path)
            await store.migrate()
        except BaseException as exc:
            await db.close()
            if isinstance(exc, sqlite3.Error | OSError):
                raise _unusable(path, exc) from exc
            raise
        return store

    @classmethod
    async def _open_postgres(cls, url: str) -> Self:
        try:
            db = await postgres.PgConnection.open(url)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"Không kết nối được cơ sở dữ liệu {postgres.safe_url(url)}: {exc}. "
                               f"(Cannot use the PostgreSQL database.)") from exc
        try:
            store = cls(db)
            await store.migrate()
            await db.prepare()
        except BaseException as exc:
            await db.close()
            if isinstance(exc, asyncpg.PostgresError):
                raise StorageError(f"Không dùng được cơ sở dữ liệu {postgres.safe_url(url)}: {exc}. "
                                   f"(Cannot use the PostgreSQL database.)") from exc
            raise
        return store

    async def close(self) -> None:
        await self.db.close()

    async def migrate(self, scripts: Sequence[str] = MIGRATIONS) -> None:
        """Each migration not yet run, in its own transaction; a process starting at the same
        moment waits for it, then finds it done."""
        version = await self.schema_version()
        for number, script in enumerate(scripts[version:], version + 1):
            async with self.db.begin(self._lock):
                await self.db.lock_schema()
                if await self.schema_version() >= number:
                    continue
                for statement in split_statements(script):
                    await self.db.execute(statement)
                await self.db.set_schema_version(number)

    async def schema_version(self) -> int:
        return await self.db.schema_version()

    async def backup(self, target: Path) -> None:
        """A consistent copy while the bot keeps running, under `target` only once complete.

        `VACUUM INTO` reads the whole database in one read transaction, so the copy is one
        snapshot and the bot's commits meanwhile neither disturb nor restart it. (SQLite's
        online backup, used before, started over after every commit between two of its
        steps, and never finished while the bot was busy.) The copy is written under a
        temporary name in the target's folder, flushed to disk, then renamed: a backup
        killed half-way leaves a `.tmp` file, never a broken file under the name a restore
        would copy back.
        """
        if self.db.shared:
            raise StorageError("Cơ sở dữ liệu PostgreSQL được sao lưu bằng pg_dump (xem README). "
                               "(Back up PostgreSQL with pg_dump.)")
        if self.path is not None and is_database_file(target, self.path):
            raise StorageError(f"Không sao lưu đè lên chính cơ sở dữ liệu {target}; hãy chọn tệp khác. "
                               f"(Refusing to back up over the live database.)")
        if target.is_dir():
            raise StorageError(f"{target} là một thư mục; hãy cho tên tệp sao lưu. (The backup target is a directory.)")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise StorageError(f"Không ghi được vào thư mục {target.parent}: {exc}. "
                               f"(Cannot write the backup.)") from exc
        os.close(fd)
        temporary = Path(name)
        try:
            async with self._lock:       # no transaction of ours is open: VACUUM cannot run inside one
                await self.db.execute("VACUUM INTO ?", (str(temporary),))
            await asyncio.to_thread(_flush_to_disk, temporary)
            os.replace(temporary, target)
            await asyncio.to_thread(_flush_to_disk, target.parent)
        except BaseException as exc:
            temporary.unlink(missing_ok=True)
            if isinstance(exc, sqlite3.Error | OSError):
                raise StorageError(f"Sao lưu vào {target} thất bại: {exc}. (The backup failed; "
                                   f"nothing was written under {target.name}.)") from exc
            raise

    def _outbox_changed(self) -> None:
        for listener in self.outbox_listeners:
            listener()


def _flush_to_disk(path: Path) -> None:
    """fsync a file or a folder (so a rename in it survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
