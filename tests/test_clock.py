"""The office's clock reads Vietnam time whatever zone the server is set to."""

from __future__ import annotations

import datetime as dt
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot import clock
from bot.app import open_desk
from tests.helpers import make_config

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def server_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set the process's time zone as a server's would be; restored afterwards."""

    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


def vietnam_now() -> dt.datetime:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).replace(tzinfo=None)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_now_is_vietnam_time_whatever_the_server_zone(server_zone: Callable[[str], None], zone: str) -> None:
    server_zone(zone)
    assert abs(dt.datetime.now() - vietnam_now()) > dt.timedelta(hours=1)   # the zone really is another one
    assert abs(clock.now() - vietnam_now()) < MINUTE
    assert clock.now().tzinfo is None and clock.now().microsecond == 0
    assert clock.today() == vietnam_now().date()


class _FrozenDatetime(dt.datetime):
    """Monday 30/11/2026 09:00 UTC, 16:00 in Vietnam; `now()` honours the zone like the real one."""

    INSTANT = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
        return cls.INSTANT.astimezone(tz) if tz else cls.INSTANT.astimezone().replace(tzinfo=None)


@pytest.mark.asyncio
async def test_a_case_received_at_16_vietnam_time_counts_from_the_next_working_day(
        server_zone: Callable[[str], None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server_zone("UTC")
    monkeypatch.setattr(clock, "dt", types.SimpleNamespace(datetime=_FrozenDatetime))
    desk = await open_desk(make_config(tmp_path / "db.sqlite3"))
    try:
        case = await desk.add("000.00.27.H15-251130-0001", "dang-ky-thuong-tru", "Nguyễn Văn An", "0912345678")
    finally:
        await desk.store.close()
    assert case.received == dt.datetime(2026, 11, 30, 16, 0)
    # after the 15:00 cut-off: received Tuesday 1/12, then 7 working days (at 09:00 it would be 9/12)
    assert case.due == dt.date(2026, 12, 10)
