"""Shared fixtures: the shipped catalog and a matcher built once per test session, and the
fake Telegram server (the Zalo tests define their own ``fake``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

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


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh database, for the tests of each storage concern."""
    s = await Store.open(tmp_path / "db.sqlite3")
    yield s
    await s.close()


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TELEGRAM_TOKEN) as server:
        yield server
