"""Zalo Bot end to end (polling and webhook) against a fake Bot Platform; several channels in one process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from bot.config import ZaloOASettings
from bot.service import RunOptions, Service
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZaloBot, FakeZaloOA
from tests.helpers import make_config
from tests.test_zalo_oa import env as oa_env

pytestmark = pytest.mark.asyncio
CHAT = "7a1b2c3d4e5f"
CODE = "000.00.27.H15-251120-0012"
SECRET = "webhook-secret-123"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as server:
        yield server


async def start(fake: FakeZaloBot, db: Path, *, webhook: bool = False) -> Service:
    config = make_config(db, zalo_bot_base_url=fake.base_url, notifier_interval=0.2)
    env = {"ZALO_BOT_TOKEN": fake.token, "ZALO_BOT_WEBHOOK_SECRET": SECRET}
    service = Service(config, ["zalo-bot"], env, RunOptions(port=0, zalo_bot_webhook=webhook))
    await service.start()
    return service


async def say(fake: FakeZaloBot, text: str) -> str:
    before = len(fake.sent(CHAT))
    fake.push_text(CHAT, text)
    calls = await fake.wait_for("sendMessage", count=before + 1, chat_id=CHAT)
    return "\n".join(c.params["text"] for c in calls[before:])


async def test_polling_journey_with_numbered_choices(fake: FakeZaloBot, tmp_path: Path) -> None:
    service = await start(fake, tmp_path / "db.sqlite3")
    try:
        answer = await say(fake, "lam giay khai sinh cho con can gi")
        assert "Đăng ký khai sinh" in answer and "1. Lệ phí" in answer and "(Trả lời bằng số để chọn)" in answer
        assert (await say(fake, "1")).startswith("Đăng ký khai sinh · 💰 Lệ phí")
        assert "Có phải bạn hỏi về" in await say(fake, "chứng thực")
    finally:
        await service.stop()


async def test_redelivered_update_is_answered_once(fake: FakeZaloBot, tmp_path: Path) -> None:
    service = await start(fake, tmp_path / "db.sqlite3")
    try:
        await say(fake, "khai sinh")
        fake.redeliver_last()
        await say(fake, "menu")                          # answered; the re-delivered one was not
        assert len(fake.sent(CHAT)) == 2
    finally:
        await service.stop()


async def test_unsupported_message_gets_a_friendly_text(fake: FakeZaloBot, tmp_path: Path) -> None:
    service = await start(fake, tmp_path / "db.sqlite3")
    try:
        fake.push_event("message.unsupported.received", CHAT)
        [call] = await fake.wait_for("sendMessage", chat_id=CHAT)
        assert "chưa đọc được tin nhắn" in call.params["text"] and "1900 0000" in call.params["text"]
    finally:
        await service.stop()


async def test_lookup_and_notification_on_zalo_bot(fake: FakeZaloBot, tmp_path: Path) -> None:
    service = await start(fake, tmp_path / "db.sqlite3")
    try:
        assert service.app is not None
        await service.app.desk.add(CODE, "dang-ky-tam-tru", "Lê Thị Cúc", "0911222333")
        await say(fake, f"tra cứu {CODE}")
        view = await say(fake, "2333")
        assert f"Hồ sơ {CODE}" in view and "1. 🔔 Theo dõi" in view
        assert "Đã bật theo dõi" in await say(fake, "1")
        before = len(fake.sent(CHAT))
        await service.app.desk.update(CODE, "ready", "")
        [note] = (await fake.wait_for("sendMessage", count=before + 1, chat_id=CHAT))[before:]
        assert "Đã có kết quả" in note.params["text"]
        before = len(fake.sent(CHAT))
        await service.app.desk.update(CODE, "returned", "")
        [prompt] = (await fake.wait_for("sendMessage", count=before + 1, chat_id=CHAT))[before:]
        assert "1. Rất hài lòng" in prompt.params["text"]
        assert "(1/3" in await say(fake, "1")          # the number answers the notification's choices
        assert await service.app.store.rated(CODE)
        async with service.app.store.db.execute("SELECT level FROM ratings") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["5"]
    finally:
        await service.stop()


async def test_webhook_checks_the_secret_and_accepts_wrapped_and_flat_bodies(fake: FakeZaloBot, tmp_path: Path) -> None:
    service = await start(fake, tmp_path / "db.sqlite3", webhook=True)
    try:
        assert service.web is not None and not any(c.method == "getUpdates" for c in fake.calls)
        url = f"http://127.0.0.1:{service.web.port}/webhooks/zalo-bot"
        event = fake.text_event(CHAT, "khai sinh", message_id="w1")
        async with httpx.AsyncClient() as client:
            wrong = await client.post(url, content=fake.webhook_body(event), headers={"X-Bot-Api-Secret-Token": "nope"})
            missing = await client.post(url, content=fake.webhook_body(event))
            good = await client.post(url, content=fake.webhook_body(event), headers={"X-Bot-Api-Secret-Token": SECRET})
            await fake.wait_for("sendMessage", chat_id=CHAT)
            flat = fake.text_event(CHAT, "menu", message_id="w2")
            await client.post(url, content=fake.webhook_body(flat, wrapped=False), headers={"X-Bot-Api-Secret-Token": SECRET})
            await fake.wait_for("sendMessage", count=2, chat_id=CHAT)
            health = await client.get(f"http://127.0.0.1:{service.web.port}/healthz")
        assert (wrong.status_code, missing.status_code, good.status_code) == (403, 403, 200)
        assert health.json()["channels"] == ["zalo-bot"]
    finally:
        await service.stop()


async def test_missing_token_is_named(tmp_path: Path) -> None:
    from bot.config import ConfigError
    with pytest.raises(ConfigError, match="ZALO_BOT_TOKEN"):
        Service(make_config(tmp_path / "db.sqlite3"), ["zalo-bot"], {})
    with pytest.raises(ConfigError, match="ZALO_BOT_WEBHOOK_SECRET"):
        Service(make_config(tmp_path / "db.sqlite3"), ["zalo-bot"], {"ZALO_BOT_TOKEN": "x"}, RunOptions(zalo_bot_webhook=True))


async def test_telegram_and_zalo_oa_side_by_side_notify_each_follower_on_their_channel(tmp_path: Path) -> None:
    from bot.channels.zalo_oa import NAME as OA
    async with FakeTelegram("123456:TEST-token") as tg, FakeZaloOA() as oa:
        config = make_config(tmp_path / "db.sqlite3", telegram_base_url=tg.base_url, notifier_interval=0.2,
                             zalo_oa=ZaloOASettings(base_url=oa.base_url, oauth_url=oa.oauth_url))
        env = {"TELEGRAM_BOT_TOKEN": "123456:TEST-token", **oa_env(oa)}
        service = Service(config, ["telegram", "zalo-oa"], env, RunOptions(port=0))
        await service.start()
        try:
            assert service.app is not None and service.web is not None
            await service.app.desk.add(CODE, "dang-ky-tam-tru", "Lê Thị Cúc", "0911222333")
            await service.app.store.follow(OA, "zalo-user-1", CODE)
            await service.app.store.note_inbound(OA, "zalo-user-1")
            oa.interacted("zalo-user-1")
            await service.app.store.follow("telegram", "5001", CODE)
            await service.app.desk.update(CODE, "processing", "")
            [on_zalo] = await oa.wait_for("/v3.0/oa/message/cs", user_id="zalo-user-1")
            [on_telegram] = await tg.wait_for("sendMessage", chat_id=5001)
            assert "Đang xử lý" in on_zalo.body["message"]["text"] and "Đang xử lý" in on_telegram.params["text"]
            async with httpx.AsyncClient() as client:
                health = await client.get(f"http://127.0.0.1:{service.web.port}/healthz")
            assert health.json()["channels"] == ["telegram", "zalo-oa"]
        finally:
            await service.stop()


def hook(service: Service) -> tuple[str, dict[str, str]]:
    """Where the platform posts, and the secret header it sends."""
    assert service.web is not None
    return f"http://127.0.0.1:{service.web.port}/webhooks/zalo-bot", {"X-Bot-Api-Secret-Token": SECRET}


async def test_webhook_answers_400_to_malformed_json_with_the_right_secret(
        fake: FakeZaloBot, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    service = await start(fake, tmp_path / "db.sqlite3", webhook=True)
    try:
        url, headers = hook(service)
        bodies = [b'{"text": "0912345678"', b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000]
        async with httpx.AsyncClient() as client:
            statuses = [(await client.post(url, content=body, headers=headers)).status_code for body in bodies]
            event = fake.text_event(CHAT, "menu", message_id="after")
            assert (await client.post(url, content=fake.webhook_body(event), headers=headers)).status_code == 200
        assert statuses == [400] * len(bodies)             # a client error: the platform need not retry
        await fake.wait_for("sendMessage", chat_id=CHAT)   # and the next event is served
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        assert sum("is not JSON" in r.getMessage() for r in caplog.records) == len(bodies)
        assert "0912345678" not in caplog.text              # the body is not logged
    finally:
        await service.stop()


async def test_an_event_whose_message_is_not_an_object_is_ignored_without_a_traceback(
        fake: FakeZaloBot, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    service = await start(fake, tmp_path / "db.sqlite3", webhook=True)
    try:
        url, headers = hook(service)
        odd = {"event_name": "message.text.received", "message": "chào"}
        async with httpx.AsyncClient() as client:
            assert (await client.post(url, content=fake.webhook_body(odd), headers=headers)).status_code == 200
            event = fake.text_event(CHAT, "menu", message_id="after-odd")
            assert (await client.post(url, content=fake.webhook_body(event), headers=headers)).status_code == 200
        await fake.wait_for("sendMessage", chat_id=CHAT)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    finally:
        await service.stop()


async def test_polling_deletes_a_webhook_left_from_an_earlier_run(fake: FakeZaloBot, tmp_path: Path) -> None:
    """Audit row 21: getUpdates does not work while a webhook is set; polling used to go on in vain."""
    fake.webhook_url, fake.webhook_secret = "https://old.example/webhooks/zalo-bot", SECRET
    service = await start(fake, tmp_path / "db.sqlite3")
    try:
        assert fake.webhook_url is None
        assert "Xin chào" in await say(fake, "menu")
    finally:
        await service.stop()


async def test_a_polling_error_is_logged_with_its_code_and_description(fake: FakeZaloBot, tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    """Audit difference 8: the warning named only the exception's class."""
    fake.fail_next("getUpdates", error_code=429, description="Quota exceeded")
    service = await start(fake, tmp_path / "db.sqlite3")
    try:
        assert "Xin chào" in await say(fake, "menu")             # polling went on after the error
    finally:
        await service.stop()
    [warning] = [r.getMessage() for r in caplog.records if "polling failed" in r.getMessage()]
    assert "429" in warning and "Quota exceeded" in warning and fake.token not in warning
