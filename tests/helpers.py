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


OFFICE_A, OFFICE_B = "03127", "03256"
CODE_A, CODE_B = "000.01.11.H15-251120-0001", "000.02.11.H15-251120-0002"
"""Two communes of one deployment, each with its case-code prefix and one officer on the test channel."""


def write_offices_config(folder: Path, db: Path) -> Path:
    """A config file for a deployment of two communes (offices.yaml beside it), on its own database."""
    (folder / "offices.yaml").write_text(f"""offices:
  - code: "{OFFICE_A}"
    name: Phường Điện Biên Phủ
    address: Số 1 đường Võ Nguyên Giáp, phường Điện Biên Phủ
    hours: Thứ Hai – Thứ Sáu 7:30–11:30
    hotline: "0215 111 1111"
    prefix: 000.01.11.H15
    staff: {{test: [officer_a]}}
  - code: "{OFFICE_B}"
    name: Xã Mường Ảng
    address: Số 2 đường Mường Ảng, xã Mường Ảng
    hours: Thứ Hai – Thứ Sáu 7:00–11:00
    hotline: "0215 222 2222"
    prefix: 000.02.11.H15
    staff: {{test: [officer_b]}}
""", encoding="utf-8")
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config = config.replace("# offices: offices.yaml", "offices: offices.yaml")
    config = config.replace("database: data/motcua.sqlite3", f"database: {db}")
    config = config.replace("procedures: procedures", f"procedures: {ROOT / 'procedures'}")
    path = folder / "config.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def make_offices_config(folder: Path, db: Path) -> Config:
    return load_config(write_offices_config(folder, db), env={})
