"""The migration runner: scripts from numbered files, statements split as SQLite reads them."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.storage import Store
from bot.storage import db as db_module
from bot.storage.db import MIGRATIONS, Database, StorageError, load_migrations, split_statements

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
    connection = db_module.connect(":memory:")
    await connection
    database = Database(connection)
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
    assert before[0] == len(MIGRATIONS) == 13
    assert await store.get_state("t", "1") == {"x": 1}
    await store.close()


# R8: the backup is one snapshot, finishes while another connection commits, and appears whole or not at all.

def _writer(path: Path, started: threading.Event, stop: threading.Event) -> int:
    """Another process's writes, as fast as they come, until told to stop."""
    other = sqlite3.connect(path, timeout=30, isolation_level=None)
    commits = 0
    try:
        while not stop.is_set():
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO conversations VALUES ('t', ?, '{}', '2026-01-01T00:00:00')",
                          (f"w{commits}",))
            other.execute("COMMIT")
            commits += 1
            started.set()
    finally:
        other.close()
    return commits


async def _filled(path: Path, rows: int = 20000) -> Store:
    """A database of many pages (about 12 MB), so a page-by-page copy needs many steps."""
    store = await Store.open(path)
    filler = sqlite3.connect(path)
    with filler:
        filler.executemany("INSERT INTO conversations VALUES ('t', ?, ?, '2026-01-01T00:00:00')",
                           ((f"seed{i}", '{"x": "' + "y" * 500 + '"}') for i in range(rows)))
    filler.close()
    return store


@pytest.mark.asyncio
async def test_a_backup_finishes_while_another_connection_keeps_committing(tmp_path: Path) -> None:
    store = await _filled(tmp_path / "live.sqlite3")
    started, stop = threading.Event(), threading.Event()
    writer = asyncio.create_task(asyncio.to_thread(_writer, tmp_path / "live.sqlite3", started, stop))
    try:
        assert await asyncio.to_thread(started.wait, 30)          # the other process is writing
        # a guard against hanging, not a timing: the old page-by-page backup restarted forever here
        await asyncio.wait_for(store.backup(tmp_path / "copy.sqlite3"), 60)
    finally:
        stop.set()
        commits = await writer
        await store.close()
    assert commits > 0
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT COUNT(*) FROM conversations WHERE user LIKE 'seed%'").fetchone()[0] == 20000
    finally:
        copy.close()
    assert sorted(p.name for p in tmp_path.iterdir() if "copy" in p.name) == ["copy.sqlite3"]


@pytest.mark.asyncio
async def test_the_backup_file_only_ever_appears_complete(tmp_path: Path) -> None:
    """Whenever the final name exists, it is the whole copy: a backup killed half-way can leave
    only a temporary file, never a broken one a restore would copy over the database."""
    store = await _filled(tmp_path / "live.sqlite3")
    target = tmp_path / "copy.sqlite3"
    done = threading.Event()
    seen: list[int] = []

    def watch() -> None:
        while not done.is_set() and not seen:
            try:
                seen.append(target.stat().st_size)
            except FileNotFoundError:
                continue

    watcher = asyncio.create_task(asyncio.to_thread(watch))
    try:
        await store.backup(target)
    finally:
        done.set()
        await watcher
        await store.close()
    assert seen in ([], [target.stat().st_size])
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.asyncio
async def test_a_failed_backup_leaves_nothing_under_the_final_name(tmp_path: Path) -> None:
    store = await _filled(tmp_path / "live.sqlite3", rows=10)
    target = tmp_path / "copy.sqlite3"
    try:
        await store.db.execute("BEGIN")          # VACUUM cannot run inside a transaction: the copy fails
        with pytest.raises(StorageError, match=r"Sao lưu vào .*copy\.sqlite3 thất bại"):
            await store.backup(target)
        await store.db.execute("ROLLBACK")
        with pytest.raises(StorageError, match="Không sao lưu đè lên chính cơ sở dữ liệu"):
            await store.backup(tmp_path / "live.sqlite3-wal")
    finally:
        await store.close()
    assert not target.exists() and [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# R9: a file that is not a usable database is refused at once, by name, and nothing is left running.

def _ended(threads: set[threading.Thread]) -> bool:
    """The connection's worker thread ends (it kept every command alive after the error)."""
    for thread in threads:
        thread.join(30)                          # a guard against hanging, not a timing
    return not any(thread.is_alive() for thread in threads)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["text", "directory", "corrupt", "truncated"])
async def test_an_unusable_database_is_refused_by_name_and_its_connection_closed(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "bad.sqlite3"
    if kind == "text":
        path.write_text("code,status\n000,received\n", encoding="utf-8")
    elif kind == "directory":
        path.mkdir()
    else:
        good = await _filled(path, rows=200)
        await good.close()
        data = bytearray(path.read_bytes())
        if kind == "corrupt":
            data[4096:len(data)] = b"\xff" * (len(data) - 4096)     # every page after the first is garbage
        else:
            data = data[:100]
        path.write_bytes(bytes(data))
    threads = set(threading.enumerate())
    with pytest.raises(StorageError, match=r"^Không dùng được cơ sở dữ liệu .*bad\.sqlite3"):
        await Store.open(path)
    assert _ended(set(threading.enumerate()) - threads)


@pytest.mark.asyncio
async def test_a_database_another_program_holds_exclusively_is_refused_after_the_busy_timeout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "held.sqlite3"
    store = await Store.open(path)
    await store.close()
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_SECONDS", 0.0)
    monkeypatch.setattr(db_module.dialect, "CONNECTION_SETTINGS", ("PRAGMA busy_timeout=0",
                                                                     *db_module.dialect.CONNECTION_SETTINGS[:1]))
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        threads = set(threading.enumerate())
        with pytest.raises(StorageError, match=r"held\.sqlite3: một chương trình khác đang khoá tệp"):
            await Store.open(path)
        assert _ended(set(threading.enumerate()) - threads)
    finally:
        holder.close()
