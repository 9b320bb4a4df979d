"""The SQLite-only fragments, run through the stores: SQLite accepts each one and it does what the queries rely on."""

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


async def test_the_connection_settings_are_in_force_on_an_opened_store(store: Store):
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
    await store.db.execute(dialect.set_schema_version(99))
    assert await store.schema_version() == 99
    with pytest.raises(ValueError):
        dialect.set_schema_version("1; DROP TABLE cases")  # type: ignore[arg-type]


async def test_a_transaction_holds_the_write_lock_from_its_start(store: Store, tmp_path: Path):
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


async def test_literals_quote_every_word_so_sqlite_reads_them_back_unchanged(store: Store):
    words = ["returned", "it's", "a ''b''", "đã trả"]
    async with store.db.execute(f"SELECT value FROM json_each(?) WHERE value IN ({dialect.literals(words)})",
                                ('["returned", "it\'s", "a \'\'b\'\'", "đã trả", "other"]',)) as cur:
        assert sorted(r[0] for r in await cur.fetchall()) == sorted(words)

