"""Channel bookkeeping: tokens survive a restart, re-delivered messages are seen once, reply windows release held notifications."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot import clock
from bot.storage import Store

pytestmark = pytest.mark.asyncio
OA = "zalo-oa"


def soon() -> dt.datetime:
    return clock.now() + dt.timedelta(minutes=1)


async def test_a_new_token_pair_replaces_the_old_one_and_survives_a_restart(tmp_path: Path):
    store = await Store.open(tmp_path / "db.sqlite3")
    assert await store.tokens(OA) is None
    await store.save_tokens(OA, "access-1", "refresh-1", dt.datetime(2026, 11, 20, 9))
    await store.save_tokens(OA, "access-2", "refresh-2", dt.datetime(2026, 11, 21, 9))   # refresh-1 is spent
    await store.close()
    again = await Store.open(tmp_path / "db.sqlite3")
    try:
        row = await again.tokens(OA)
        assert row is not None
        assert (row.access_token, row.refresh_token, row.expires_at) == ("access-2", "refresh-2",
                                                                          dt.datetime(2026, 11, 21, 9))
        assert await again.tokens("zalo-bot") is None
    finally:
        await again.close()


async def test_first_sight_is_true_once_per_message_id_and_channel(store: Store):
    assert await store.first_sight(OA, "msg-1") is True
    assert await store.first_sight(OA, "msg-1") is False      # the platform delivered it again
    assert await store.first_sight(OA, "msg-1") is False
    assert await store.first_sight(OA, "msg-2") is True
    assert await store.first_sight("zalo-bot", "msg-1") is True   # ids are only unique per platform


async def test_no_window_until_the_citizen_writes(store: Store):
    assert await store.reply_window(OA, "u") is None


async def test_note_inbound_reopens_the_window(store: Store):
    await store.note_inbound(OA, "u")
    await store.db.execute("UPDATE reply_windows SET last_inbound = '2026-01-01T08:00:00'")   # the window closed
    assert await store.reply_window(OA, "u") == dt.datetime(2026, 1, 1, 8)
    await store.note_inbound(OA, "u")
    opened = await store.reply_window(OA, "u")
    assert opened is not None and opened > dt.datetime(2026, 1, 1, 8)
    assert await store.reply_window(OA, "other") is None


async def test_note_inbound_releases_only_that_citizens_waiting_rows_and_wakes_the_notifier(store: Store):
    for user in ("u", "u", "other"):
        await store.enqueue(OA, user, "status", {"text": "x"})
    await store.enqueue("zalo-bot", "u", "status", {"text": "same id on another platform"})
    held_u, delivered_u, held_other, held_bot = await store.outbox_rows()
    for row in (held_u, delivered_u, held_other, held_bot):
        await store.mark_waiting(row.id, "reply window closed")
    await store.mark_delivered(delivered_u.id)
    assert await store.due_outbox([OA, "zalo-bot"], soon()) == []
    woken: list[str] = []
    store.outbox_listeners.append(lambda: woken.append("notifier"))
    await store.note_inbound(OA, "u")
    assert [r.id for r in await store.due_outbox([OA, "zalo-bot"], soon())] == [held_u.id]
    assert woken == ["notifier"]
    rows = {r.id: r for r in await store.outbox_rows()}
    assert rows[held_other.id].waiting and rows[held_bot.id].waiting and rows[delivered_u.id].waiting


async def test_a_message_with_nothing_waiting_wakes_nobody(store: Store):
    woken: list[str] = []
    store.outbox_listeners.append(lambda: woken.append("notifier"))
    await store.note_inbound(OA, "u")
    assert woken == []
