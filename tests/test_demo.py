"""Demo cases: a newcomer's first `motcua chat` finds three cases to look up, added once and never over real data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import build_app, open_desk
from bot.cases import CaseDesk
from bot.demo import DEMO_PHONE, ensure_demo_cases, seed_month, welcome
from bot.messages import Incoming
from tests.helpers import make_config

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def desk(tmp_path: Path) -> AsyncIterator[CaseDesk]:
    d = await open_desk(make_config(tmp_path / "db.sqlite3"))
    yield d
    await d.store.close()


async def test_three_cases_in_telling_states_are_added_to_an_empty_database(desk: CaseDesk):
    codes = await ensure_demo_cases(desk)
    assert len(codes) == 3
    cases = [await desk.require(code) for code in codes]
    assert [c.status for c in cases] == ["processing", "needs_supplement", "processing"]
    assert all(c.phone == DEMO_PHONE for c in cases)
    assert "Bản vẽ thiết kế" in cases[1].last_note()     # what to bring is shown on the supplement case
    assert [s.staff for s in cases[0].history] == ["demo", "demo"]


async def test_a_second_call_adds_nothing(desk: CaseDesk):
    first = await ensure_demo_cases(desk)
    assert await ensure_demo_cases(desk) == []
    assert sorted(c.code for c in await desk.store.cases()) == sorted(first)


async def test_a_database_with_real_cases_gets_no_demo_cases(desk: CaseDesk):
    await desk.add("000.00.27.H15-251120-0012", "dang-ky-thuong-tru", "Phạm Thị Thật", "0987654321")
    assert await ensure_demo_cases(desk) == []
    assert [c.name for c in await desk.store.cases()] == ["Phạm Thị Thật"]
    assert await seed_month(desk) == 0


async def test_the_welcome_lists_every_code_and_the_digits_to_type(desk: CaseDesk):
    assert welcome([]) == ""
    codes = await ensure_demo_cases(desk)
    text = welcome(codes)
    assert all(code in text for code in codes)
    assert DEMO_PHONE[-4:] in text and DEMO_PHONE not in text


async def test_a_demo_case_can_be_looked_up_in_the_chat_with_the_digits_the_welcome_gives(tmp_path: Path):
    app = await build_app(make_config(tmp_path / "db.sqlite3"))
    try:
        codes = await ensure_demo_cases(app.desk)
        await app.dialog.handle(Incoming("console", "me", text=f"tra cứu {codes[1]}"))
        replies = await app.dialog.handle(Incoming("console", "me", text=DEMO_PHONE[-4:]))
        shown = "\n".join(r.text for r in replies)
        assert f"Hồ sơ {codes[1]}" in shown and "Cần bổ sung hồ sơ" in shown
    finally:
        await app.close()
