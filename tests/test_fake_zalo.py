"""Proves the fake Zalo servers behave as the OA Open API / OAuth v4 and the Bot Platform do,
using plain httpx requests, so our Zalo clients can trust them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.fakes.zalo import FakeZaloBot, FakeZaloOA

USER = "2468458835296117922"
CHAT = "6ede9afa66b88fe6d6a9"
BOT_TOKEN = "9876543210:zbot-secret-token"
CS = "/v3.0/oa/message/cs"
TRANSACTION = "/v3.0/oa/message/transaction"
TEMPLATE = "/v3.0/oa/message/template"
OAUTH = "/v4/oa/access_token"


@pytest_asyncio.fixture
async def oa() -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA() as server:
        yield server


@pytest_asyncio.fixture
async def zbot() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot(BOT_TOKEN) as server:
        yield server


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


# ---------------------------------------------------------------------- OA helpers


async def send_oa(
    http: httpx.AsyncClient,
    oa: FakeZaloOA,
    message: dict[str, Any],
    *,
    token: str = "at-0",
    path: str = CS,
    user_id: str = USER,
) -> dict[str, Any]:
    response = await http.post(
        f"{oa.base_url}{path}",
        headers={"access_token": token},
        json={"recipient": {"user_id": user_id}, "message": message},
    )
    assert response.status_code == 200  # Zalo reports errors in the body only
    body: dict[str, Any] = response.json()
    return body


async def refresh(
    http: httpx.AsyncClient,
    oa: FakeZaloOA,
    refresh_token: str,
    *,
    secret: str = "app-secret",
    app_id: str = "app-123",
) -> dict[str, Any]:
    response = await http.post(
        f"{oa.oauth_url}{OAUTH}",
        headers={"secret_key": secret},
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "app_id": app_id},
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------------- OA tests


@pytest.mark.asyncio
async def test_oa_send_success_is_recorded(oa: FakeZaloOA, client: httpx.AsyncClient) -> None:
    oa.interacted(USER)
    oa.interacted("42")
    first = await send_oa(client, oa, {"text": "Xin chào"})
    second = await send_oa(client, oa, {"text": "Hồ sơ đã xong"})
    other = await send_oa(client, oa, {"text": "x"}, user_id="42")

    assert first["error"] == 0 and first["message"] == "Success"
    assert first["data"]["user_id"] == USER
    ids = {r["data"]["message_id"] for r in (first, second, other)}
    assert len(ids) == 3 and all(isinstance(i, str) for i in ids)
    assert [c.path for c in oa.sent(USER)] == [CS, CS]
    assert len(oa.sent()) == 3
    call = oa.sent(USER)[0]
    assert call.headers["access_token"] == "at-0"  # header names are lower-cased
    assert call.body == {"recipient": {"user_id": USER}, "message": {"text": "Xin chào"}}
    assert call.response == first
    assert [c.body["message"]["text"] for c in await oa.wait_for(CS, user_id=USER)] == [
        "Xin chào", "Hồ sơ đã xong"
    ]


@pytest.mark.asyncio
async def test_oa_send_validation(oa: FakeZaloOA, client: httpx.AsyncClient) -> None:
    oa.interacted(USER)
    invalid_token = {"error": -216, "message": "Access token is invalid"}
    invalid = {"error": -201, "message": "Parameter is invalid"}
    assert await send_oa(client, oa, {"text": "a"}, token="at-bogus") == invalid_token
    response = await client.post(f"{oa.base_url}{CS}", json={"message": {"text": "a"}})
    assert response.json() == invalid_token  # no access_token header at all
    assert await send_oa(client, oa, {"text": "x" * 2001}) == invalid
    assert await send_oa(client, oa, {"text": ""}) == invalid
    assert (await send_oa(client, oa, {"text": "x" * 2000}))["error"] == 0

    template = {"attachment": {"type": "template", "payload": {"template_type": "media"}}}
    assert (await send_oa(client, oa, template))["error"] == 0
    oa.reject_templates = True
    refused = await send_oa(client, oa, {"text": "menu", **template})
    assert refused == {"error": -201, "message": "Template is not supported"}
    assert (await send_oa(client, oa, {"text": "plain text still works"}))["error"] == 0

    assert [c.ok for c in oa.calls] == [False, False, False, False, True, True, False, True]
    assert len(oa.sent()) == 3  # errors are recorded but never count as sent


@pytest.mark.asyncio
async def test_oa_token_refresh_rotates_single_use_tokens(
    oa: FakeZaloOA, client: httpx.AsyncClient
) -> None:
    oa.interacted(USER)
    wrong_secret = await refresh(client, oa, "rt-0", secret="oa-secret")
    assert wrong_secret["error"] == -14002 and wrong_secret["error_name"] == "Invalid secret key"
    assert (await refresh(client, oa, "rt-0", app_id="app-999"))["error"] != 0
    assert oa.refresh_count == 0 and oa.refresh_token == "rt-0"

    first = await refresh(client, oa, "rt-0")
    assert first == {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": "90000"}
    assert oa.calls[-1].body == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-0",
        "app_id": "app-123",
    }
    reused = await refresh(client, oa, "rt-0")
    assert reused["error"] == -14014 and reused["error_name"] == "Invalid refresh token"
    assert "error_description" in reused
    assert oa.access_tokens == {"at-0", "at-1"}  # the old access token stays valid
    assert (await send_oa(client, oa, {"text": "a"}, token="at-0"))["error"] == 0

    oa.expire_access_tokens()
    assert (await send_oa(client, oa, {"text": "a"}, token="at-1"))["error"] == -216
    second = await refresh(client, oa, "rt-1")
    assert (second["access_token"], second["refresh_token"]) == ("at-2", "rt-2")
    assert (await send_oa(client, oa, {"text": "a"}, token="at-2"))["error"] == 0
    assert oa.refresh_count == 2

    # A JSON body is not the form Zalo expects: refused, token not consumed.
    response = await client.post(
        f"{oa.oauth_url}{OAUTH}",
        headers={"secret_key": "app-secret"},
        json={"grant_type": "refresh_token", "refresh_token": "rt-2", "app_id": "app-123"},
    )
    assert response.json()["error"] != 0 and oa.refresh_token == "rt-2"


@pytest.mark.asyncio
async def test_oa_reply_window_blocked_users_and_removed_tokens(oa: FakeZaloOA, client: httpx.AsyncClient) -> None:
    """Audit rows 15-16: free for 48 h with no cap, billable to 7 days, then -230; -213 for a
    user who blocked the OA; -220 for a token expired or removed."""
    assert (await send_oa(client, oa, {"text": "a"}))["error"] == -230          # never interacted
    oa.interacted(USER, seconds_ago=3600)
    for _ in range(10):
        assert (await send_oa(client, oa, {"text": "a"}))["error"] == 0
    oa.interacted(USER, seconds_ago=3 * 86400)
    assert (await send_oa(client, oa, {"text": "a"}))["error"] == 0
    assert [c.billable for c in oa.sent(USER)] == [False] * 10 + [True]
    oa.interacted(USER, seconds_ago=7 * 86400 + 60)
    assert (await send_oa(client, oa, {"text": "a"}))["error"] == -230
    oa.interacted(USER)
    oa.block(USER)
    assert (await send_oa(client, oa, {"text": "a"}))["error"] == -213
    raw, _ = oa.text_event("9", "hi")                                        # an event counts as interaction
    assert (await send_oa(client, oa, {"text": "a"}, user_id="9"))["error"] == 0
    assert raw
    oa.expire_access_tokens(-220)
    assert await send_oa(client, oa, {"text": "a"}, user_id="9") == {
        "error": -220, "message": "access_token is expired or removed"}
    oa.revoke_grant()
    assert (await refresh(client, oa, "rt-0"))["error"] == -14014


@pytest.mark.asyncio
async def test_oa_buttons_templates_and_the_discontinued_transaction_api(
        oa: FakeZaloOA, client: httpx.AsyncClient) -> None:
    oa.interacted(USER)

    def buttons(*items: dict[str, Any]) -> dict[str, Any]:
        return {"text": "Chọn", "attachment": {"type": "template", "payload": {"buttons": list(items)}}}

    ok = {"title": "Lệ phí", "type": "oa.query.hide", "payload": "#fee"}
    assert (await send_oa(client, oa, buttons(ok)))["error"] == 0
    assert oa.sent(USER)[-1].shown == "Chọn\nLệ phí"
    for bad in ([ok] * 6, [{**ok, "type": "postback"}], [{**ok, "title": "x" * 101}], []):
        assert (await send_oa(client, oa, buttons(*bad)))["error"] == -201
    oa.drop_buttons = True
    assert (await send_oa(client, oa, buttons(ok)))["error"] == 0 and oa.sent(USER)[-1].shown == "Chọn"

    assert (await send_oa(client, oa, {"text": "x"}, path=TRANSACTION))["error"] == -240

    async def template(body: dict[str, Any]) -> int:
        response = await client.post(f"{oa.base_url}{TEMPLATE}", headers={"access_token": "at-0"}, json=body)
        return int(response.json()["error"])

    oa.approve_template("77", "ma", "trang_thai")
    good = {"user_id": USER, "template_id": "77", "template_data": {"ma": "H1", "trang_thai": "Xong"}}
    assert await template(good) == 0 and oa.sent(USER)[-1].billable
    assert await template({**good, "template_id": "78"}) == -109
    assert await template({**good, "template_data": {}}) == -111
    assert await template({**good, "template_data": {"ma": "H1"}}) == -112
    assert await template({**good, "template_data": {"ma": "H1", "trang_thai": ""}}) == -112
    oa.interactions.clear()
    assert await template(good) == 0                                        # no reply window for templates


def test_oa_retries_keep_the_body_and_count_up_the_ladder() -> None:
    oa = FakeZaloOA()                                        # building events needs no server
    _, headers = oa.text_event(USER, "chào", timestamp_ms=1_000)
    retry = oa.retry_headers(headers, 3)
    assert retry["num_retry"] == "3" and retry["X-ZEvent-Signature"] == headers["X-ZEvent-Signature"]
    assert [oa.retry_delay(n) for n in range(1, 6)] == [30, 330, 1230, 3030, 6630]


@pytest.mark.asyncio
async def test_oa_concurrent_refresh_has_one_winner(
    oa: FakeZaloOA, client: httpx.AsyncClient
) -> None:
    answers = await asyncio.gather(*(refresh(client, oa, "rt-0") for _ in range(3)))
    assert sorted(a.get("error", 0) for a in answers) == [-14014, -14014, 0]
    assert oa.refresh_count == 1 and oa.refresh_token == "rt-1"


@pytest.mark.asyncio
async def test_oa_fail_next_and_wait_for(oa: FakeZaloOA, client: httpx.AsyncClient) -> None:
    oa.interacted(USER)
    oa.fail_next(CS, 2)
    oa.fail_next(OAUTH, error=-14003, message="Busy")
    busy = {"error": -32, "message": "Server busy"}
    assert await send_oa(client, oa, {"text": "1"}) == busy
    assert await send_oa(client, oa, {"text": "2"}) == busy
    assert (await send_oa(client, oa, {"text": "3"}))["error"] == 0
    assert (await refresh(client, oa, "rt-0"))["error"] == -14003
    assert (await refresh(client, oa, "rt-0"))["access_token"] == "at-1"

    waiting = asyncio.create_task(oa.wait_for(CS, 2, user_id=USER))
    await asyncio.wait_for(oa.wait_for(CS), 5)  # one success already there: returns at once
    assert not waiting.done()
    await send_oa(client, oa, {"text": "4"})
    done = await asyncio.wait_for(waiting, 5)  # woken by the call, not by a timer
    assert [c.body["message"]["text"] for c in done] == ["3", "4"]

    with pytest.raises(TimeoutError, match=r"(?s)template.*message/cs.*Server busy"):
        await oa.wait_for(TEMPLATE, timeout=0.05)

    response = await client.post(f"{oa.base_url}/v3.0/oa/nothing-here", json={})
    assert response.status_code == 404 and not oa.calls[-1].ok


@pytest.mark.asyncio
async def test_oa_webhook_events_are_signed(oa: FakeZaloOA) -> None:
    text = "Tôi cần làm giấy khai sinh"
    raw, headers = oa.text_event(USER, text, msg_id="m-1", timestamp_ms=5)
    assert headers["Content-Type"] == "application/json"
    body = json.loads(raw)
    assert body == {
        "app_id": "app-123",
        "user_id_by_app": body["user_id_by_app"],
        "event_name": "user_send_text",
        "timestamp": "5",
        "sender": {"id": USER},
        "recipient": {"id": "oa-1"},
        "message": {"text": text, "msg_id": "m-1"},
    }
    expected = hashlib.sha256(b"app-123" + raw + b"5" + b"oa-secret").hexdigest()
    assert headers["X-ZEvent-Signature"] == "mac=" + expected
    assert FakeZaloOA.sign("app-123", raw, "5", "oa-secret") == "mac=" + expected
    # Signed over the raw bytes: re-serialised JSON would not verify.
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    assert FakeZaloOA.sign("app-123", compact, "5", "oa-secret") != headers["X-ZEvent-Signature"]

    before = int(time.time() * 1000)
    raw, _ = oa.text_event(USER, "a")
    first, second = json.loads(raw), json.loads(oa.text_event(USER, "a")[0])
    assert int(first["timestamp"]) >= before and isinstance(first["timestamp"], str)
    assert first["message"]["msg_id"] != second["message"]["msg_id"]

    image = {"attachments": [{"type": "image", "payload": {"url": "https://x/y.jpg"}}]}
    raw, headers = oa.event("user_send_image", USER, image, timestamp_ms=7)
    body = json.loads(raw)
    assert body["event_name"] == "user_send_image" and body["sender"] == {"id": USER}
    assert body["message"]["attachments"] == image["attachments"] and body["message"]["msg_id"]
    assert headers["X-ZEvent-Signature"] == FakeZaloOA.sign("app-123", raw, "7", "oa-secret")

    raw, headers = oa.event("follow", USER)
    body = json.loads(raw)
    assert body["follower"] == {"id": USER} and "message" not in body
    assert headers["X-ZEvent-Signature"] == oa.sign(
        "app-123", raw, body["timestamp"], "oa-secret"
    )

    # some captured events carry no msg_id (audit R17); still signed like the others
    raw, headers = oa.text_event(USER, "a", msg_id="ignored", timestamp_ms=9, without_msg_id=True)
    assert json.loads(raw)["message"] == {"text": "a"}
    assert headers["X-ZEvent-Signature"] == FakeZaloOA.sign("app-123", raw, "9", "oa-secret")


# ---------------------------------------------------------------------- Bot helpers


def api(zbot: FakeZaloBot, method: str, token: str = BOT_TOKEN) -> str:
    return f"{zbot.base_url}/bot{token}/{method}"


async def post_json(
    http: httpx.AsyncClient, zbot: FakeZaloBot, method: str, **params: Any
) -> httpx.Response:
    return await http.post(api(zbot, method), json=params)


# ---------------------------------------------------------------------- Bot tests


@pytest.mark.asyncio
async def test_bot_get_me_token_and_unknown_methods(
    zbot: FakeZaloBot, client: httpx.AsyncClient
) -> None:
    response = await client.get(api(zbot, "getMe"))
    assert response.json() == {
        "ok": True,
        "result": {
            "id": "9876543210",
            "account_name": "bot.motcua",
            "account_type": "BASIC",
            "can_join_groups": False,
        },
    }
    response = await client.post(api(zbot, "getMe", "9876543210:wrong"))
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    for method in ("editMessageText", "getme"):  # method names are case-sensitive
        response = await client.post(api(zbot, method))
        assert response.status_code == 404
        assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert [(c.method, c.ok) for c in zbot.calls] == [
        ("getMe", True),
        ("getMe", False),
        ("editMessageText", False),
        ("getme", False),
    ]


@pytest.mark.asyncio
async def test_bot_send_message_accepts_query_form_and_json(
    zbot: FakeZaloBot, client: httpx.AsyncClient
) -> None:
    answers = [
        await client.get(api(zbot, "sendMessage"), params={"chat_id": CHAT, "text": "một"}),
        await client.post(api(zbot, "sendMessage"), data={"chat_id": CHAT, "text": "hai"}),
        await client.post(api(zbot, "sendMessage"), json={"chat_id": CHAT, "text": "ba"}),
    ]
    results = [a.json()["result"] for a in answers]
    assert all(isinstance(r["message_id"], str) and r["date"] > 10**12 for r in results)
    assert len({r["message_id"] for r in results}) == 3
    assert [c.params["text"] for c in zbot.sent(CHAT)] == ["một", "hai", "ba"]
    assert zbot.sent(CHAT)[0].result == results[0]
    assert zbot.sent("someone-else") == []

    too_long = await post_json(client, zbot, "sendMessage", chat_id=CHAT, text="x" * 2001)
    empty = await post_json(client, zbot, "sendMessage", chat_id=CHAT, text="")
    for response in (too_long, empty):
        assert response.status_code == 400
        assert response.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Text length must be between 1 and 2000",
        }
    longest = await post_json(client, zbot, "sendMessage", chat_id=CHAT, text="x" * 2000)
    assert longest.json()["ok"] is True
    action = await post_json(client, zbot, "sendChatAction", chat_id=CHAT, action="typing")
    assert action.json() == {"ok": True}
    assert len(zbot.sent(CHAT)) == 4


@pytest.mark.asyncio
async def test_bot_get_updates_long_poll_one_event_at_a_time(
    zbot: FakeZaloBot, client: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    response = await client.post(api(zbot, "getUpdates"), json={"timeout": "0.2"})
    assert time.monotonic() - started >= 0.15  # the empty poll really waited
    assert response.status_code == 408
    assert response.json() == {"ok": False, "error_code": 408, "description": "Request timeout"}

    poll = asyncio.create_task(client.post(api(zbot, "getUpdates"), json={"timeout": "30"}))
    await zbot.wait_for_poll()
    message_id = zbot.push_text(CHAT, "Xin chào", display_name="Ted")
    response = await asyncio.wait_for(poll, 5)  # woken by the push, not by the 30 s timeout
    event = response.json()["result"]
    assert response.json()["ok"] is True
    assert event["event_name"] == "message.text.received"
    message = event["message"]
    assert message == {
        "from": {"id": CHAT, "display_name": "Ted", "is_bot": False},
        "chat": {"id": CHAT, "chat_type": "PRIVATE"},
        "text": "Xin chào",
        "message_id": message_id,
        "date": message["date"],
    }
    assert isinstance(message_id, str) and isinstance(message["date"], int)
    assert message["date"] > 10**12  # milliseconds

    first = zbot.push_text(CHAT, "1")
    second = zbot.push_event("message.unsupported.received", CHAT)
    third = zbot.push_event("message.sticker.received", CHAT, sticker="abc", message_id="fixed")
    assert zbot.pending_events() == 3
    got = [(await post_json(client, zbot, "getUpdates", timeout="0")).json() for _ in range(3)]
    assert [g["result"]["message"]["message_id"] for g in got] == [first, second, third]
    assert third == "fixed" and got[2]["result"]["message"]["sticker"] == "abc"
    assert got[1]["result"]["event_name"] == "message.unsupported.received"
    assert "text" not in got[1]["result"]["message"]
    assert (await client.get(api(zbot, "getUpdates"), params={"timeout": "0"})).status_code == 408

    zbot.redeliver_last()  # the platform may hand out a consumed event again
    again = (await client.get(api(zbot, "getUpdates"), params={"timeout": "0"})).json()
    assert again["result"] == got[2]["result"]
    assert [c.ok for c in zbot.calls if c.method == "getUpdates"] == [
        False, True, True, True, True, False, True,
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_bot_concurrent_polls_split_the_queue(
    zbot: FakeZaloBot, client: httpx.AsyncClient
) -> None:
    polls = [
        asyncio.create_task(client.post(api(zbot, "getUpdates"), data={"timeout": "30"}))
        for _ in range(2)
    ]
    await zbot.wait_for_poll()
    ids = {zbot.push_text(CHAT, "a"), zbot.push_text(CHAT, "b")}
    answers = await asyncio.wait_for(asyncio.gather(*polls), 5)
    assert {a.json()["result"]["message"]["message_id"] for a in answers} == ids


@pytest.mark.asyncio
async def test_bot_webhook_lifecycle(zbot: FakeZaloBot, client: httpx.AsyncClient) -> None:
    info = (await client.post(api(zbot, "getWebhookInfo"))).json()
    assert info["ok"] is True and info["result"]["url"] == ""

    url = "https://motcua.example/zalo"
    refused = [
        await post_json(client, zbot, "setWebhook", url="http://x.example", secret_token="x" * 8),
        await post_json(client, zbot, "setWebhook", url=url, secret_token="x" * 7),
        await post_json(client, zbot, "setWebhook", url=url, secret_token="x" * 257),
        await post_json(client, zbot, "setWebhook", url=url),
    ]
    assert [r.status_code for r in refused] == [400, 400, 400, 400]
    assert (zbot.webhook_url, zbot.webhook_secret) == (None, None)

    secret = {"url": url, "secret_token": "s3cret-token"}
    response = await client.post(api(zbot, "setWebhook"), data=secret)  # form-encoded
    result = response.json()["result"]
    assert result["url"] == url and result["updated_at"] > 10**12
    assert (zbot.webhook_url, zbot.webhook_secret) == (url, "s3cret-token")
    assert zbot.webhook_headers()["X-Bot-Api-Secret-Token"] == "s3cret-token"
    info = (await client.get(api(zbot, "getWebhookInfo"))).json()["result"]
    assert info == {"url": url, "updated_at": result["updated_at"]}

    zbot.push_text(CHAT, "waiting")
    blocked = await client.post(api(zbot, "getUpdates"), json={"timeout": "0"})
    assert blocked.status_code == 400
    assert blocked.json() == {"ok": False, "error_code": 400, "description": "Webhook is active"}

    event = zbot.text_event(CHAT, "qua webhook", message_id="w-1")
    assert json.loads(zbot.webhook_body(event)) == {"ok": True, "result": event}
    assert json.loads(zbot.webhook_body(event, wrapped=False)) == event
    assert b"qua webhook" in zbot.webhook_body(event)  # UTF-8, not \\u escapes
    assert zbot.pending_events() == 1  # text_event does not queue

    deleted = (await client.post(api(zbot, "deleteWebhook"))).json()
    assert deleted["ok"] is True and deleted["result"]["url"] == ""
    assert zbot.webhook_url is None and zbot.webhook_secret is None
    resumed = await client.post(api(zbot, "getUpdates"), json={"timeout": "0"})
    assert resumed.json()["result"]["message"]["text"] == "waiting"


@pytest.mark.asyncio
async def test_bot_fail_next_and_wait_for(zbot: FakeZaloBot, client: httpx.AsyncClient) -> None:
    zbot.fail_next("sendMessage")
    zbot.fail_next("getUpdates", error_code=403, description="Server error")
    quota = await client.post(api(zbot, "sendMessage"), json={"chat_id": CHAT, "text": "a"})
    assert quota.status_code == 429
    assert quota.json() == {"ok": False, "error_code": 429, "description": "Quota exceeded"}
    assert (await client.post(api(zbot, "getUpdates"), json={"timeout": "30"})).status_code == 403

    waiting = asyncio.create_task(zbot.wait_for("sendMessage", chat_id=CHAT))
    await client.post(api(zbot, "sendMessage"), json={"chat_id": "other", "text": "b"})
    assert not waiting.done()
    await client.post(api(zbot, "sendMessage"), json={"chat_id": CHAT, "text": "c"})
    [call] = await asyncio.wait_for(waiting, 5)
    assert call.params["text"] == "c"
    assert len(await zbot.wait_for("sendMessage", 2)) == 2

    with pytest.raises(TimeoutError, match=r"(?s)sendPhoto.*sendMessage.*429 Quota exceeded"):
        await zbot.wait_for("sendPhoto", timeout=0.05)


@pytest.mark.asyncio
async def test_bot_stop_wakes_parked_poll(client: httpx.AsyncClient) -> None:
    zbot = FakeZaloBot()
    await zbot.start()
    poll = asyncio.create_task(client.post(api(zbot, "getUpdates"), json={"timeout": "50"}))
    await zbot.wait_for_poll()
    started = time.monotonic()
    await zbot.stop()
    response = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 5
    assert response.status_code == 408
    await zbot.stop()  # idempotent
