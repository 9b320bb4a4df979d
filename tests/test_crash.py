"""Crash safety: the bot as a real process, killed with SIGKILL mid-work and restarted.

Every step the bot acknowledged (a reply was sent) must be in the database afterwards, and
every notification row must be delivered: at least once, and a second time only if a kill
fell between the send and its bookkeeping (at most one such row per kill).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.app import open_desk
from bot.cases import STATUS_NAMES
from bot.catalog import load_catalog
from bot.config import load_config
from bot.storage import Store
from tests.fakes.telegram import Call, FakeTelegram
from tests.helpers import delivered as rendered

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:CRASH-token"
STAFF = 9000
CITIZENS = [7001 + i for i in range(8)]
CODES = [f"000.00.27.H15-251120-{i:04d}" for i in range(1, len(CITIZENS) + 1)]
PHONES = [f"09123456{i:02d}" for i in range(len(CITIZENS))]
pytestmark = pytest.mark.asyncio


class BotProcess:
    def __init__(self, tmp: Path, fake: FakeTelegram):
        config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config["staff"] = {"telegram": [STAFF]}
        config["notifier"] = {"interval_seconds": 0.2}
        config["procedures"] = str(ROOT / "procedures")
        config["database"] = str(tmp / "bot.sqlite3")
        self.config_path = tmp / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        self.env = {**os.environ, "MOTCUA_CONFIG": str(self.config_path), "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_BASE_URL": fake.base_url}
        self.env.pop("MOTCUA_DB", None)
        self.fake = fake
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "telegram", cwd=ROOT, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        self.starts += 1
        await self.fake.wait_for("setMyCommands", count=self.starts, timeout=60)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(self.process.wait(), 30) == 0


def replies(fake: FakeTelegram, chat: int, needle: str) -> list[Call]:
    return [c for c in fake.sent(chat) if needle in str(c.params.get("text", ""))]


async def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    async with FakeTelegram(TOKEN) as fake:
        bot = BotProcess(tmp_path, fake)
        desk = await open_desk(load_config(bot.config_path, env={}))
        for code, phone in zip(CODES, PHONES):
            await desk.add(code, "dang-ky-ket-hon", "Nguyễn Văn An", phone)
        await desk.store.close()
        await bot.start()
        kills = 0

        async def chaos() -> None:
            """Kill at a random moment while updates are in flight, then start again."""
            nonlocal kills
            await asyncio.sleep(rng.uniform(0.0, 0.4))   # choosing the moment, not synchronising
            await bot.kill()
            kills += 1
            await bot.start()

        # 1. every citizen looks up their case and follows it, under a kill
        for chat, code in zip(CITIZENS, CODES):
            fake.push_text(chat, f"tra cứu {code}")
        await chaos()
        for chat, code in zip(CITIZENS, CODES):
            if not replies(fake, chat, "4 số cuối"):
                fake.push_text(chat, f"tra cứu {code}")
        for chat in CITIZENS:
            await fake.wait_for("sendMessage", chat_id=chat, where=lambda c: "4 số cuối" in c.params["text"], timeout=60)
        for chat, phone in zip(CITIZENS, PHONES):
            fake.push_text(chat, phone[-4:])
        for chat in CITIZENS:
            await fake.wait_for("sendMessage", chat_id=chat, where=lambda c: "Trạng thái:" in c.params["text"], timeout=60)
        for chat, code in zip(CITIZENS, CODES):
            fake.push_callback(chat, f"follow:{code}")
        await chaos()
        for chat, code in zip(CITIZENS, CODES):
            if not replies(fake, chat, "Đã bật theo dõi"):
                fake.push_callback(chat, f"follow:{code}", message_id=1)
        for chat in CITIZENS:
            await fake.wait_for("sendMessage", chat_id=chat, where=lambda c: "Đã bật theo dõi" in c.params["text"], timeout=60)

        # 2. staff move every case through three statuses while the bot is killed twice
        for status in ("processing", "ready", "returned"):
            for code in CODES:
                fake.push_text(STAFF, f"/hoso capnhat {code} {status}")
            if status != "ready":
                await chaos()
            # a kill may have eaten some commands: staff see no "Đã cập nhật" and send them again
            name = STATUS_NAMES[status]                  # staff read the status's name
            for code in CODES:
                done = [c for c in replies(fake, STAFF, "Đã cập nhật") if code in c.params["text"]
                        and f"Trạng thái: {name} ·" in c.params["text"]]
                if not done:
                    fake.push_text(STAFF, f"/hoso capnhat {code} {status}")
            for code in CODES:
                await fake.wait_for("sendMessage", chat_id=STAFF, timeout=60,
                                    where=lambda c, code=code, name=name: code in c.params["text"]
                                    and (f"Trạng thái: {name} ·" in c.params["text"]
                                         or f"trạng thái {name}" in c.params["text"]
                                         or "đã kết thúc" in c.params["text"]))

        # 3. every citizen rates, under a kill
        for chat, code in zip(CITIZENS, CODES):
            fake.push_callback(chat, f"rate:{code}:5", message_id=1)
        await chaos()
        for chat, code in zip(CITIZENS, CODES):
            if not replies(fake, chat, "(1/3") and not replies(fake, chat, "đã được ghi nhận"):
                fake.push_callback(chat, f"rate:{code}:5", message_id=1)
        for chat in CITIZENS:
            await fake.wait_for("sendMessage", chat_id=chat, timeout=60,
                                where=lambda c: "(1/3" in c.params["text"] or "đã được ghi nhận" in c.params["text"])

        # 4. a clean run lets the notifier deliver everything, then a graceful stop
        store = await Store.open(tmp_path / "bot.sqlite3")
        rows = await store.outbox_rows()
        await store.close()
        assert len(rows) == 3 * len(CITIZENS)
        await fake.wait_for("sendMessage", count=len(rows), timeout=60, where=lambda c: c.params["text"].startswith("🔔"))
        await bot.terminate()

        store = await Store.open(tmp_path / "bot.sqlite3")
        try:
            assert kills == 5
            rows = await store.outbox_rows()
            assert all(r.delivered_at for r in rows)
            delivered = Counter((c.params["chat_id"], c.params["text"]) for c in fake.sent()
                                if str(c.params.get("text", "")).startswith("🔔"))
            catalog = load_catalog(ROOT / "procedures")
            per_row = [delivered[(int(r.user), rendered(r, catalog).text)] for r in rows]
            assert all(n >= 1 for n in per_row), "a notification was lost"
            assert sum(n - 1 for n in per_row) <= kills, "more duplicates than kills"
            for chat, code in zip(CITIZENS, CODES):
                assert await store.is_following("telegram", str(chat), code)
                history = [h.status for h in await store.case_history(code)]
                assert history[-3:] == ["processing", "ready", "returned"]
                assert await store.rated(code)
            async with store.db.execute("SELECT level, COUNT(*) FROM ratings GROUP BY level") as cur:
                assert [tuple(r) for r in await cur.fetchall()] == [("5", len(CODES))]   # one rating a case
        finally:
            await store.close()
