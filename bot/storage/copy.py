"""Moving a deployment from its SQLite file to PostgreSQL (`motcua db copy SRC DST`), every row.

Both databases are opened through `Store.open`, so both are at the latest schema and the tables
and columns match. The target must be empty: a copy never merges into live data. Tables are
copied parents first (a history step needs its case), in one transaction on the target, so a
copy that fails leaves the target as empty as it was. Ids are copied as they are, and the
target's id counters continue after the largest copied id.
"""

from __future__ import annotations

from bot.storage.db import Database, StorageError
from bot.storage.postgres import PgConnection

BATCH = 5_000
"""Rows read and written at a time: memory stays flat whatever the size of the database."""


async def tables(source: Database) -> list[str]:
    """The source's tables, each after the tables its foreign keys point to."""
    async with source.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ) as cur:
        names = [str(row[0]) for row in await cur.fetchall()]
    parents: dict[str, set[str]] = {}
    for name in names:
        async with source.db.execute(f"PRAGMA foreign_key_list({name})") as cur:
            parents[name] = {str(row["table"]) for row in await cur.fetchall()} - {name}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:
            raise StorageError(f"foreign keys form a cycle among {sorted(set(names) - set(ordered))}")
        ordered += ready
    return ordered


async def columns(source: Database, table: str) -> list[str]:
    async with source.db.execute(f"PRAGMA table_info({table})") as cur:
        return [str(row["name"]) for row in await cur.fetchall()]


async def page_key(source: Database, table: str) -> str:
    """What a table's rows are read in order of, a batch at a time: the row id, or for a table
    stored without one (a set of codes) its primary key."""
    async with source.db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)) as cur:
        row = await cur.fetchone()
    if row is None or "WITHOUT ROWID" not in str(row[0]).upper():
        return "rowid"
    async with source.db.execute(f"SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk") as cur:
        keys = [str(r[0]) for r in await cur.fetchall()]
    if len(keys) != 1:
        raise StorageError(f"table {table} has no single key to copy it by")
    return f'"{keys[0]}"'


async def copy_database(source: Database, target: Database) -> dict[str, int]:
    """Every row of `source` (SQLite) into the empty `target` (PostgreSQL); rows copied per table."""
    if source.db.shared:
        raise StorageError("Nguồn phải là tệp SQLite. (The source must be a SQLite file.)")
    if not isinstance(target.db, PgConnection):
        raise StorageError("Đích phải là cơ sở dữ liệu PostgreSQL (postgresql://…). "
                           "(The target must be a PostgreSQL URL.)")
    names = await tables(source)
    for table in names:
        async with target.db.execute(f"SELECT 1 FROM {table} LIMIT 1") as cur:
            if await cur.fetchone() is not None:
                raise StorageError(f"Cơ sở dữ liệu đích đã có dữ liệu (bảng {table}); chỉ chép vào một cơ sở "
                                   f"dữ liệu trống. (The target is not empty.)")
    counts: dict[str, int] = {}
    async with target.transaction(), target.db.connection() as conn:
        for table in names:
            names_in_order = await columns(source, table)
            selected = ", ".join(f'"{name}"' for name in names_in_order)
            counts[table] = 0
            key = await page_key(source, table)
            last: object = -(2**63) if key == "rowid" else ""
            while True:
                async with source.db.execute(
                    f"SELECT {key}, {selected} FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT ?", (last, BATCH)
                ) as cur:
                    rows = [tuple(row) for row in await cur.fetchall()]
                if not rows:
                    break
                last = rows[-1][0]
                await conn.copy_records_to_table(table, records=[row[1:] for row in rows], columns=names_in_order)
                counts[table] += len(rows)
        identities = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'")
        for row in identities:
            table, column = row["table_name"], row["column_name"]
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)")
    return counts
