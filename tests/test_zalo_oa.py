"""Zalo OA end to end: our service's webhook and client against a fake OA and OAuth server."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot import clock
from bot.channels.http import open_session
from bot.channels.zalo_oa import NAME, OASecrets, ZaloOAClient
from bot.config import ZaloOASettings
from bot.messages import Reply
from bot.service import RunOptions, Service
from bot.storage import Store
from tests.fakes.zalo import FakeZaloOA
from tests.helpers import make_config

pytestmark = pytest.mark.asyncio
USER = "4455667788990011223"
CODE = "000.00.27.H15-251120-0012"


def env(fake: FakeZaloOA) -> dict[str, str]:
    return {"ZALO_APP_ID": "app-123", "ZALO_APP_SECRET": "app-secret", "ZALO_OA_SECRET_KEY": "oa-secret",
            "ZALO_OA_ACCESS_TOKEN": "at-0", "ZALO_OA_REFRESH_TOKEN": "rt-0"}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA() as server:
        yield server


class OABot:
    def __init__(self, fake: FakeZaloOA, db: Path, **settings: object):
        self.fake = fake
        zalo = ZaloOASettings(base_url=fake.base_url, oauth_url=fake.oauth_url, **settings)  # type: ignore[arg-type]
        self.config = make_config(db, zalo_oa=zalo, notifier_interval=0.2)
        self.service: Service | None = None

    async def start(self) -> None:
        self.service = Service(self.config, ["zalo-oa"], env(self.fake), RunOptions(port=0))
        await self.service.start()

    async def stop(self) -> None:
        assert self.service is not None
        await self.service.stop()

    @property
    def url(self) -> str:
        assert self.service is not None and self.service.web is not None
        return f"http://127.0.0.1:{self.service.web.port}/webhooks/zalo-oa"

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.post(self.url, content=body, headers=headers)

    async def say(self, text: str, user: str = USER) -> list[dict]:
        before = len(self.fake.sent(user))
        response = await self.post(*self.fake.text_event(user, text, msg_id=f"m{time.monotonic_ns()}"))
        assert response.status_code == 200
        calls = await self.fake.wait_for("/v3.0/oa/message/cs", count=before + 1, user_id=user)
        return [c.body["message"] for c in calls[before:]]


@pytest_asyncio.fixture
async def bot(fake: FakeZaloOA, tmp_path: Path) -> AsyncIterator[OABot]:
    b = OABot(fake, tmp_path / "db.sqlite3")
    await b.start()
    yield b
    await b.stop()


def buttons(message: dict) -> dict[str, str]:
    return {b["title"]: b["payload"] for b in message.get("attachment", {}).get("payload", {}).get("buttons", [])}


async def test_birth_question_then_a_section_by_button_payload(bot: OABot) -> None:
    [answer] = await bot.say("lam giay khai sinh cho con can gi")
    assert "Đăng ký khai sinh" in answer["text"] and "Giấy chứng sinh" in answer["text"]
    # more than five buttons: numbered choices in the text, and a number chooses
    assert "1. Lệ phí" in answer["text"] and "attachment" not in answer
    [fee] = await bot.say("1")
    assert fee["text"].startswith("Đăng ký khai sinh · 💰 Lệ phí")


async def test_few_buttons_go_as_a_template_and_its_payload_comes_back_as_an_action(bot: OABot) -> None:
    [ask] = await bot.say("chứng thực")
    options = buttons(ask)
    assert "Chứng thực chữ ký" in options and all(p.startswith("#") for p in options.values())
    assert all(b["type"] == "oa.query.hide" for b in ask["attachment"]["payload"]["buttons"])
    [answer] = await bot.say(options["Chứng thực chữ ký"])
    assert answer["text"].startswith("Chứng thực chữ ký")


async def test_if_zalo_drops_the_buttons_the_numbered_choices_in_the_text_still_work(bot: OABot,
                                                                                     fake: FakeZaloOA) -> None:
    """Audit row 13: no Zalo SDK confirms the button template on /message/cs; if Zalo accepts
    it and shows only the text, the citizen must still see the choices and be able to pick one."""
    fake.drop_buttons = True
    await bot.say("chứng thực")
    seen = fake.sent(USER)[-1].shown
    assert "attachment" in fake.sent(USER)[-1].body["message"]          # buttons were sent, and dropped
    line = next(x for x in seen.splitlines() if "Chứng thực chữ ký" in x)
    [answer] = await bot.say(line.split(".")[0])                       # the citizen types its number
    assert answer["text"].startswith("Chứng thực chữ ký")


async def test_refused_template_falls_back_to_numbered_choices(fake: FakeZaloOA, tmp_path: Path) -> None:
    fake.reject_templates = True
    b = OABot(fake, tmp_path / "db.sqlite3")
    await b.start()
    try:
        [ask] = await b.say("chứng thực")
        assert "attachment" not in ask and "1. Chứng thực bản sao" in ask["text"]
    finally:
        await b.stop()


async def test_bad_missing_or_stale_signatures_are_refused_without_side_effects(bot: OABot, fake: FakeZaloOA) -> None:
    body, headers = fake.text_event(USER, "khai sinh", msg_id="x1")
    forged = {**headers, "X-ZEvent-Signature": "mac=" + "0" * 64}
    assert (await bot.post(body, forged)).status_code == 401
    assert (await bot.post(body, {"Content-Type": "application/json"})).status_code == 401
    four_hours_ago = int((time.time() - 4 * 3600) * 1000)   # past Zalo's whole retry ladder and its margin
    old_body, old_headers = fake.text_event(USER, "khai sinh", msg_id="x2", timestamp_ms=four_hours_ago)
    assert (await bot.post(old_body, old_headers)).status_code == 401
    tampered = body.replace(b"khai sinh", b"khai tu!!")
    assert (await bot.post(tampered, headers)).status_code == 401
    assert fake.sent() == []
    assert bot.service is not None and bot.service.app is not None
    assert await bot.service.app.store.get_state(NAME, USER) == {}


async def test_a_redelivered_event_is_answered_once(bot: OABot, fake: FakeZaloOA) -> None:
    body, headers = fake.text_event(USER, "khai sinh", msg_id="same-1")
    assert (await bot.post(body, headers)).status_code == 200
    await fake.wait_for("/v3.0/oa/message/cs", user_id=USER)
    assert (await bot.post(body, headers)).status_code == 200
    [then] = await bot.say("menu")
    assert "Xin chào" in then["text"]
    assert len(fake.sent(USER)) == 2


async def test_a_new_follower_is_welcomed_and_a_picture_gets_what_the_bot_can_read(bot: OABot,
                                                                                   fake: FakeZaloOA) -> None:
    """Audit row 9: follow and images, stickers, files got no answer at all."""
    body, headers = fake.event("follow", USER)
    assert (await bot.post(body, headers)).status_code == 200
    [welcome] = await fake.wait_for("/v3.0/oa/message/cs", user_id=USER)
    assert "Xin chào" in welcome.body["message"]["text"]
    for n, kind in enumerate(("user_send_image", "user_send_sticker", "user_send_file")):
        body, headers = fake.event(kind, USER, {"msg_id": f"a{n}", "attachments": [{"type": kind[10:]}]})
        assert (await bot.post(body, headers)).status_code == 200
        answer = (await fake.wait_for("/v3.0/oa/message/cs", count=n + 2, user_id=USER))[-1]
        assert "chỉ đọc được tin nhắn dạng chữ" in answer.body["message"]["text"]
    body, headers = fake.event("unfollow", USER)
    assert (await bot.post(body, headers)).status_code == 200
    [menu] = await bot.say("menu")
    assert len(fake.sent(USER)) == 5 and "Xin chào" in menu["text"]


async def test_a_5000_character_answer_arrives_as_three_messages(bot: OABot, fake: FakeZaloOA) -> None:
    assert bot.service is not None
    await bot.say("menu")                                    # the citizen wrote: the reply window is open
    text = "\n\n".join(["Hướng dẫn chi tiết về thủ tục hành chính tại một cửa. " * 6] * 15) + " Hết." * 30
    assert 4900 <= len(text) <= 5100
    before = len(fake.sent(USER))
    await bot.service.channels[NAME].send(USER, [Reply(text)])
    sent = [c.body["message"]["text"] for c in fake.sent(USER)[before:]]
    assert len(sent) == 3 and all(len(t) <= 2000 for t in sent)
    assert " ".join(" ".join(sent).split()) == " ".join(text.split())


async def test_lookup_follow_notification_and_rating(bot: OABot, fake: FakeZaloOA) -> None:
    assert bot.service is not None and bot.service.app is not None
    desk = bot.service.app.desk
    await desk.add(CODE, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678")
    assert "4 số cuối" in (await bot.say(f"tra cứu {CODE}"))[0]["text"]
    [view] = await bot.say("5678")
    assert f"Hồ sơ {CODE}" in view["text"]
    [followed] = await bot.say(buttons(view)["🔔 Theo dõi, báo khi có thay đổi"])
    assert "Đã bật theo dõi" in followed["text"]
    before = len(fake.sent(USER))
    await desk.update(CODE, "returned", "")
    calls = await fake.wait_for("/v3.0/oa/message/cs", count=before + 1, user_id=USER)
    [note] = [c.body["message"] for c in calls[before:]]
    assert "Đã trả kết quả" in note["text"] and "Bạn hài lòng thế nào" in note["text"]
    [question] = await bot.say(buttons(note)["Rất hài lòng"])
    assert "(1/3" in question["text"]
    assert await bot.service.app.store.rated(CODE)
    async with bot.service.app.store.db.execute("SELECT level FROM ratings") as cur:
        assert [r[0] for r in await cur.fetchall()] == ["5"]


async def followed_case(bot: OABot, last_wrote: dt.timedelta | None) -> Any:
    """A case USER follows, having last written `last_wrote` ago (as Zalo and our database know)."""
    assert bot.service is not None and bot.service.app is not None
    app = bot.service.app
    await app.desk.add(CODE, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678")
    await app.store.follow(NAME, USER, CODE)
    if last_wrote is not None:
        bot.fake.interacted(USER, seconds_ago=last_wrote.total_seconds())
        await app.store.db.execute("INSERT INTO reply_windows (channel, user, last_inbound) VALUES (?, ?, ?)",
                                   (NAME, USER, (clock.now() - last_wrote).isoformat()))
    return app


async def test_notification_outside_the_48h_window_waits_until_the_citizen_writes(bot: OABot, fake: FakeZaloOA) -> None:
    app = await followed_case(bot, dt.timedelta(hours=49))
    await app.desk.update(CODE, "processing", "")
    assert bot.service is not None and bot.service.notifier is not None
    await bot.service.notifier.deliver_due()
    [row] = await app.store.outbox_rows()
    assert row.waiting == 1 and row.delivered_at is None and fake.sent(USER) == []
    replies = await bot.say("xin chào")                  # the citizen writes: the window reopens
    calls = await fake.wait_for("/v3.0/oa/message/cs", count=len(replies) + 1, user_id=USER)
    assert any("Đang xử lý" in c.body["message"]["text"] for c in calls)
    assert not any(c.billable for c in calls)
    database = bot.config.database
    await bot.stop()                                         # a graceful stop finishes the notifier's pass
    store = await Store.open(database)
    [row] = await store.outbox_rows()
    assert row.delivered_at is not None
    await store.close()


async def test_replies_within_48_hours_are_not_capped_at_eight(bot: OABot, fake: FakeZaloOA) -> None:
    """Audit row 16: since 1 Jan 2026 replies within 48 h are free and unlimited; ten replies
    used to hold a notification back until the citizen wrote again."""
    for _ in range(10):
        await bot.say("menu")
    app = await followed_case(bot, None)
    await app.desk.update(CODE, "processing", "")
    [note] = (await fake.wait_for("/v3.0/oa/message/cs", count=11, user_id=USER))[10:]
    assert "Đang xử lý" in note.body["message"]["text"] and not note.billable


@pytest.mark.parametrize("billable", [True, False])
async def test_billable_replies_up_to_seven_days_are_sent_only_when_configured(
        fake: FakeZaloOA, tmp_path: Path, billable: bool) -> None:
    b = OABot(fake, tmp_path / "db.sqlite3", billable_replies=billable)
    await b.start()
    try:
        app = await followed_case(b, dt.timedelta(days=3))
        await app.desk.update(CODE, "processing", "")
        assert b.service is not None and b.service.notifier is not None
        await b.service.notifier.deliver_due()
        [row] = await app.store.outbox_rows()
        if billable:
            [call] = fake.sent(USER)
            assert call.billable and "Đang xử lý" in call.body["message"]["text"] and row.delivered_at
        else:
            assert fake.sent(USER) == [] and row.waiting
    finally:
        await b.stop()


TEMPLATE = {"template_id": "405123", "template_params": (("ma_ho_so", "code"), ("trang_thai", "status"),
                                                          ("ngay", "date"))}


async def test_outside_the_window_a_notification_goes_as_the_approved_template(fake: FakeZaloOA,
                                                                              tmp_path: Path) -> None:
    """Audit row 14: the UID transaction service ended on 1 March 2026 and only ever took
    transaction_* templates; the news goes as the office's approved ZBS template."""
    fake.approve_template("405123", "ma_ho_so", "trang_thai", "ngay")
    b = OABot(fake, tmp_path / "db.sqlite3", **TEMPLATE)
    await b.start()
    try:
        app = await followed_case(b, dt.timedelta(days=10))
        await app.desk.update(CODE, "processing", "")
        [call] = await fake.wait_for("/v3.0/oa/message/template", user_id=USER)
        assert call.body["template_id"] == "405123"
        assert call.body["template_data"] == {"ma_ho_so": CODE, "trang_thai": "Đang xử lý",
                                              "ngay": clock.now().strftime("%d/%m/%Y")}
        assert not [c for c in fake.calls if c.path == "/v3.0/oa/message/transaction"]
    finally:
        await b.stop()


async def failed_list(db: Path) -> str:
    import asyncio
    import contextlib
    import io

    from bot.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await asyncio.to_thread(main, ["notifications", "--failed", "--db", str(db)]) == 0
    return out.getvalue()


@pytest.mark.parametrize("refusal", ["window", "blocked", "template"])
async def test_a_permanent_refusal_is_set_aside_listed_and_delivered_when_the_citizen_writes(
        fake: FakeZaloOA, tmp_path: Path, refusal: str) -> None:
    """A notification Zalo will never take as it is (-230 past 7 days, -213 blocked, -109 a
    wrong template) was retried for a day; now it is set aside at once, staff see it, and the
    citizen gets the news with their next message."""
    fake.approve_template("999", "x")                              # not the template configured
    b = OABot(fake, tmp_path / "db.sqlite3", **(TEMPLATE if refusal == "template" else {}))
    await b.start()
    try:
        assert b.service is not None and b.service.notifier is not None
        app = await followed_case(b, dt.timedelta(days=10 if refusal == "template" else 1))
        if refusal == "window":
            fake.interacted(USER, seconds_ago=8 * 86400)            # Zalo knows better than our record
        if refusal == "blocked":
            fake.block(USER)
        await app.desk.update(CODE, "processing", "")
        await b.service.notifier.deliver_due()
        [row] = await app.store.outbox_rows()
        assert row.given_up_at is not None and row.attempts == 1
        listed = await failed_list(b.config.database)
        assert CODE in listed and "1 thông báo chưa gửi được" in listed
        fake.blocked.clear()                                        # writing again means they unblocked
        replies = await b.say("xin chào")
        calls = await fake.wait_for("/v3.0/oa/message/cs", count=len(replies) + 1, user_id=USER)
        assert any("Đang xử lý" in c.body["message"]["text"] for c in calls)
        assert "Không có thông báo nào bị gác lại" in await failed_list(b.config.database)
    finally:
        await b.stop()


async def test_token_refresh_across_expiry_and_a_crash_right_after_refresh(fake: FakeZaloOA, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    settings = ZaloOASettings(base_url=fake.base_url, oauth_url=fake.oauth_url)
    secrets = OASecrets("app-123", "app-secret", "oa-secret", "at-0", "rt-0")
    async with open_session() as http:
        store = await Store.open(db)
        client = ZaloOAClient(http, store, secrets, settings)
        await client.ensure_tokens()
        fake.interacted(USER)
        in_20_hours = (clock.now() + dt.timedelta(hours=20)).isoformat()
        await store.db.execute("UPDATE channel_tokens SET expires_at = ?", (in_20_hours,))
        await client.send_text(USER, "một")
        fake.expire_access_tokens()                       # 25 hours later: Zalo refuses the old token
        await client.send_text(USER, "hai")               # refreshed once and retried
        assert fake.refresh_count == 1
        row = await store.tokens(NAME)
        assert (row.access_token, row.refresh_token) == ("at-1", "rt-1")
        # refresh again, then "crash" before using the new pair: a new process must use it
        await client.refresh("at-1")
        await store.close()
        assert fake.refresh_count == 2
        store = await Store.open(db)
        restarted = ZaloOAClient(http, store, secrets, settings)
        await restarted.ensure_tokens()                   # the environment's old pair is ignored now
        await restarted.send_text(USER, "ba")
        assert fake.refresh_count == 2 and fake.sent(USER)[-1].headers["access_token"] == "at-2"
        fake.expire_access_tokens()
        await restarted.send_text(USER, "bốn")            # the stored single-use refresh token still works
        assert fake.refresh_count == 3
        await store.close()


async def test_a_token_expired_or_removed_minus_220_is_refreshed_and_the_message_sent(bot: OABot,
                                                                                    fake: FakeZaloOA) -> None:
    """Audit row 15: only -216 led to a refresh; after -220 every reply failed for up to a day."""
    await bot.say("menu")
    refreshes = fake.refresh_count
    fake.expire_access_tokens(-220)
    [menu] = await bot.say("menu")
    assert "Xin chào" in menu["text"] and fake.refresh_count == refreshes + 1


async def test_the_tokens_are_renewed_while_nothing_is_sent(fake: FakeZaloOA, tmp_path: Path) -> None:
    """Audit row 19: the refresh token lapses three months after issue and tokens were renewed
    only when a message went out, so a quiet OA lost its grant without a word."""
    b = OABot(fake, tmp_path / "db.sqlite3")
    await b.start()                                         # the environment's pair: age unknown
    try:
        await fake.wait_for("/v4/oa/access_token")          # renewed with nothing sent
        assert fake.sent() == []
    finally:
        await b.stop()                                      # waits for the new pair to be saved
    store = await Store.open(b.config.database)
    row = await store.tokens(NAME)
    await store.close()
    assert row is not None and row.refresh_token == fake.refresh_token == "rt-1"


async def test_a_refused_refresh_is_an_error_staff_see_with_what_to_do_until_a_new_grant(
        fake: FakeZaloOA, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    b = OABot(fake, tmp_path / "db.sqlite3")
    await b.start()
    await fake.wait_for("/v4/oa/access_token")
    fake.revoke_grant()                                     # the OA administrator removed the app
    body, headers = fake.text_event(USER, "menu", msg_id="g1")
    assert (await b.post(body, headers)).status_code == 200
    await b.stop()
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR and "token" in r.getMessage()]
    assert "ZALO_OA_REFRESH_TOKEN" in error.getMessage()
    listed = await failed_list(b.config.database)
    assert "zalo-oa" in listed and "cấp quyền lại" in listed and "khởi động lại" in listed
    # the administrator grants again and sets the new pair in the environment: it replaces the refused one
    fake.refresh_token, fake.access_tokens = "rt-new", {"at-new"}
    fresh = {**env(fake), "ZALO_OA_ACCESS_TOKEN": "at-new", "ZALO_OA_REFRESH_TOKEN": "rt-new"}
    b.service = Service(b.config, ["zalo-oa"], fresh, RunOptions(port=0))
    await b.service.start()
    try:
        [menu] = await b.say("menu")
        assert "Xin chào" in menu["text"]
        assert "Không có thông báo nào bị gác lại" in await failed_list(b.config.database)
    finally:
        await b.stop()


async def test_zalo_retries_across_its_whole_ladder_are_answered_once(bot: OABot, fake: FakeZaloOA) -> None:
    """Audit row 6: Zalo re-sends an unacknowledged event after 30 s, 5, 15, 30 min and 1 h
    with its first timestamp; events older than 300 s got 401, so messages written during an
    outage of a few minutes were lost."""
    first_sent = time.time() - fake.retry_delay(5)          # the bot was down for every earlier try
    body, headers = fake.text_event(USER, "menu", msg_id="outage-1", timestamp_ms=int(first_sent * 1000))
    assert (await bot.post(body, fake.retry_headers(headers, 5))).status_code == 200
    [menu] = await fake.wait_for("/v3.0/oa/message/cs", user_id=USER)
    assert "Xin chào" in menu.body["message"]["text"]
    assert (await bot.post(body, fake.retry_headers(headers, 5))).status_code == 200   # once more: ignored
    forged = {**fake.retry_headers(headers, 4), "X-ZEvent-Signature": "mac=" + "1" * 64}
    assert (await bot.post(body.replace(b"menu", b"hack"), forged)).status_code == 401
    [again] = await bot.say("menu")
    assert "Xin chào" in again["text"] and len(fake.sent(USER)) == 2


async def test_the_domain_is_verified_and_the_webhook_url_saved_without_processing(
        fake: FakeZaloOA, tmp_path: Path) -> None:
    """Audit row 7: Zalo needs its verifier file at the domain's root and checks the URL when
    it is saved (an unsigned POST of {} or a GET), which got 401 and 405."""
    verifier = tmp_path / fake.verifier_name
    verifier.write_text(fake.verifier_content, encoding="utf-8")
    b = OABot(fake, tmp_path / "db.sqlite3", verifier_file=verifier)
    await b.start()
    try:
        site = b.url.removesuffix("/webhooks/zalo-oa")
        assert await fake.verify_domain(site)
        assert await fake.save_webhook(b.url)
        assert fake.sent() == []
        assert b.service is not None and b.service.app is not None
        assert await b.service.app.store.outbox_rows() == []
    finally:
        await b.stop()
    without = OABot(fake, tmp_path / "db.sqlite3")
    await without.start()
    try:
        assert not await fake.verify_domain(without.url.removesuffix("/webhooks/zalo-oa"))
    finally:
        await without.stop()


async def test_a_missing_verifier_file_is_named(tmp_path: Path) -> None:
    from bot.config import ConfigError, load_config
    from tests.helpers import ROOT

    config = tmp_path / "config.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "  oa_verifier_file:\n", "  oa_verifier_file: zalo_verifierX.html\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"zalo\.oa_verifier_file"):
        load_config(config, env={})


async def test_the_template_and_its_parameters_are_read_from_the_config(tmp_path: Path) -> None:
    from bot.config import ConfigError, load_config
    from tests.helpers import ROOT

    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(shipped.replace("    id:\n    params: {}\n",
                                      "    id: 405123\n    params: {ma_ho_so: code, trang_thai: status}\n"),
                      encoding="utf-8")
    settings = load_config(config, env={}).zalo_oa
    assert settings.template_id == "405123"
    assert settings.template_params == (("ma_ho_so", "code"), ("trang_thai", "status"))
    config.write_text(shipped.replace("    params: {}\n", "    params: {ten: ho_ten}\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"zalo\.oa_template\.params\.ten"):
        load_config(config, env={})


async def test_missing_secret_is_named(tmp_path: Path) -> None:
    from bot.config import ConfigError
    with pytest.raises(ConfigError, match="ZALO_OA_SECRET_KEY"):
        Service(make_config(tmp_path / "db.sqlite3"), ["zalo-oa"], {"ZALO_APP_ID": "a", "ZALO_APP_SECRET": "b"})


# Webhook hardening (audit R11, R17): the signature is checked over the raw bytes before
# anything is parsed; events from the future and re-deliveries without msg_id count once.

async def test_an_unsigned_or_forged_body_is_refused_before_it_is_parsed(
        bot: OABot, fake: FakeZaloOA, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    nested = b"[" * 100_000                                # crashed the JSON parser: a 500 and a traceback
    objects = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    big = b"[" + b"0," * 524_000 + b"0]"                  # 1 MiB of JSON: 20-40 ms of parsing per post
    stamped = b'{"timestamp": "1", ' * 40_000 + b"}"       # many candidates, each would cost a hash
    real, _ = fake.text_event(USER, "khai sinh", msg_id="r11")
    attacks = [nested, objects, big, stamped, real]
    parsed: list[bytes] = []
    loads = json.loads

    def spy(data: str | bytes | bytearray, **kwargs: Any) -> Any:
        if isinstance(data, bytes) and data in attacks:
            parsed.append(data)
        return loads(data, **kwargs)

    monkeypatch.setattr(json, "loads", spy)
    headers: list[dict[str, str]] = [{}, {"X-ZEvent-Signature": "mac=" + "0" * 64},
                                     {"X-ZEvent-Signature": "not a mac"}, {"X-ZEvent-Signature": "mac=" + "f" * 200}]
    statuses = [(await bot.post(body, h)).status_code for body in attacks for h in headers]
    assert statuses == [401] * len(attacks) * len(headers)
    assert parsed == []                                    # refused on the header and the hash alone
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    [menu] = await bot.say("menu")                         # still serving, and the attacks left nothing behind
    assert "Xin chào" in menu["text"] and len(fake.sent()) == 1


async def test_a_signed_body_that_is_not_an_event_is_refused_without_a_traceback(
        bot: OABot, fake: FakeZaloOA, caplog: pytest.LogCaptureFixture) -> None:
    stamp = str(int(time.time() * 1000))
    nested = b'{"timestamp": "' + stamp.encode() + b'", "x": ' + b"[" * 100_000
    signed = {"X-ZEvent-Signature": fake.sign(fake.app_id, nested, stamp, fake.oa_secret_key)}
    assert (await bot.post(nested, signed)).status_code == 401
    # the signature covers a nested timestamp, not the event's own: not this event's signature
    inner = json.dumps({"event_name": "user_send_text", "message": {"timestamp": stamp, "text": "x"},
                        "timestamp": "1", "sender": {"id": USER}}).encode()
    signed = {"X-ZEvent-Signature": fake.sign(fake.app_id, inner, stamp, fake.oa_secret_key)}
    assert (await bot.post(inner, signed)).status_code == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert fake.sent() == []


async def test_an_event_stamped_more_than_a_minute_ahead_is_refused(bot: OABot, fake: FakeZaloOA) -> None:
    now_ms = int(time.time() * 1000)
    ahead, headers = fake.text_event(USER, "khai sinh", msg_id="f1", timestamp_ms=now_ms + 120_000)
    assert (await bot.post(ahead, headers)).status_code == 401
    for msg_id, offset in (("f2", 30_000), ("f3", -240_000)):  # clock drift; and the past window is unchanged
        body, headers = fake.text_event(USER, "menu", msg_id=msg_id, timestamp_ms=now_ms + offset)
        assert (await bot.post(body, headers)).status_code == 200
    calls = await fake.wait_for("/v3.0/oa/message/cs", count=2, user_id=USER)
    assert all("Xin chào" in c.body["message"]["text"] for c in calls)


async def test_a_replayed_event_without_msg_id_is_answered_once(fake: FakeZaloOA, tmp_path: Path) -> None:
    b = OABot(fake, tmp_path / "db.sqlite3")
    await b.start()
    now_ms = int(time.time() * 1000)
    try:
        body, headers = fake.text_event(USER, "menu", timestamp_ms=now_ms, without_msg_id=True)
        assert b'"msg_id"' not in body
        assert (await b.post(body, headers)).status_code == 200
        await fake.wait_for("/v3.0/oa/message/cs", user_id=USER)
        assert (await b.post(body, headers)).status_code == 200          # the replay: acknowledged, ignored
        again, headers = fake.text_event(USER, "menu", timestamp_ms=now_ms + 1, without_msg_id=True)
        assert (await b.post(again, headers)).status_code == 200         # the same words written again
        await fake.wait_for("/v3.0/oa/message/cs", count=2, user_id=USER)
    finally:
        await b.stop()                                                   # waits for every event in hand
    assert len(fake.sent(USER)) == 2


async def test_events_beyond_what_is_pending_are_refused_until_work_drains(fake: FakeZaloOA, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """R21: every OA event became a task, with no bound."""
    import asyncio

    from bot.channels import zalo_oa

    monkeypatch.setattr(zalo_oa, "MAX_PENDING", 2)
    bot = OABot(fake, tmp_path / "db.sqlite3")
    await bot.start()
    try:
        assert bot.service is not None
        channel = bot.service.channels[NAME]
        release = asyncio.Event()
        started = asyncio.Queue[None]()

        async def slow(incoming: object) -> list[object]:
            await started.put(None)
            await release.wait()
            return []

        channel.handle = slow  # type: ignore[attr-defined]
        statuses = []
        for n in range(3):
            response = await bot.post(*fake.text_event(USER, "khai sinh", msg_id=f"p{n}"))
            statuses.append(response.status_code)
        assert statuses == [200, 200, 503]
        await started.get()
        await started.get()
        release.set()
    finally:
        await bot.stop()


async def test_a_signed_event_not_shaped_as_zalo_documents_is_ignored_without_a_traceback(
        bot: OABot, fake: FakeZaloOA, caplog: pytest.LogCaptureFixture) -> None:
    """A body that passed the signature but lacks a sender, or whose message is not an object,
    is not a citizen's text: nothing to answer, and no traceback in the log."""
    for shape in ({"message": {"text": "chào", "msg_id": "s1"}}, {"sender": {"id": USER}, "message": "chào"},
                  {"sender": "x", "message": {"text": "chào", "msg_id": "s2"}}):
        timestamp = str(int(time.time() * 1000))
        raw = json.dumps({"app_id": fake.app_id, "event_name": "user_send_text", "timestamp": timestamp,
                          **shape}, ensure_ascii=False).encode()
        headers = {"X-ZEvent-Signature": fake.sign(fake.app_id, raw, timestamp, fake.oa_secret_key)}
        assert (await bot.post(raw, headers)).status_code == 200
    await bot.say("menu")                                   # the next real event is served, after those
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
