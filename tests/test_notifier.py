"""Outbox delivery through the real Telegram application and the fake Bot API server."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import open_desk
from bot.catalog import load_catalog
from bot.channels import telegram
from bot.clock import now as office_now
from bot.messages import Reply, Undeliverable
from bot.notifier import MAX_ATTEMPTS, Notifier, backoff
from tests.helpers import make_config
from tests.test_telegram import CHAT, TOKEN, Bot

pytestmark = pytest.mark.asyncio
CODE = "000.00.27.H15-251120-0012"
ROOT = Path(__file__).resolve().parent.parent


async def register_and_follow(db: Path) -> None:
    """A case, and the Telegram citizen CHAT following it (as after a verified look-up)."""
    from tests.helpers import make_config
    desk = await open_desk(make_config(db))
    await desk.add(CODE, "dang-ky-thuong-tru", "Nguyễn Văn An", "0912345678")
    await desk.store.follow(telegram.NAME, str(CHAT), CODE)
    await desk.store.close()


async def update_case(db: Path, status: str, note: str = "") -> None:
    from tests.helpers import make_config
    desk = await open_desk(make_config(db))
    await desk.update(CODE, status, note, "cb")
    await desk.store.close()


async def test_a_change_made_while_the_bot_runs_reaches_the_follower(fake, tmp_path):
    db = tmp_path / "db.sqlite3"
    await register_and_follow(db)
    bot = Bot(fake, db)
    await bot.start()
    try:
        await update_case(db, "needs_supplement", "Tờ khai CT01 có chữ ký chủ hộ")
        [call] = await fake.wait_for("sendMessage", chat_id=CHAT)
        assert "Cần bổ sung hồ sơ" in call.params["text"] and "Tờ khai CT01" in call.params["text"]
        assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"case:{CODE}"
    finally:
        await bot.stop()


async def test_a_change_made_while_the_bot_was_down_is_delivered_after_start(fake, tmp_path):
    db = tmp_path / "db.sqlite3"
    await register_and_follow(db)
    await update_case(db, "ready")
    bot = Bot(fake, db)
    await bot.start()
    try:
        [call] = await fake.wait_for("sendMessage", chat_id=CHAT)
        assert "Đã có kết quả" in call.params["text"]
    finally:
        await bot.stop()
    from bot.storage import Store
    store = await Store.open(db)
    [row] = await store.outbox_rows()
    assert row.delivered_at is not None
    await store.close()


async def test_a_change_made_by_the_cli_in_another_process_reaches_the_citizen(fake, tmp_path):
    db = tmp_path / "db.sqlite3"
    await register_and_follow(db)
    bot = Bot(fake, db, notifier_interval=0.2)
    await bot.start()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bot", "cases", "update", CODE, "processing", "--staff", "cb.lan"],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "MOTCUA_DB": str(db)}, timeout=60)
        assert out.returncode == 0, out.stderr
        [call] = await fake.wait_for("sendMessage", chat_id=CHAT)
        assert "Đang xử lý" in call.params["text"]
    finally:
        await bot.stop()


async def test_a_failed_send_is_retried_with_backoff_and_delivered_once(fake, tmp_path):
    from bot.storage import Store

    db = tmp_path / "db.sqlite3"
    await register_and_follow(db)
    # the Telegram channel only as a client: not started, so no polling and no notifier of its own
    channel = telegram.TelegramChannel(TOKEN, fake.base_url, handle=None)  # type: ignore[arg-type]
    await channel.application.initialize()
    try:
        clock = [office_now()]
        store = await Store.open(db)
        catalog = load_catalog(make_config(db).procedures)
        notifier = Notifier(store, {telegram.NAME: channel}, catalog, clock=lambda: clock[0])
        fake.fail_next("sendMessage", times=1)
        await update_case(db, "processing")
        clock[0] = office_now()  # after the row was written, whichever second that fell in
        assert await notifier.deliver_due() == 0
        [row] = await store.outbox_rows()
        assert row.attempts == 1 and row.delivered_at is None
        assert await notifier.deliver_due() == 0                      # not yet: backing off
        clock[0] += backoff(1) + dt.timedelta(seconds=1)
        assert await notifier.deliver_due() == 1
        assert await notifier.deliver_due() == 0                      # never twice
        delivered = [c for c in fake.sent(CHAT) if "Đang xử lý" in c.params.get("text", "")]
        assert len(delivered) == 1
        await store.close()
    finally:
        await channel.application.shutdown()


async def test_backoff_grows_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [2, 4, 8]
    assert backoff(50) == dt.timedelta(hours=1)


class Refusing:
    """A channel whose platform refuses every notification, in the way given."""

    name = "refusing"

    def __init__(self, error: Exception):
        self.error = error
        self.tries = 0

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None:
        self.tries += 1
        raise self.error


@pytest.mark.parametrize("error, tries", [(RuntimeError("HTTP 502"), MAX_ATTEMPTS), (Undeliverable("blocked"), 1)])
async def test_a_notification_that_cannot_be_delivered_is_set_aside_not_retried_for_ever(tmp_path, error, tries):
    """R21: rows the platform never accepts were retried hourly for ever and survived every purge."""
    from bot.storage import Store

    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        channel = Refusing(error)
        clock = [office_now()]
        notifier = Notifier(store, {channel.name: channel}, load_catalog(make_config(tmp_path / "x").procedures),
                            clock=lambda: clock[0])
        await store.enqueue(channel.name, "u", "reply", {"ref": "H000001", "answer": "Chào bạn", "office": "X"})
        for _ in range(MAX_ATTEMPTS + 5):
            await notifier.deliver_due()
            clock[0] += dt.timedelta(hours=2)               # past any back-off
        [row] = await store.outbox_rows()
        assert channel.tries == tries and row.given_up_at is not None and row.delivered_at is None
        assert await store.due_outbox([channel.name], clock[0]) == []
    finally:
        await store.close()


class Counting:
    name = "counting"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None:
        self.sent.append(user)


async def test_two_processes_on_one_database_send_each_notification_once(tmp_path):
    """R14: two bots on one database sent 45 notifications for 20 changes."""
    import asyncio

    from bot.storage import Store

    a, b = await Store.open(tmp_path / "db.sqlite3"), await Store.open(tmp_path / "db.sqlite3")
    try:
        channel = Counting()
        catalog = load_catalog(make_config(tmp_path / "x").procedures)
        for n in range(30):
            await a.enqueue(channel.name, f"u{n}", "reply", {"ref": "H000001", "answer": "Chào bạn", "office": "X"})
        first, second = Notifier(a, {channel.name: channel}, catalog), Notifier(b, {channel.name: channel}, catalog)
        delivered = await asyncio.gather(first.deliver_due(), second.deliver_due(), first.deliver_due())
        assert sum(delivered) == 30 and sorted(channel.sent) == sorted(f"u{n}" for n in range(30))
    finally:
        await a.close()
        await b.close()


async def test_rows_claimed_by_a_process_that_died_are_sent_after_the_claim_expires(tmp_path):
    from bot.notifier import LEASE
    from bot.storage import Store

    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        await store.enqueue("counting", "u", "reply", {"ref": "H000001", "answer": "Chào bạn", "office": "X"})
        start = office_now()
        assert len(await store.claim_due(["counting"], start, LEASE)) == 1      # taken, then the process died
        channel = Counting()
        catalog = load_catalog(make_config(tmp_path / "x").procedures)
        assert await Notifier(store, {channel.name: channel}, catalog, clock=lambda: start).deliver_due() == 0
        later = start + LEASE
        assert await Notifier(store, {channel.name: channel}, catalog, clock=lambda: later).deliver_due() == 1
    finally:
        await store.close()


async def test_a_restarted_process_takes_back_its_claims_at_once(tmp_path):
    """A bot killed mid-pass and started again must not leave its citizens waiting for the
    claims to expire (the crash test kills it five times)."""
    from bot.notifier import LEASE
    from bot.storage import Store

    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        await store.enqueue("counting", "u", "reply", {"ref": "H000001", "answer": "Chào bạn", "office": "X"})
        start = office_now()
        await store.claim_due(["counting"], start, LEASE)                        # then killed
        channel = Counting()
        notifier = Notifier(store, {channel.name: channel}, load_catalog(make_config(tmp_path / "x").procedures),
                            clock=lambda: start)
        assert await notifier.deliver_due() == 0
        assert await store.release_claims([channel.name]) == 1                   # what run() does first
        assert await notifier.deliver_due() == 1 and channel.sent == ["u"]
    finally:
        await store.close()


class Paced(Counting):
    """A channel whose platform takes at most two messages a second (Zalo OA, Zalo Bot)."""

    name = "paced"
    outbound_rate = 2.0


async def test_a_channel_with_an_outbound_rate_is_sent_to_no_faster(tmp_path):
    """Issue 15 item 10: a burst of status changes went to Zalo as fast as the loop ran."""
    from bot.notifier import Pace
    from bot.storage import Store

    clock, waits = [100.0], []

    async def sleep(seconds: float) -> None:              # the pace's own clock: no real waiting
        waits.append(seconds)
        clock[0] += seconds

    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        paced, free = Paced(), Counting()
        notifier = Notifier(store, {paced.name: paced, free.name: free},
                            load_catalog(make_config(tmp_path / "x").procedures),
                            pace=lambda rate: Pace(rate, lambda: clock[0], sleep))
        for n in range(5):
            await store.enqueue(paced.name, f"u{n}", "reply", {"ref": "H1", "answer": "Chào", "office": "X"})
            await store.enqueue(free.name, f"u{n}", "reply", {"ref": "H1", "answer": "Chào", "office": "X"})
        assert await notifier.deliver_due() == 10
        assert len(paced.sent) == len(free.sent) == 5
        assert waits == [0.5] * 4                         # two a second on the paced channel, none on the other
    finally:
        await store.close()


async def test_template_fields_are_short_facts_of_the_notification(tmp_path):
    from bot.notifier import template_fields

    catalog = load_catalog(make_config(tmp_path / "x").procedures)
    when = dt.datetime(2026, 11, 30, 9, 0)
    status = template_fields("status", {"code": CODE, "status": "ready", "procedure": "dang-ky-thuong-tru",
                                        "note": ""}, catalog, when)
    assert status == {"code": CODE, "status": "Đã có kết quả, chờ trả", "procedure": "Đăng ký thường trú",
                      "note": "", "date": "30/11/2026"}
    answer = template_fields("reply", {"ref": "H000001", "answer": "Mời bạn đến nộp bản gốc", "office": "X"},
                             catalog, when)
    assert answer["code"] == "H000001" and answer["note"] == "Mời bạn đến nộp bản gốc"
