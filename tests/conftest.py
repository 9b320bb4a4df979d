"""Shared fixtures: the shipped catalog and a matcher built once per test session, the store on
each database motcua runs on, and the fake Telegram server (the Zalo tests define their own ``fake``)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from bot.catalog import Catalog, load_catalog
from bot.classifier import Model, load_model
from bot.matching import Matcher
from bot.storage import Store
from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_TOKEN = "123456:TEST-token"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT / "procedures")


@pytest.fixture(scope="session")
def model(catalog: Catalog) -> Model:
    return load_model(catalog)


@pytest.fixture(scope="session")
def matcher(catalog: Catalog, model: Model) -> Matcher:
    return Matcher(catalog, model)


POSTGRES = os.environ.get("MOTCUA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server the tests use; each test makes its own schema in it and drops it."""


@pytest_asyncio.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A URL to an empty schema of its own on the test server. Without a server the test is
    skipped, saying why; in CI (`CI=true`) a missing server fails it instead."""
    schema = f"t_{secrets.token_hex(6)}"
    try:
        admin = await asyncpg.connect(POSTGRES, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"no PostgreSQL server at {POSTGRES} ({type(exc).__name__}: {exc}); set MOTCUA_TEST_POSTGRES"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        yield f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}search_path={schema}"
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a test's store lives: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return tmp_path / "db.sqlite3"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest_asyncio.fixture
async def store(database: str | Path) -> AsyncIterator[Store]:
    """A fresh database, for the tests of each storage concern, on SQLite and on PostgreSQL."""
    s = await Store.open(database)
    yield s
    await s.close()


@pytest_asyncio.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh SQLite database, for what only SQLite has (its file, its pragmas, its write lock)."""
    s = await Store.open(tmp_path / "db.sqlite3")
    yield s
    await s.close()


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TELEGRAM_TOKEN) as server:
        yield server
