"""The few SQLite-only fragments the storage writes, gathered so a second dialect can sit beside them.

A PostgreSQL store is planned. Most of our SQL is standard (`ON CONFLICT ... DO UPDATE` is
spelt the same in both), but taking the write lock, ignoring a duplicate insert, the
connection settings and the schema version counter are not. They live here rather than
inline in the query modules, so the PostgreSQL port is this file plus the placeholder style
(`?` here, `$1` there), not a hunt through every query.
"""

from __future__ import annotations

from collections.abc import Iterable

BEGIN = "BEGIN IMMEDIATE"
"""Take the write lock at the start, so a transaction never fails half-way on a busy database."""

INSERT_OR_IGNORE = "INSERT OR IGNORE"
"""An insert that does nothing if the row breaks a constraint (`rowcount` tells whether it was added)."""

CONNECTION_SETTINGS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA secure_delete=ON",
)
"""Every connection's settings. `secure_delete` overwrites deleted content with zeros: without
it, whether a forgotten citizen's rows linger in free pages of the file depends on how the
SQLite library was built (the upstream default is off) (R10)."""

CHECKPOINT = "PRAGMA wal_checkpoint(TRUNCATE)"
"""Copy the WAL into the database and empty it: the WAL still holds the pages as they were
before a deletion until it is overwritten."""

SCHEMA_VERSION = "PRAGMA user_version"


def set_schema_version(number: int) -> str:
    return f"PRAGMA user_version={int(number)}"


def placeholders(count: int) -> str:
    """`?, ?, ?` for an `IN (...)` list of bound values."""
    return ", ".join("?" * count)


def literals(values: Iterable[str]) -> str:
    """A constant `IN (...)` list from our own fixed words (never user input)."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in sorted(values))
