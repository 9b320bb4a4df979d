"""Shared test helpers: a config pointing at temporary files and fake servers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


def make_config(db: Path, **changes: object) -> Config:
    """The shipped config with its own database file and any field replaced."""
    config = load_config(ROOT / "config.yaml", env={})
    return dataclasses.replace(config, database=db, **changes)
