"""Shared test helpers: a config pointing at temporary files and fake servers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from bot.catalog import Catalog
from bot.config import Config, load_config
from bot.messages import Reply
from bot.notifier import render

ROOT = Path(__file__).resolve().parent.parent


def make_config(db: Path, **changes: object) -> Config:
    """The shipped config with its own database file and any field replaced."""
    config = load_config(ROOT / "config.yaml", env={})
    return dataclasses.replace(config, database=db, **changes)


def delivered(row: Any, catalog: Catalog, rating_scale: int = 5) -> Reply:
    """An outbox row as its recipient will read it: rows hold facts, the notifier words them."""
    return render(row.kind, json.loads(row.payload), catalog, rating_scale)
