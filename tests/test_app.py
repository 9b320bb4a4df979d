"""Wiring: one build gives a dialog and a desk on the same database, and the staff-only desk loads no model."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

import bot.app
import bot.classifier
from bot.app import build_app, make_desk, open_desk
from bot.cases import CaseError
from bot.catalog import load_catalog
from bot.messages import Incoming
from bot.storage import Store
from bot.wording import apology
from tests.helpers import make_config

pytestmark = pytest.mark.asyncio
CODE = "000.00.27.H15-251120-0012"


async def test_the_dialog_answers_a_question_and_sees_a_case_the_desk_registers(tmp_path: Path):
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    try:
        [answer] = await app.dialog.handle(Incoming("test", "u", text="đăng ký tạm trú cần giấy tờ gì"))
        assert "Đăng ký tạm trú" in answer.text
        assert app.desk.store is app.store and app.dialog.store is app.store
        await app.desk.add(CODE, "dang-ky-tam-tru", "Lê Thị Cúc", "0911222333", staff="cb")
        assert "4 số cuối" in "\n".join(r.text for r in await app.dialog.handle(Incoming("test", "u", text=f"tra cứu {CODE}")))
        shown = "\n".join(r.text for r in await app.dialog.handle(Incoming("test", "u", text="2333")))
        assert f"Hồ sơ {CODE}" in shown and "Đăng ký tạm trú" in shown
    finally:
        await app.close()
    reopened = await Store.open(tmp_path / "db.sqlite3")          # what the desk wrote is on disk
    try:
        assert (await reopened.case(CODE)).name == "Lê Thị Cúc"
    finally:
        await reopened.close()


async def test_close_closes_the_database(tmp_path: Path):
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    await app.close()
    with pytest.raises(ValueError):
        await app.store.get_state("test", "u")


async def test_open_desk_loads_no_understanding_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path / "model-cache"
    cache.mkdir()
    monkeypatch.setenv(bot.classifier.ENV_CACHE, str(cache))

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("a staff command loaded the understanding model")

    monkeypatch.setattr(bot.classifier, "load_model", no_model)
    desk = await open_desk(make_config(tmp_path / "db.sqlite3"))
    try:
        case = await desk.add(CODE, "dang-ky-tam-tru", "Lê Thị Cúc", "0911222333", staff="cb")
        assert case.status == "received" and case.due > case.received.date()
        await desk.update(CODE, "processing", "", "cb")
    finally:
        await desk.store.close()
    assert list(cache.iterdir()) == []


async def test_the_desk_follows_the_configured_office_days_off_and_code_pattern(tmp_path: Path):
    base = make_config(tmp_path / "db.sqlite3")
    config = dataclasses.replace(base, office=dataclasses.replace(base.office, name="UBND phường Thử"),
                                 days_off=(dt.date(2026, 12, 2),), case_code_pattern=r"HS-\d{4}")
    store = await Store.open(config.database)
    try:
        desk = make_desk(config, store, load_catalog(config.procedures))
        case = await desk.add("HS-0001", "dang-ky-thuong-tru", "Lê Thị Cúc", "0911222333",
                              received=dt.datetime(2026, 11, 30, 9))
        assert desk.office_of(case).name == "UBND phường Thử"
        assert case.due == dt.date(2026, 12, 10)    # 7 working days, one later for the office's day off
        with pytest.raises(CaseError):
            await desk.add(CODE, "dang-ky-thuong-tru", "Lê Thị Cúc", "0911222333")
    finally:
        await store.close()


async def test_a_turn_waits_for_another_process_write_while_another_turn_is_reading(tmp_path: Path):
    """R12: the CLI holds a write transaction while one turn is part-way through its rows and
    another turn writes. The writer waits its turn and the citizen gets an answer; before, the
    open read left the connection on a stale snapshot and the turn failed at once with
    `database is locked` and an apology."""
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    loop = asyncio.get_running_loop()
    writing = asyncio.Event()

    def trace(sql: str) -> None:                      # on the connection's thread
        if sql.startswith("BEGIN"):
            loop.call_soon_threadsafe(writing.set)

    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)   # the staff CLI
    try:
        for user in ("a", "b", "c"):
            await app.store.save_state("test", user, {"step": 1})
        async with app.store.db.execute("SELECT user FROM conversations") as reading:    # a turn reading
            assert await reading.fetchone() is not None
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE conversations SET updated_at = updated_at")
            await app.store.db.set_trace_callback(trace)
            turn = asyncio.create_task(app.dialog.handle(Incoming("test", "u", text="đăng ký tạm trú cần giấy tờ gì")))
            await asyncio.wait_for(writing.wait(), 30)   # the turn asked for the write lock (a guard, not a timing)
            other.execute("COMMIT")                      # the CLI finishes while the turn waits
            [answer] = await asyncio.wait_for(turn, 30)
            assert [row["user"] for row in await reading.fetchall()] == ["b", "c"]
    finally:
        other.close()
        await app.close()
    assert answer.text != apology(app.config.office).text
    assert "Đăng ký tạm trú" in answer.text
