"""The outbox as stored: which rows are due, what a failed or held-back attempt records, who is woken."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot import clock
from bot.storage import Store

pytestmark = pytest.mark.asyncio


def later(minutes: int = 5) -> dt.datetime:
    return clock.now() + dt.timedelta(minutes=minutes)


async def ids(store: Store, channels: list[str], at: dt.datetime) -> list[int]:
    return [row.id for row in await store.due_outbox(channels, at)]


async def test_a_queued_row_keeps_its_payload_and_is_due_at_once(store: Store):
    await store.enqueue("zalo-oa", "u1", "status", {"code": "C1", "note": "Tờ khai có chữ ký"})
    [row] = await store.outbox_rows()
    assert (row.channel, row.user, row.kind, row.attempts, row.waiting, row.delivered_at) == (
        "zalo-oa", "u1", "status", 0, False, None)
    assert json.loads(row.payload) == {"code": "C1", "note": "Tờ khai có chữ ký"}
    assert await ids(store, ["zalo-oa"], later()) == [row.id]


async def test_due_rows_respect_next_try_waiting_and_delivered(store: Store):
    for user in ("ready", "retry", "waiting", "delivered"):
        await store.enqueue("t", user, "status", {"text": user})
    ready, retry, waiting, delivered = await store.outbox_rows()
    await store.mark_failed(retry.id, 1, later(60), "timeout")
    await store.mark_waiting(waiting.id, "reply window closed")
    await store.mark_delivered(delivered.id)
    assert await ids(store, ["t"], later()) == [ready.id]
    assert await ids(store, ["t"], later(61)) == [ready.id, retry.id]   # its back-off has passed
    assert await store.due_outbox([], later(61)) == []                    # a process serving no channel


async def test_due_rows_are_only_those_of_the_channels_served_oldest_first_up_to_the_limit(store: Store):
    for channel in ("telegram", "zalo-oa", "zalo-bot", "telegram", "telegram"):
        await store.enqueue(channel, "u", "status", {"text": "x"})
    rows = await store.outbox_rows()
    assert await ids(store, ["zalo-oa"], later()) == [rows[1].id]
    assert await ids(store, ["telegram", "zalo-bot"], later()) == [rows[0].id, rows[2].id, rows[3].id, rows[4].id]
    assert [r.id for r in await store.due_outbox(["telegram"], later(), limit=2)] == [rows[0].id, rows[3].id]


async def test_a_failed_attempt_records_the_count_the_next_try_and_a_bounded_error(store: Store):
    await store.enqueue("t", "u", "status", {"text": "x"})
    [row] = await store.outbox_rows()
    retry_at = later(8).replace(microsecond=0)
    await store.mark_failed(row.id, 3, retry_at, "E" * 1000)
    [failed] = await store.outbox_rows()
    assert (failed.attempts, failed.next_try, failed.last_error) == (3, retry_at, "E" * 300)
    assert failed.delivered_at is None


async def test_a_delivered_row_keeps_its_first_delivery_time(store: Store):
    await store.enqueue("t", "u", "status", {"text": "x"})
    [row] = await store.outbox_rows()
    await store.mark_delivered(row.id)
    await store.db.execute("UPDATE outbox SET delivered_at = '2026-01-01T08:00:00' WHERE id = ?", (row.id,))
    await store.mark_delivered(row.id)                       # a second report of the same delivery
    [again] = await store.outbox_rows()
    assert again.delivered_at == dt.datetime(2026, 1, 1, 8)


async def test_a_waiting_row_records_why(store: Store):
    await store.enqueue("zalo-oa", "u", "status", {"text": "x"})
    [row] = await store.outbox_rows()
    await store.mark_waiting(row.id, "ngoài 48 giờ")
    [held] = await store.outbox_rows()
    assert held.waiting and held.last_error == "ngoài 48 giờ"


async def test_enqueue_wakes_the_listeners_and_bookkeeping_does_not(store: Store):
    woken: list[str] = []
    store.outbox_listeners.append(lambda: woken.append("notifier"))
    await store.enqueue("t", "u", "status", {"text": "x"})
    assert woken == ["notifier"]
    [row] = await store.outbox_rows()
    await store.mark_failed(row.id, 1, later(), "timeout")
    await store.mark_waiting(row.id, "later")
    await store.mark_delivered(row.id)
    assert woken == ["notifier"]


async def test_rows_set_aside_are_listed_until_the_citizen_writes_again_then_due(store: Store):
    for user in ("u1", "u2"):
        await store.enqueue("zalo-oa", user, "status", {"code": f"C-{user}"})
    first, second = await store.outbox_rows()
    claimed = await store.claim_due(["zalo-oa"], clock.now(), dt.timedelta(minutes=5))
    assert [r.id for r in claimed] == [first.id, second.id]
    await store.mark_given_up(first.id, 1, "Undeliverable: Zalo error -230")
    assert [r.id for r in await store.set_aside()] == [first.id]
    assert await ids(store, ["zalo-oa"], later()) == [second.id]     # still claimed: not due
    await store.note_inbound("zalo-oa", "u1")                          # the citizen writes again
    assert await store.set_aside() == []
    [released] = [r for r in await store.outbox_rows() if r.id == first.id]
    assert released.given_up_at is None and released.attempts == 0
    assert first.id in [r.id for r in await store.claim_due(["zalo-oa"], clock.now(), dt.timedelta(minutes=5))]


async def test_a_channel_alert_is_kept_until_cleared(store: Store):
    assert await store.alerts() == []
    await store.raise_alert("zalo-oa", "refresh refused")
    await store.raise_alert("zalo-oa", "refresh refused again")
    [(channel, problem, since)] = await store.alerts()
    assert (channel, problem) == ("zalo-oa", "refresh refused again") and since <= clock.now()
    await store.clear_alert("zalo-oa")
    assert await store.alerts() == []
