"""The migration runner: scripts from numbered files, statements split as SQLite reads them."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from bot.storage import Store
from bot.storage.db import MIGRATIONS, Database, load_migrations, split_statements

TRICKY = """\
-- 1: a literal with a semicolon, and a trigger whose body has statements of its own
CREATE TABLE notes (text TEXT NOT NULL);
CREATE TABLE audit (text TEXT NOT NULL);
CREATE TRIGGER notes_audit AFTER INSERT ON notes BEGIN
    INSERT INTO audit (text) VALUES ('added; ' || new.text);
END;
INSERT INTO notes (text) VALUES ('a; b');
"""


def test_a_semicolon_in_a_literal_or_a_trigger_body_does_not_end_a_statement() -> None:
    statements = list(split_statements(TRICKY))
    assert len(statements) == 4
    assert statements[0].startswith("-- 1:")   # a comment travels with the statement after it
    assert statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")
    assert statements[3] == "INSERT INTO notes (text) VALUES ('a; b');"


def test_an_unfinished_statement_is_an_error() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        list(split_statements("CREATE TABLE t (x TEXT)\n-- forgot the semicolon\n"))


@pytest.mark.asyncio
async def test_a_migration_with_a_trigger_and_a_semicolon_literal_applies(tmp_path: Path) -> None:
    (tmp_path / "0001_notes.sql").write_text(TRICKY, encoding="utf-8")
    (tmp_path / "0002_more.sql").write_text("INSERT INTO notes (text) VALUES ('c');\n", encoding="utf-8")
    database = Database(await aiosqlite.connect(":memory:", isolation_level=None))
    try:
        await database.migrate(load_migrations(tmp_path))
        assert await database.schema_version() == 2
        async with database.db.execute("SELECT text FROM audit ORDER BY rowid") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["added; a; b", "added; c"]
    finally:
        await database.close()


def test_migration_files_must_be_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x);\n", encoding="utf-8")
    (tmp_path / "0003_c.sql").write_text("CREATE TABLE c (x);\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"0003_c\.sql is out of sequence"):
        load_migrations(tmp_path)


@pytest.mark.asyncio
async def test_a_database_at_the_latest_version_opens_unchanged(tmp_path: Path) -> None:
    async def snapshot(store: Store) -> tuple[int, list[tuple[str, ...]]]:
        async with store.db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name") as cur:
            return await store.schema_version(), [tuple(r) for r in await cur.fetchall()]

    store = await Store.open(tmp_path / "a.sqlite3")
    await store.save_state("t", "1", {"x": 1})
    before = await snapshot(store)
    await store.close()
    store = await Store.open(tmp_path / "a.sqlite3")
    assert await snapshot(store) == before
    assert before[0] == len(MIGRATIONS) == 6
    assert await store.get_state("t", "1") == {"x": 1}
    await store.close()
