"""The two dialects: SQLite's fragments do what the queries rely on, and the same SQL, migrations
included, translated for PostgreSQL, reads and writes the same rows there."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from bot import clock
from bot.storage import Store, dialect
from bot.storage.db import MIGRATIONS

pytestmark = pytest.mark.asyncio
CODE = "000.00.27.H15-251120-0012"


async def pragma(store: Store, name: str) -> object:
    async with store.db.execute(f"PRAGMA {name}") as cur:
        return (await cur.fetchone())[0]


async def test_the_connection_settings_are_in_force_on_an_opened_store(sqlite_store: Store):
    store = sqlite_store
    assert await pragma(store, "journal_mode") == "wal"
    assert await pragma(store, "synchronous") == 1          # NORMAL
    assert await pragma(store, "foreign_keys") == 1
    assert await pragma(store, "busy_timeout") == 5000
    assert await pragma(store, "secure_delete") == 1        # R10: deleted rows are zeroed, whatever the build
    with pytest.raises(sqlite3.IntegrityError):              # foreign keys are enforced, not just declared
        await store.follow("t", "u", "no-such-case")


async def test_secure_delete_is_among_the_settings_not_left_to_how_sqlite_was_built():
    """This machine's library defaults to on, the upstream one to off: only the setting decides."""
    assert "PRAGMA secure_delete=ON" in dialect.CONNECTION_SETTINGS


async def test_the_schema_version_counter_is_read_and_written(store: Store):
    assert await store.schema_version() == len(MIGRATIONS)
    await store.db.set_schema_version(99)
    assert await store.schema_version() == 99
    with pytest.raises(ValueError):
        dialect.set_schema_version("1; DROP TABLE cases")  # type: ignore[arg-type]


async def test_a_transaction_holds_the_write_lock_from_its_start(sqlite_store: Store, tmp_path: Path):
    store = sqlite_store
    other = await aiosqlite.connect(str(tmp_path / "db.sqlite3"), isolation_level=None)
    try:
        await other.execute("PRAGMA busy_timeout=0")
        async with store.transaction():
            # nothing written yet, but a second writer must already wait: no failure half-way later
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await other.execute("INSERT INTO feedback (at, channel, kind, text) VALUES ('x', 't', 'k', 'x')")
        await other.execute("INSERT INTO feedback (at, channel, kind, text) VALUES ('x', 't', 'k', 'x')")
    finally:
        await other.close()


async def test_insert_or_ignore_adds_a_duplicate_nowhere_and_says_so(store: Store):
    await store.insert_case({"code": CODE, "procedure": "p", "name": "A", "phone": "0912345678", "channel": "trực tiếp",
                             "received": "2026-11-20T09:00:00", "due": "2026-12-01", "status": "received"}, "cb")
    await store.follow("t", "u", CODE)
    await store.follow("t", "u", CODE)
    assert await store.followers(CODE) == [("t", "u")]
    assert [await store.first_sight("t", "m") for _ in range(2)] == [True, False]
    assert [await store.add_rating(CODE, "t", "p", "", 5, level) is not None for level in "51"] == [True, False]


async def test_placeholders_bind_one_value_each_for_any_number_of_channels(store: Store):
    channels = [f"channel-{i}" for i in range(7)]
    for channel in channels:
        await store.enqueue(channel, "u", "status", {"text": "x"})
    for count in (1, 3, 7):
        due = await store.due_outbox(channels[:count], clock.now())
        assert [r.channel for r in due] == channels[:count]
    assert dialect.placeholders(3) == "?, ?, ?"


async def test_literals_quote_every_word_so_sqlite_reads_them_back_unchanged(sqlite_store: Store):
    store = sqlite_store
    words = ["returned", "it's", "a ''b''", "đã trả"]
    async with store.db.execute(f"SELECT value FROM json_each(?) WHERE value IN ({dialect.literals(words)})",
                                ('["returned", "it\'s", "a \'\'b\'\'", "đã trả", "other"]',)) as cur:
        assert sorted(r[0] for r in await cur.fetchall()) == sorted(words)



async def test_a_migration_written_for_sqlite_runs_on_both_databases(store: Store):
    """What another change adds as 00NN_*.sql in SQLite's words: a table with a row id, a REAL and a
    `user`, a rowid-less table, a column added to a table, an index; then `?`, `:name` and INSERT OR
    IGNORE queries."""
    script = """\
-- N: a sample migration
CREATE TABLE sample (
    id INTEGER PRIMARY KEY,
    user TEXT NOT NULL,
    score REAL NOT NULL,
    note TEXT NOT NULL DEFAULT 'it''s; fine',
    UNIQUE (user)
);
CREATE INDEX sample_score ON sample(score);
CREATE TABLE sample_keys (
    code TEXT PRIMARY KEY
) WITHOUT ROWID;
INSERT INTO sample_keys (code) VALUES ('a');
ALTER TABLE outbox ADD COLUMN sample_flag INTEGER NOT NULL DEFAULT 0;
"""
    await store.migrate([*MIGRATIONS, script])
    assert await store.schema_version() == len(MIGRATIONS) + 1
    async with store.transaction():
        async with store.db.execute("INSERT INTO sample (user, score) VALUES (?, ?) RETURNING id", ("u1", 0.125)) as cur:
            first = (await cur.fetchone())[0]
        await store.db.execute("INSERT INTO sample (user, score) VALUES (:user, :score)", {"score": 2.5, "user": "u2"})
        again = await store.db.execute(f"{dialect.INSERT_OR_IGNORE} INTO sample (user, score) VALUES (?, ?)", ("u1", 9.0))
    assert again.rowcount == 0
    async with store.db.execute("SELECT id, user, score, note FROM sample WHERE user != ? ORDER BY id", ("x",)) as cur:
        assert [tuple(r) for r in await cur.fetchall()] == [(first, "u1", 0.125, "it's; fine"), (first + 1, "u2", 2.5, "it's; fine")]
    await store.enqueue("t", "u", "status", {})
    async with store.db.execute("SELECT sample_flag FROM outbox") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_text_sorts_by_code_point_on_both_databases(store: Store):
    """Timestamps, codes and names come out of ORDER BY as SQLite and Python order them, never by
    a locale's rules (which skip punctuation and fold case)."""
    users = ["b", "B", "a-2", "a1", "_x", "Đức", "Dung", "2026-11-30T09:00:00", "2026-11-30 09:00:00"]
    for user in users:
        await store.save_state("t", user, {})
    async with store.db.execute("SELECT user FROM conversations ORDER BY user") as cur:
        assert [r[0] for r in await cur.fetchall()] == sorted(users)


async def test_the_postgres_translation_leaves_literals_alone_and_refuses_what_it_cannot_say():
    translated = dialect.to_postgres("SELECT 'user ? :x' AS t, user FROM conversations WHERE channel = ? AND user = ?")
    assert translated is not None
    assert translated.sql == "SELECT 'user ? :x' AS t, \"user\" FROM conversations WHERE channel = $1 AND \"user\" = $2"
    assert dialect.to_postgres("PRAGMA wal_checkpoint(TRUNCATE)") is None
    with pytest.raises(ValueError, match="ON CONFLICT"):
        dialect.to_postgres("INSERT OR REPLACE INTO t (a) VALUES (?)")
    with pytest.raises(ValueError, match="mixes"):
        dialect.to_postgres("SELECT ? , :a")
