"""Running the bot: channels start and stop around one store, unknown names are refused up front, the notifier ends first."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.channels import registry
from bot.channels.registry import ChannelSpec, Parts
from bot.config import ConfigError
from bot.messages import Reply
from bot.service import RunOptions, Service
from bot.storage.db import StorageError
from bot.web import WebServer
from tests.helpers import make_config

pytestmark = pytest.mark.asyncio
NAME = "recorder"


class Recorder:
    """A channel that needs no platform: it writes down what the service asks of it."""

    def __init__(self, parts: Parts, events: list[str]):
        self.name = NAME
        self.parts = parts
        self.events = events
        self.web_server: WebServer | str | None = "not started"
        self.sending = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.delivered_at_stop: list[bool] = []

    async def start(self, web_server: WebServer | None) -> None:
        self.web_server = web_server
        self.events.append("start")

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None:
        self.events.append(f"send {user}: {replies[0].text}")
        self.sending.set()
        await self.release.wait()
        self.events.append("sent")

    async def stop(self) -> None:
        self.events.append("stop")
        # the database is still open while a channel stops; the notifier's last row is already marked
        self.delivered_at_stop = [row.delivered_at is not None for row in await self.parts.store.outbox_rows()]


@pytest.fixture
def recorders(monkeypatch: pytest.MonkeyPatch) -> list[Recorder]:
    built: list[Recorder] = []
    events: list[str] = []

    def build(parts: Parts) -> Recorder:
        built.append(Recorder(parts, events))
        return built[-1]

    monkeypatch.setitem(registry.REGISTRY, NAME, ChannelSpec(NAME, build))  # type: ignore[index]
    return built


async def test_a_service_with_no_webhook_channel_starts_without_a_web_server_and_stops_cleanly(
        tmp_path: Path, recorders: list[Recorder]):
    service = Service(make_config(tmp_path / "db.sqlite3"), [NAME, NAME], {}, RunOptions(port=0))
    assert not service.needs_web
    await service.start()
    [channel] = recorders                                          # a name given twice starts once
    assert channel.web_server is None and service.web is None
    assert list(service.channels) == [NAME] and service.app is not None and service.notifier is not None
    store = service.app.store
    await service.stop()
    assert channel.events == ["start", "stop"]
    assert (service.app, service.http, service.notifier, service.channels) == (None, None, None, {})
    with pytest.raises(ValueError):                                # the database is closed
        await store.outbox_rows()


async def test_an_unknown_channel_is_refused_before_anything_starts(tmp_path: Path, recorders: list[Recorder]):
    db = tmp_path / "db.sqlite3"
    with pytest.raises(ConfigError, match=r"unknown channel\(s\): viber"):
        Service(make_config(db), [NAME, "viber"], {})
    assert recorders == [] and not db.exists()


async def test_a_channel_that_fails_to_start_stops_the_ones_already_started(
        tmp_path: Path, recorders: list[Recorder], monkeypatch: pytest.MonkeyPatch):
    def broken(parts: Parts) -> Recorder:
        raise RuntimeError("platform refused the token")

    monkeypatch.setitem(registry.REGISTRY, "broken", ChannelSpec("broken", broken))  # type: ignore[index]
    service = Service(make_config(tmp_path / "db.sqlite3"), [NAME, "broken"], {})
    with pytest.raises(RuntimeError, match="refused the token"):
        await service.start()
    [started] = recorders
    assert started.events == ["start", "stop"]
    assert service.app is None and service.channels == {} and service.notifier is None


async def test_the_notifier_finishes_its_send_before_the_channels_stop(tmp_path: Path, recorders: list[Recorder]):
    service = Service(make_config(tmp_path / "db.sqlite3"), [NAME], {})
    await service.start()
    [channel] = recorders
    assert service.app is not None and service.notifier is not None
    channel.release.clear()                                        # the platform is slow to answer
    notifier, stop_notifier = service.notifier, service.notifier.stop

    def stop_and_answer() -> None:
        channel.events.append("notifier stop")
        stop_notifier()
        channel.release.set()                                      # the platform answers once stopping began

    notifier.stop = stop_and_answer  # type: ignore[method-assign]
    await service.app.store.enqueue(NAME, "u1", "status", {"text": "Hồ sơ đã có kết quả"})
    await asyncio.wait_for(channel.sending.wait(), 30)             # a guard against hanging, not a timing
    await service.stop()
    assert channel.events == ["start", "send u1: Hồ sơ đã có kết quả", "notifier stop", "sent", "stop"]
    assert channel.delivered_at_stop == [True]


async def test_sigterm_while_a_channel_is_still_starting_stops_the_service(
        tmp_path: Path, recorders: list[Recorder], monkeypatch: pytest.MonkeyPatch):
    """R9: a start that never finishes (a platform that does not answer) no longer makes the
    process deaf to systemd's SIGTERM; what was started is stopped and the signals given back."""
    entered, never = asyncio.Event(), asyncio.Event()

    class Stuck(Recorder):
        async def start(self, web_server: WebServer | None) -> None:
            entered.set()
            await never.wait()

    def stuck(parts: Parts) -> Recorder:
        recorders.append(Stuck(parts, []))
        return recorders[-1]

    monkeypatch.setitem(registry.REGISTRY, "stuck", ChannelSpec("stuck", stuck))  # type: ignore[index]
    before = signal.getsignal(signal.SIGTERM)
    service = Service(make_config(tmp_path / "db.sqlite3"), [NAME, "stuck"], {})
    running = asyncio.create_task(service.run())
    await asyncio.wait_for(entered.wait(), 30)                    # a guard against hanging, not a timing
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(running, 30)
    assert recorders[0].events == ["start", "stop"]
    assert service.app is None and service.channels == {} and service.http is None
    assert signal.getsignal(signal.SIGTERM) == before


async def test_a_service_that_cannot_open_its_database_says_so_and_gives_the_signals_back(
        tmp_path: Path, recorders: list[Recorder]):
    db = tmp_path / "db.sqlite3"
    db.write_text("not a database\n", encoding="utf-8")
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with pytest.raises(StorageError, match=r"^Không dùng được cơ sở dữ liệu .*db\.sqlite3"):
        await Service(make_config(db), [NAME], {}).run()
    assert recorders == []
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
