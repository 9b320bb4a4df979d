"""Shared fixtures: the shipped catalog and a matcher built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import Catalog, load_catalog
from bot.matching import Matcher

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT / "procedures")


@pytest.fixture(scope="session")
def matcher(catalog: Catalog) -> Matcher:
    return Matcher(catalog)
