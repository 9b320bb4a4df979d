"""PostgreSQL: the database several `motcua run` processes share once one SQLite file is outgrown.

The query modules stay written once, in SQLite's words, and run here through `dialect.to_postgres`.
This connection answers like the SQLite one (`execute` → a cursor with its rows, `rowcount`), so
the stores above see no difference, except where several processes need more than one process did:

- a pool of connections instead of one: turns of different citizens run side by side, and a
  transaction holds its own connection (`begin`), not a lock over the whole process;
- `hold(key)`: an advisory lock per conversation, so one citizen's turns take turns even when two
  of their messages reach two processes; the turn's statements run on the connection that holds
  it, so a turn never waits for a second connection while holding the first;
- `turn(…)`: a citizen's turn in two round trips, where a lock, a read, a write, a commit and an
  unlock were six (with the BEGIN of the write), and nine with a question logged: each round
  trip is a wait for the server, paid while the turn holds a connection of the pool, and on a
  busy machine a wait for a core;
- `listen`: a trigger on the outbox says NOTIFY when a row becomes due, so every process's notifier
  wakes at once, also for a change made by the CLI in another process;
- `Leadership`: an advisory lock held by one process for a platform that allows one poller.

Transactions run at READ COMMITTED: a statement sees what others committed before it. Where a
query reads and then writes what another process may change meanwhile, it locks the rows it read
(`FOR UPDATE`, see `Dialect`), which SQLite never needed because its writers take turns.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import aiosqlite
import asyncpg
from aiosqlite.context import Result

from bot.storage import dialect

SCHEMES = ("postgresql://", "postgres://")

CONVERSATIONS = 1
"""Advisory lock namespaces (the first of the two keys): one citizen's conversation…"""
SCHEMA = 2
"""…the migrations (two processes starting at once migrate once)…"""
LEADERS = 3
"""…and the one process allowed to poll a platform."""

KEY = "hashtext(current_schema() || ':' || $2)"
"""The second key of an advisory lock: advisory locks belong to the whole database, and two
deployments in two schemas of one database must not wait for each other's locks."""

_KEY_OF_P = KEY.replace("$2", "p_key")
"""`KEY` inside the turn's functions, where the conversation's key is their parameter `p_key`."""

TURN_BEGIN = "SELECT motcua_turn_begin($1, $2, $3)"
TURN_END = "CALL motcua_turn_end($1, $2, $3, $4, $5, $6)"

RESERVE = 64
"""Ids reserved at a time for rows a turn writes at its end (`PgConnection.next_id`)."""

OUTBOX_CHANNEL = "motcua_outbox"

SESSION = {"synchronous_commit": "off"}
"""The durability SQLite has here (WAL, `synchronous=NORMAL`): a commit is not flushed to disk
before the answer, so a turn does not wait for the disk; a crash of the server loses at most the
last fraction of a second of commits, never consistency. A URL's own `?synchronous_commit=on`
takes precedence, for a deployment that prefers the wait."""

POOL_SIZE = 16
"""Connections per process: each turn in progress holds one, so this many citizens are served at
the same instant; PostgreSQL's default of 100 connections leaves room for several processes."""

PREPARE = (
    """CREATE OR REPLACE FUNCTION round(double precision, integer) RETURNS double precision
       LANGUAGE sql IMMUTABLE AS 'SELECT round($1::numeric, $2)::double precision'""",
    """CREATE OR REPLACE FUNCTION motcua_outbox_due() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_notify('motcua_outbox', ''); RETURN NULL; END $$""",
    """CREATE OR REPLACE TRIGGER outbox_added AFTER INSERT ON outbox
       FOR EACH STATEMENT EXECUTE FUNCTION motcua_outbox_due()""",
    """CREATE OR REPLACE TRIGGER outbox_released AFTER UPDATE OF waiting ON outbox
       FOR EACH ROW WHEN (OLD.waiting = 1 AND NEW.waiting = 0) EXECUTE FUNCTION motcua_outbox_due()""",
    f"""CREATE OR REPLACE FUNCTION motcua_turn_begin(p_key text, p_channel text, p_user text) RETURNS text
       LANGUAGE plpgsql VOLATILE AS $$
       BEGIN
         PERFORM pg_advisory_lock({CONVERSATIONS}, {_KEY_OF_P});
         RETURN (SELECT state FROM conversations WHERE channel = p_channel AND "user" = p_user);
       END $$""",
    f"""CREATE OR REPLACE PROCEDURE motcua_turn_end(p_key text, p_channel text, p_user text, p_state text,
                                                  p_at text, p_questions json)
       LANGUAGE plpgsql AS $$
       BEGIN
         IF p_state IS NOT NULL THEN
           INSERT INTO conversations (channel, "user", state, updated_at) VALUES (p_channel, p_user, p_state, p_at)
             ON CONFLICT (channel, "user") DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at;
         END IF;
         IF p_questions IS NOT NULL THEN
           INSERT INTO questions (id, at, channel, text, intent, procedure, aspect, confidence, answered)
             SELECT * FROM json_to_recordset(p_questions) AS q(id bigint, at text, channel text, text text,
               intent text, procedure text, aspect text, confidence double precision, answered bigint);
         END IF;
         COMMIT;
         PERFORM pg_advisory_unlock({CONVERSATIONS}, {_KEY_OF_P});
       END $$""",
)
"""Run after the migrations: SQLite's two-argument `round` of a float (PostgreSQL rounds only
numerics), the triggers that wake the notifiers when a notification is added or released, and a
turn's two round trips (`PgConnection.turn`).

`motcua_turn_begin` reads after the lock is granted: a VOLATILE function takes a new snapshot for
each statement at READ COMMITTED, so the read sees what the turn it waited for committed (one
statement doing both, `SELECT pg_advisory_lock(…), (SELECT state …)`, would read with the
snapshot taken before the wait, and lose that turn's update). `motcua_turn_end` writes the state
and the questions the turn logged, and commits before it unlocks: the next turn may not read
until the state is there to read. A procedure may COMMIT only when called outside a transaction
block, which a turn's end is (see `PgConnection.turn`)."""


def session_settings(url: str) -> dict[str, str]:
    """`SESSION`, less what the URL sets itself (asyncpg would let ours win)."""
    given = parse_qs(urlsplit(url).query)
    return {key: value for key, value in SESSION.items() if key not in given}


def is_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(SCHEMES)


def safe_url(url: str) -> str:
    """The URL without its password, to name the database in messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


class PgCursor(aiosqlite.Cursor):
    """The rows of one statement, read to the end, as the SQLite side's cursor gives them.

    It is typed as aiosqlite's cursor so the query modules stay one typed code for both
    databases; its rows are asyncpg records, which answer `row["column"]` and `row[0]` alike."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._rowcount = rowcount

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        """PostgreSQL has no last row id: an insert that needs its id says `RETURNING id`."""
        return None

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchall(self) -> Any:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


def _count(status: str) -> int:
    """`rowcount` from PostgreSQL's command tag ("UPDATE 3", "INSERT 0 1")."""
    found = re.search(r"(\d+)$", status or "")
    return int(found.group(1)) if found else -1


class PgConnection:
    """A pool of connections to one database, answering like the SQLite connection."""

    shared = True
    """Several processes serve from one database: conversations are locked across them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: asyncpg.Pool | None = None
        self._locking: set[asyncpg.Connection] = set()
        """Connections between taking a conversation's lock and giving it back."""
        self._bound: contextvars.ContextVar[tuple[asyncpg.Connection, asyncio.Task[Any] | None] | None] = \
            contextvars.ContextVar("pg_bound", default=None)
        self._listener: asyncpg.Connection | None = None
        self._ids: dict[str, list[int]] = {}
        """Ids reserved for rows written at a turn's end, by table (`next_id`), last to use first."""

    @classmethod
    async def open(cls, url: str) -> PgConnection:
        connection = cls(url)
        connection.pool = await asyncpg.create_pool(url, min_size=1, max_size=POOL_SIZE, reset=connection._reset,
                                                    server_settings=session_settings(url))
        async with connection.begin(), connection.connection() as conn:
            await conn.execute(f"SELECT pg_advisory_xact_lock($1, {KEY})", SCHEMA, "")
            await conn.execute("CREATE TABLE IF NOT EXISTS motcua_schema (version INTEGER NOT NULL)")
            await conn.execute("INSERT INTO motcua_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM motcua_schema)")
        return connection

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """The connection this task holds (in a transaction or a conversation), or one from the
        pool for the time of the block, held by this task meanwhile. A task started inside the
        block gets its own: one connection runs one statement at a time."""
        task = asyncio.current_task()
        bound = self._bound.get()
        if bound is not None and bound[1] is task:
            yield bound[0]
            return
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            token = self._bound.set((conn, task))
            try:
                yield conn
            finally:
                self._bound.reset(token)

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Result[aiosqlite.Cursor]:
        return Result(self._execute(sql, parameters))

    async def _execute(self, sql: str, parameters: Any) -> aiosqlite.Cursor:
        translated = dialect.to_postgres(sql)
        if translated is None:
            return PgCursor([], 0)
        values = translated.values(parameters)
        async with self.connection() as conn:
            if translated.returns_rows:
                rows = await conn.fetch(translated.sql, *values)
                return PgCursor(rows, len(rows))
            return PgCursor([], _count(await conn.execute(translated.sql, *values)))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> None:
        """One statement for many rows, sent in one round of the protocol (bulk loading)."""
        translated = dialect.to_postgres(sql)
        if translated is None:
            return
        async with self.connection() as conn:
            await conn.executemany(translated.sql, [translated.values(list(row)) for row in parameters])

    @asynccontextmanager
    async def begin(self, lock: asyncio.Lock | None = None) -> AsyncIterator[None]:
        """A transaction on this task's connection; no process-wide lock (`lock` is SQLite's)."""
        async with self.connection() as conn, conn.transaction():
            yield

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Until the block ends, no other process holds `key` (a conversation). Inside a
        transaction, until it ends: what the block wrote is not there to read before the commit."""
        async with self.connection() as conn:
            if conn.is_in_transaction():
                await conn.execute(f"SELECT pg_advisory_xact_lock($1, {KEY})", CONVERSATIONS, key)
                yield
                return
            self._locking.add(conn)
            await conn.execute(f"SELECT pg_advisory_lock($1, {KEY})", CONVERSATIONS, key)
            try:
                yield
            finally:
                await conn.execute(f"SELECT pg_advisory_unlock($1, {KEY})", CONVERSATIONS, key)
                self._locking.discard(conn)

    @asynccontextmanager
    async def turn(self, key: str, channel: str, user: str) -> AsyncIterator[HeldTurn]:
        """`hold(key)` around a citizen's turn, with the conversation's state read as the lock is
        taken, and what the turn leaves (its state, the questions it logged) written, committed
        and the lock given back in one call, also when the turn fails. Outside a transaction
        only: the end commits."""
        async with self.connection() as conn:
            self._locking.add(conn)
            held: HeldTurn | None = None
            try:
                held = HeldTurn(await conn.fetchval(TURN_BEGIN, key, channel, user))
                yield held
            finally:
                if held is None:        # the lock may have been granted as the call failed
                    await conn.execute(f"SELECT pg_advisory_unlock($1, {KEY})", CONVERSATIONS, key)
                else:
                    state, at = held.save or (None, None)
                    questions = json.dumps(held.questions, ensure_ascii=False) if held.questions else None
                    await conn.execute(TURN_END, key, channel, user, state, at, questions)
                self._locking.discard(conn)

    async def next_id(self, table: str) -> int:
        """An id for a row of `table` that a turn writes at its end (it is in a reply before),
        taken from `RESERVE` the sequence gave this process at once: one round trip for many
        rows. Ids stay unique across processes; their order is no longer the order of writing."""
        reserved = self._ids.setdefault(table, [])
        if not reserved:
            async with self.connection() as conn:
                rows = await conn.fetch(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"
                                        f" FROM generate_series(1, {RESERVE})")
            reserved.extend(sorted((int(row[0]) for row in rows), reverse=True))
        return reserved.pop()

    async def _reset(self, conn: asyncpg.Connection) -> None:
        """What a connection going back to the pool must not carry over: a transaction or a
        conversation's lock left by a task cancelled half-way. (asyncpg's own reset, which also
        undoes session settings this code never makes, is a round trip at every release: a
        message makes several.)"""
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        if conn in self._locking:
            await conn.execute("SELECT pg_advisory_unlock_all()")
            self._locking.discard(conn)

    async def lock_schema(self) -> None:
        """Inside a migration's transaction: another process migrating waits, then finds it done."""
        async with self.connection() as conn:
            await conn.execute(f"SELECT pg_advisory_xact_lock($1, {KEY})", SCHEMA, "")

    async def schema_version(self) -> int:
        async with self.connection() as conn:
            return int(await conn.fetchval("SELECT version FROM motcua_schema"))

    async def set_schema_version(self, number: int) -> None:
        await self.execute("UPDATE motcua_schema SET version = ?", (number,))

    async def prepare(self) -> None:
        async with self.begin(), self.connection() as conn:
            await conn.execute(f"SELECT pg_advisory_xact_lock($1, {KEY})", SCHEMA, "")
            for statement in PREPARE:
                await conn.execute(statement)

    async def listen(self, on_due: Callable[[], None]) -> None:
        """`on_due` is called whenever any process adds or releases a notification."""
        if self._listener is None:
            self._listener = await asyncpg.connect(self.url)
        await self._listener.add_listener(OUTBOX_CHANNEL, lambda *_: on_due())

    def leadership(self, name: str) -> Leadership:
        return Leadership(self.url, name)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        if self.pool is not None:
            await self.pool.close()


@dataclass
class HeldTurn:
    """A conversation held for one turn (`PgConnection.turn`)."""

    stored: str | None
    """Its state as stored when the turn began (JSON); None before the citizen's first turn."""
    save: tuple[str, str] | None = None
    """The state to store as the turn ends (JSON) and when (ISO time); None leaves it as it is."""
    questions: list[dict[str, Any]] = field(default_factory=list)
    """Rows of the question log to write as the turn ends, ids included (`next_id`)."""


class Leadership:
    """The right to do what only one process may (poll a platform), held while its connection lives:
    a process that dies loses it with its connection, and a waiting one takes over at once."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self._conn: asyncpg.Connection | None = None

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None:
            self._conn = await asyncpg.connect(self.url)
        return self._conn

    async def try_take(self) -> bool:
        conn = await self._connection()
        return bool(await conn.fetchval(f"SELECT pg_try_advisory_lock($1, {KEY})", LEADERS, self.name))

    async def take(self) -> None:
        """Waits (in the server, without polling) until the leader's connection ends."""
        conn = await self._connection()
        await conn.execute(f"SELECT pg_advisory_lock($1, {KEY})", LEADERS, self.name)

    async def release(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
