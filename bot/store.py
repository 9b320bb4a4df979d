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
from typing import Any, AsyncIterator, Callable, Sequence

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
    # 2: cases, their history, followers, the outbox of notifications, look-up attempts
    """
    CREATE TABLE cases (
        code TEXT PRIMARY KEY,
        procedure TEXT NOT NULL,
        name TEXT NOT NULL,
        phone TEXT NOT NULL,
        channel TEXT NOT NULL,
        received TEXT NOT NULL,
        due TEXT NOT NULL,
        status TEXT NOT NULL,
        supplement_by TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX cases_status ON cases(status);
    CREATE TABLE case_history (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL REFERENCES cases(code) ON DELETE CASCADE,
        at TEXT NOT NULL,
        status TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        staff TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX case_history_code ON case_history(code, id);
    CREATE TABLE follows (
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        code TEXT NOT NULL REFERENCES cases(code) ON DELETE CASCADE,
        at TEXT NOT NULL,
        PRIMARY KEY (channel, user, code)
    );
    CREATE INDEX follows_code ON follows(code);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try TEXT NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        waiting INTEGER NOT NULL DEFAULT 0,
        delivered_at TEXT
    );
    CREATE INDEX outbox_pending ON outbox(delivered_at, next_try);
    CREATE TABLE lookup_attempts (
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        at TEXT NOT NULL,
        ok INTEGER NOT NULL
    );
    CREATE INDEX lookup_attempts_user ON lookup_attempts(channel, user, at);
    """,
    # 3: satisfaction ratings (no user identifiers: ratings are confidential, ND 118 art. 29),
    # votes on answers, feedback messages, and the office a case belongs to
    """
    ALTER TABLE cases ADD COLUMN office TEXT NOT NULL DEFAULT '';
    CREATE TABLE ratings (
        id INTEGER PRIMARY KEY,
        code TEXT UNIQUE,
        at TEXT NOT NULL,
        channel TEXT NOT NULL,
        procedure TEXT NOT NULL,
        office TEXT NOT NULL DEFAULT '',
        scale INTEGER NOT NULL,
        level TEXT NOT NULL,
        visits TEXT,
        info TEXT,
        attitude TEXT,
        extra_fee TEXT,
        comment TEXT NOT NULL DEFAULT '',
        contact_ok INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX ratings_at ON ratings(at);
    CREATE TABLE answer_votes (
        question_id INTEGER PRIMARY KEY REFERENCES questions(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        channel TEXT NOT NULL,
        procedure TEXT,
        vote TEXT NOT NULL CHECK (vote IN ('up', 'down'))
    );
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX feedback_at ON feedback(at);
    """,
    # 4: channel bookkeeping: Zalo OA tokens (single-use refresh tokens must survive a crash),
    # messages already handled (platforms re-deliver), and Zalo's 48-hour reply window
    """
    CREATE TABLE channel_tokens (
        channel TEXT PRIMARY KEY,
        access_token TEXT NOT NULL,
        refresh_token TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX lookup_attempts_at ON lookup_attempts(at);
    CREATE TABLE seen_messages (
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (channel, message_id)
    );
    CREATE TABLE reply_windows (
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        last_inbound TEXT NOT NULL,
        sent_since INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (channel, user)
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
        version = await self.schema_version()
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

    # cases

    async def case(self, code: str) -> aiosqlite.Row | None:
        async with self.db.execute("SELECT * FROM cases WHERE code = ?", (code,)) as cur:
            return await cur.fetchone()

    async def case_history(self, code: str) -> list[aiosqlite.Row]:
        async with self.db.execute(
            "SELECT at, status, note, staff FROM case_history WHERE code = ? ORDER BY id", (code,)
        ) as cur:
            return list(await cur.fetchall())

    async def cases(self, *, open_only: bool = False) -> list[aiosqlite.Row]:
        where = " WHERE status NOT IN ('returned', 'refused', 'withdrawn', 'stopped')" if open_only else ""
        async with self.db.execute(f"SELECT * FROM cases{where} ORDER BY received") as cur:
            return list(await cur.fetchall())

    async def insert_case(self, row: dict[str, Any], staff: str, note: str = "") -> None:
        """A new case with the first step of its history, in one transaction."""
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO cases (code, procedure, name, phone, channel, received, due, status, office, created_at)"
                " VALUES (:code, :procedure, :name, :phone, :channel, :received, :due, :status, :office, :created_at)",
                {"office": "", **row, "created_at": now().isoformat()},
            )
            await self.db.execute(
                "INSERT INTO case_history (code, at, status, note, staff) VALUES (?, ?, ?, ?, ?)",
                (row["code"], row["received"], row["status"], note, staff),
            )

    async def change_status(
        self, code: str, status: str, note: str, staff: str, *, due: str | None = None,
        supplement_by: str | None = None, notify: Sequence[tuple[str, str, str, dict[str, Any]]] = (),
        at: dt.datetime | None = None,
    ) -> None:
        """A status change, its history step and one outbox row per follower, all or nothing."""
        at_text = (at or now()).isoformat()
        async with self.transaction():
            await self.db.execute(
                "UPDATE cases SET status = ?, due = COALESCE(?, due), supplement_by = ? WHERE code = ?",
                (status, due, supplement_by, code),
            )
            await self.db.execute(
                "INSERT INTO case_history (code, at, status, note, staff) VALUES (?, ?, ?, ?, ?)",
                (code, at_text, status, note, staff),
            )
            for channel, user, kind, payload in notify:
                await self._enqueue(channel, user, kind, payload)
        if notify:
            self._outbox_changed()

    async def followers(self, code: str) -> list[tuple[str, str]]:
        async with self.db.execute("SELECT channel, user FROM follows WHERE code = ? ORDER BY at", (code,)) as cur:
            return [(r["channel"], r["user"]) for r in await cur.fetchall()]

    async def follow(self, channel: str, user: str, code: str) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT OR IGNORE INTO follows (channel, user, code, at) VALUES (?, ?, ?, ?)",
                (channel, user, code, now().isoformat()),
            )

    async def unfollow(self, channel: str, user: str, code: str) -> None:
        async with self.transaction():
            await self.db.execute(
                "DELETE FROM follows WHERE channel = ? AND user = ? AND code = ?", (channel, user, code)
            )

    async def is_following(self, channel: str, user: str, code: str) -> bool:
        async with self.db.execute(
            "SELECT 1 FROM follows WHERE channel = ? AND user = ? AND code = ?", (channel, user, code)
        ) as cur:
            return await cur.fetchone() is not None

    # look-up attempts (verification throttle)

    async def record_lookup(self, channel: str, user: str, ok: bool) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO lookup_attempts (channel, user, at, ok) VALUES (?, ?, ?, ?)",
                (channel, user, now().isoformat(), int(ok)),
            )

    async def failed_lookups(self, channel: str, user: str, since: dt.datetime) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM lookup_attempts WHERE channel = ? AND user = ? AND at >= ? AND ok = 0",
            (channel, user, since.isoformat()),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def lookups_since(self, since: dt.datetime) -> int:
        async with self.db.execute("SELECT COUNT(*) FROM lookup_attempts WHERE at >= ?", (since.isoformat(),)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    # outbox

    async def _enqueue(self, channel: str, user: str, kind: str, payload: dict[str, Any]) -> None:
        stamp = now().isoformat()
        await self.db.execute(
            "INSERT INTO outbox (channel, user, kind, payload, created_at, next_try) VALUES (?, ?, ?, ?, ?, ?)",
            (channel, user, kind, json.dumps(payload, ensure_ascii=False), stamp, stamp),
        )

    async def enqueue(self, channel: str, user: str, kind: str, payload: dict[str, Any]) -> None:
        async with self.transaction():
            await self._enqueue(channel, user, kind, payload)
        self._outbox_changed()

    def _outbox_changed(self) -> None:
        for listener in self.outbox_listeners:
            listener()

    async def due_outbox(self, channels: list[str], at: dt.datetime, limit: int = 50) -> list[aiosqlite.Row]:
        """Undelivered rows whose time has come, for the channels this process serves."""
        if not channels:
            return []
        marks = ",".join("?" * len(channels))
        async with self.db.execute(
            f"SELECT * FROM outbox WHERE delivered_at IS NULL AND waiting = 0 AND next_try <= ?"
            f" AND channel IN ({marks}) ORDER BY id LIMIT ?",
            (at.isoformat(), *channels, limit),
        ) as cur:
            return list(await cur.fetchall())

    async def mark_delivered(self, row_id: int) -> None:
        async with self.transaction():
            await self.db.execute(
                "UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL", (now().isoformat(), row_id)
            )

    async def mark_failed(self, row_id: int, attempts: int, next_try: dt.datetime, error: str) -> None:
        async with self.transaction():
            await self.db.execute(
                "UPDATE outbox SET attempts = ?, next_try = ?, last_error = ? WHERE id = ?",
                (attempts, next_try.isoformat(), error[:300], row_id),
            )

    async def outbox_rows(self) -> list[aiosqlite.Row]:
        async with self.db.execute("SELECT * FROM outbox ORDER BY id") as cur:
            return list(await cur.fetchall())

    # ratings, votes, feedback

    async def rating(self, code: str) -> aiosqlite.Row | None:
        async with self.db.execute("SELECT * FROM ratings WHERE code = ?", (code,)) as cur:
            return await cur.fetchone()

    async def add_rating(self, code: str, channel: str, procedure: str, office: str, scale: int, level: str,
                         at: dt.datetime | None = None) -> bool:
        """The first rating of a case; False if the case was rated already (one per case)."""
        async with self.transaction():
            cur = await self.db.execute(
                "INSERT OR IGNORE INTO ratings (code, at, channel, procedure, office, scale, level)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (code, (at or now()).isoformat(), channel, procedure, office, scale, level),
            )
        return cur.rowcount == 1

    async def set_rating_field(self, code: str, field: str, value: Any) -> None:
        if field not in {"visits", "info", "attitude", "extra_fee", "comment", "contact_ok"}:
            raise ValueError(f"not a rating field: {field}")
        async with self.transaction():
            await self.db.execute(f"UPDATE ratings SET {field} = ? WHERE code = ?", (value, code))

    async def vote(self, question_id: int, channel: str, vote: str) -> bool:
        """One vote per answer; False if this answer was voted on already."""
        async with self.transaction():
            cur = await self.db.execute(
                "INSERT OR IGNORE INTO answer_votes (question_id, at, channel, procedure, vote)"
                " SELECT id, ?, ?, procedure, ? FROM questions WHERE id = ?",
                (now().isoformat(), channel, vote, question_id),
            )
        return cur.rowcount == 1

    async def question(self, question_id: int) -> aiosqlite.Row | None:
        async with self.db.execute("SELECT * FROM questions WHERE id = ?", (question_id,)) as cur:
            return await cur.fetchone()

    async def add_feedback(self, channel: str, kind: str, text: str) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO feedback (at, channel, kind, text) VALUES (?, ?, ?, ?)",
                (now().isoformat(), channel, kind, text),
            )

    async def rows_between(self, table: str, start: dt.datetime, end: dt.datetime) -> list[aiosqlite.Row]:
        """Rows of a time-stamped table for reports."""
        if table not in {"ratings", "answer_votes", "feedback"}:
            raise ValueError(f"not a report table: {table}")
        async with self.db.execute(
            f"SELECT * FROM {table} WHERE at >= ? AND at < ? ORDER BY at", (start.isoformat(), end.isoformat())
        ) as cur:
            return list(await cur.fetchall())

    # channel bookkeeping

    async def tokens(self, channel: str) -> aiosqlite.Row | None:
        async with self.db.execute("SELECT * FROM channel_tokens WHERE channel = ?", (channel,)) as cur:
            return await cur.fetchone()

    async def save_tokens(self, channel: str, access_token: str, refresh_token: str, expires_at: dt.datetime) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO channel_tokens (channel, access_token, refresh_token, expires_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel) DO UPDATE SET access_token = excluded.access_token,"
                " refresh_token = excluded.refresh_token, expires_at = excluded.expires_at",
                (channel, access_token, refresh_token, expires_at.isoformat()),
            )

    async def first_sight(self, channel: str, message_id: str) -> bool:
        """True the first time a platform message id is seen; False for a re-delivery."""
        async with self.transaction():
            cur = await self.db.execute(
                "INSERT OR IGNORE INTO seen_messages (channel, message_id, at) VALUES (?, ?, ?)",
                (channel, message_id, now().isoformat()),
            )
        return cur.rowcount == 1

    async def note_inbound(self, channel: str, user: str) -> None:
        """The citizen wrote: the reply window reopens and notifications kept waiting are released."""
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO reply_windows (channel, user, last_inbound, sent_since) VALUES (?, ?, ?, 0)"
                " ON CONFLICT (channel, user) DO UPDATE SET last_inbound = excluded.last_inbound, sent_since = 0",
                (channel, user, now().isoformat()),
            )
            cur = await self.db.execute(
                "UPDATE outbox SET waiting = 0, next_try = ? WHERE channel = ? AND user = ? AND waiting = 1"
                " AND delivered_at IS NULL", (now().isoformat(), channel, user),
            )
        if cur.rowcount:
            self._outbox_changed()

    async def note_sent(self, channel: str, user: str) -> None:
        async with self.transaction():
            await self.db.execute(
                "UPDATE reply_windows SET sent_since = sent_since + 1 WHERE channel = ? AND user = ?", (channel, user)
            )

    async def reply_window(self, channel: str, user: str) -> tuple[dt.datetime, int] | None:
        async with self.db.execute(
            "SELECT last_inbound, sent_since FROM reply_windows WHERE channel = ? AND user = ?", (channel, user)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else (dt.datetime.fromisoformat(row["last_inbound"]), int(row["sent_since"]))

    async def mark_waiting(self, row_id: int, reason: str) -> None:
        async with self.transaction():
            await self.db.execute("UPDATE outbox SET waiting = 1, last_error = ? WHERE id = ?", (reason[:300], row_id))

    # personal data

    async def backup(self, target: Path) -> None:
        """A consistent copy while the bot keeps running (SQLite's online backup)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(str(target)) as dest:
            await self.db.backup(dest, pages=256, sleep=0.01)

    async def forget_user(self, channel: str, user: str) -> dict[str, int]:
        """A citizen's "delete my data": conversation, follows, pending messages, look-ups.

        Ratings and the question log hold no user identifier, so they stay as anonymous
        statistics.
        """
        counts: dict[str, int] = {}
        async with self.transaction():
            for table in ("conversations", "follows", "outbox", "reply_windows", "handoffs", "lookup_attempts"):
                cur = await self.db.execute(f"DELETE FROM {table} WHERE channel = ? AND user = ?", (channel, user))
                counts[table] = cur.rowcount
        return counts

    async def purge(self, before: dt.datetime) -> dict[str, int]:
        """Personal data older than `before`: names and phones of cases closed before it, idle
        conversations, delivered notifications, look-up traces. Case rows, history, ratings and
        the question log stay for the statistics."""
        stamp = before.isoformat()
        closed = ("SELECT code FROM case_history WHERE status IN ('returned', 'refused', 'withdrawn', 'stopped')"
                  " GROUP BY code HAVING MAX(at) < ?")
        counts: dict[str, int] = {}
        async with self.transaction():
            cur = await self.db.execute(
                f"UPDATE cases SET name = '', phone = '' WHERE name != '' AND status IN"
                f" ('returned', 'refused', 'withdrawn', 'stopped') AND code IN ({closed})", (stamp,))
            counts["cases anonymised"] = cur.rowcount
            cur = await self.db.execute(f"DELETE FROM follows WHERE code IN ({closed})", (stamp,))
            counts["follows"] = cur.rowcount
            for table, column, extra in (
                ("conversations", "updated_at", ""), ("outbox", "created_at", " AND delivered_at IS NOT NULL"),
                ("lookup_attempts", "at", ""), ("handoffs", "at", ""), ("seen_messages", "at", ""),
                ("reply_windows", "last_inbound", ""),
            ):
                cur = await self.db.execute(f"DELETE FROM {table} WHERE {column} < ?{extra}", (stamp,))
                counts[table] = cur.rowcount
        return counts

    async def handoff(self, ref: str) -> aiosqlite.Row | None:
        async with self.db.execute("SELECT * FROM handoffs WHERE ref = ?", (ref.upper(),)) as cur:
            return await cur.fetchone()

    async def set_choices(self, channel: str, user: str, actions: list[str]) -> None:
        """A message sent outside a turn (a notification) offered these buttons: on platforms
        without buttons, the numbers the citizen types next refer to them."""
        async with self.transaction():
            state = await self.get_state(channel, user)
            state["choices"] = actions
            await self.save_state(channel, user, state)

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
