"""A citizen's turns run one at a time, different citizens side by side, and no lock outlives its use."""

from __future__ import annotations

import asyncio

import pytest

from bot.locks import KeyedLock, Pace


@pytest.mark.asyncio
async def test_same_key_waits_other_keys_do_not() -> None:
    locks = KeyedLock()
    order: list[str] = []
    release, entered = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with locks.hold("a"):
            order.append("a1 in")
            entered.set()
            await release.wait()
            order.append("a1 out")

    async def second() -> None:
        async with locks.hold("a"):
            order.append("a2 in")

    async def other() -> None:
        async with locks.hold("b"):
            order.append("b in")

    t1 = asyncio.create_task(first())
    await entered.wait()
    t2 = asyncio.create_task(second())
    await asyncio.create_task(other())
    assert order == ["a1 in", "b in"]   # b did not wait for a; a2 did
    release.set()
    await asyncio.gather(t1, t2)
    assert order == ["a1 in", "b in", "a1 out", "a2 in"]
    assert len(locks) == 0


@pytest.mark.asyncio
async def test_a_failing_holder_releases_and_forgets_the_key() -> None:
    locks = KeyedLock()
    with pytest.raises(RuntimeError):
        async with locks.hold("a"):
            raise RuntimeError("turn failed")
    assert len(locks) == 0
    async with locks.hold("a"):
        assert len(locks) == 1


def test_pace_serves_the_limit_tells_once_then_drops_until_the_window_passes() -> None:
    now = [0.0]
    pace = Pace(3, 60.0, clock=lambda: now[0])
    assert [pace.check("a") for _ in range(5)] == [None, None, None, True, False]
    assert pace.check("b") is None                      # others are not slowed
    now[0] = 60.0
    assert pace.check("a") is None                      # the oldest left the window


def test_pace_forgets_idle_senders() -> None:
    now = [0.0]
    pace = Pace(1, 1.0, clock=lambda: now[0])
    for n in range(10_002):
        pace.check(n)
    now[0] = 5.0
    pace.check("new")
    assert len(pace) == 1
