"""Two real `motcua run telegram` processes on one PostgreSQL database, against the fake Telegram
server in polling mode: one of them polls (Telegram allows one poller per token), a status change
made by a third process reaches the follower once and at once (the notifier interval is set far
beyond the test's patience, so only NOTIFY can wake it), and when the poller stops the other takes
over and continues the citizen's conversation where the first left it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml

from bot.app import open_desk
from bot.cases import CaseDesk
from bot.config import load_config
from tests.fakes.telegram import FakeTelegram
from tests.helpers import delivered

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:PG-token"
CITIZEN = 7001
CODE = "000.00.27.H15-251120-0001"
PHONE = "0912345678"
pytestmark = pytest.mark.asyncio


class BotProcess:
    def __init__(self, config_path: Path, fake: FakeTelegram):
        self.env = {**os.environ, "MOTCUA_CONFIG": str(config_path), "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_BASE_URL": fake.base_url}
        self.env.pop("MOTCUA_DB", None)
        self.process: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self._reader: asyncio.Task[None] | None = None
        self._line = asyncio.Condition()

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "telegram", cwd=ROOT, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            async with self._line:
                self.log.append(raw.decode(errors="replace"))
                self._line.notify_all()

    async def wait_log(self, needle: str) -> BotProcess:
        async with self._line:
            await self._line.wait_for(lambda: any(needle in line for line in self.log))
        return self

    @staticmethod
    async def standing_by(*processes: BotProcess, timeout: float = 60) -> BotProcess:
        """The process that found another polling and waits to take over."""
        waits = [asyncio.create_task(p.wait_log("another process polls it; standing by")) for p in processes]
        done, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        assert done, "neither process stands by: both poll"
        return done.pop().result()

    async def stop(self) -> None:
        """SIGTERM, as systemd stops it; a process that does not end is killed, then reported."""
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise
            assert code == 0, "".join(self.log[-20:])
        if self._reader:
            await self._reader


def texts(fake: FakeTelegram, needle: str) -> list[str]:
    return [str(c.params["text"]) for c in fake.sent(CITIZEN) if needle in str(c.params.get("text", ""))]


async def test_two_processes_share_one_database_with_one_poller(tmp_path: Path, postgres_url: str):
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["notifier"] = {"interval_seconds": 3600}
    config["procedures"] = str(ROOT / "procedures")
    config["database"] = postgres_url
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    desk = await open_desk(load_config(config_path, env={}))
    await desk.add(CODE, "dang-ky-ket-hon", "Nguyễn Văn An", PHONE)

    async with FakeTelegram(TOKEN) as fake:
        first, second = BotProcess(config_path, fake), BotProcess(config_path, fake)
        try:
            await asyncio.gather(first.start(), second.start())
            await fake.wait_for("setMyCommands", timeout=120)     # both load the model side by side
            standby = await BotProcess.standing_by(first, second)
            leader = first if standby is second else second
            assert len(await fake.wait_for("setMyCommands")) == 1          # one poller

            fake.push_text(CITIZEN, f"tra cứu {CODE}")
            await fake.wait_for("sendMessage", chat_id=CITIZEN, where=lambda c: "4 số cuối" in c.params["text"])
            fake.push_text(CITIZEN, PHONE[-4:])
            await fake.wait_for("sendMessage", chat_id=CITIZEN, where=lambda c: "Trạng thái:" in c.params["text"])
            fake.push_callback(CITIZEN, f"follow:{CODE}")
            await fake.wait_for("sendMessage", chat_id=CITIZEN, where=lambda c: "Đã bật theo dõi" in c.params["text"])

            # an officer's change from a third process: the notifier hears of it through NOTIFY
            processing = await notified_once(fake, desk, "processing")

            # the poller stops: the other takes over and continues the same conversation
            await leader.stop()
            await fake.wait_for("setMyCommands", count=2, timeout=60)
            shown = len(texts(fake, "Trạng thái:"))
            fake.push_callback(CITIZEN, f"case:{CODE}")       # shown only to who proved they own it
            await fake.wait_for("sendMessage", chat_id=CITIZEN, count=shown + 1, timeout=30,
                                where=lambda c: "Trạng thái:" in c.params["text"])
            await notified_once(fake, desk, "ready")
            assert len(texts(fake, processing)) == 1      # the process taking over did not send it again
        finally:
            stopped = await asyncio.gather(first.stop(), second.stop(), return_exceptions=True)
            await desk.store.close()
            for outcome in stopped:
                if isinstance(outcome, BaseException):
                    raise outcome


async def notified_once(fake: FakeTelegram, desk: CaseDesk, status: str) -> str:
    """The change reaches the follower, worded as its outbox row says, exactly once; its text."""
    await desk.update(CODE, status, staff="cb")
    rows = [row for row in await desk.store.outbox_rows() if status in row.payload]
    assert len(rows) == 1
    text = delivered(rows[0], desk.catalog).text
    await fake.wait_for("sendMessage", chat_id=CITIZEN, timeout=30, where=lambda c: c.params["text"] == text)
    assert len(texts(fake, text)) == 1
    return text
