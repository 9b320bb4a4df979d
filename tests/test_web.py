"""The webhook server: /healthz tells the operator what runs, and webhooks get exactly the bytes sent, within limits."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from bot.web import WebServer

MiB = 1024 * 1024


class Hook:
    """A webhook handler that, like the real channels, reads the whole body before acting on it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.bodies.append(body)
        return web.Response(text=f"got {len(body)}")


@pytest_asyncio.fixture
async def hook() -> Hook:
    return Hook()


@pytest_asyncio.fixture
async def server(hook: Hook) -> AsyncIterator[WebServer]:
    s = WebServer("127.0.0.1", 0)
    s.route("/webhooks/zalo-oa", hook.handle)
    s.channels = ["telegram", "zalo-oa"]
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


def url(server: WebServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


@pytest.mark.asyncio
async def test_healthz_reports_ok_and_the_running_channels(server: WebServer) -> None:
    assert server.port != 0  # asked for any free port, got a real one to point the load balancer at
    async with httpx.AsyncClient() as client:
        health = await client.get(url(server, "/healthz"))
        head = await client.head(url(server, "/healthz"))
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "channels": ["telegram", "zalo-oa"]}
    assert head.status_code == 200  # load balancers that probe with HEAD see it healthy too


@pytest.mark.asyncio
async def test_webhook_receives_exactly_the_bytes_sent(server: WebServer, hook: Hook) -> None:
    # Zalo signs the raw bytes: spacing, key order, CRLF, a BOM and invalid UTF-8 must all survive
    body = '\ufeff{"event_name": "user_send_text",  "message": {"text": "Đăng ký khai sinh 👶"}}\r\n  '.encode()
    body += b"\xff\xfe\x00"
    async with httpx.AsyncClient() as client:
        response = await client.post(url(server, "/webhooks/zalo-oa"), content=body,
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.text == f"got {len(body)}"
    assert hook.bodies == [body]


@pytest.mark.asyncio
async def test_body_of_one_mebibyte_is_accepted_and_one_byte_more_is_refused_with_413(
        server: WebServer, hook: Hook) -> None:
    async with httpx.AsyncClient() as client:
        fits = await client.post(url(server, "/webhooks/zalo-oa"), content=b"a" * MiB)
        too_big = await client.post(url(server, "/webhooks/zalo-oa"), content=b"b" * (MiB + 1))
        health = await client.get(url(server, "/healthz"))
    assert fits.status_code == 200
    assert too_big.status_code == 413
    assert hook.bodies == [b"a" * MiB]  # the oversized body never reached the channel
    assert health.status_code == 200


@pytest.mark.asyncio
async def test_a_small_compressed_body_that_inflates_past_the_limit_is_refused(server: WebServer, hook: Hook) -> None:
    bomb = gzip.compress(b"{" * (8 * MiB))
    assert len(bomb) < 64 * 1024
    async with httpx.AsyncClient() as client:
        response = await client.post(url(server, "/webhooks/zalo-oa"), content=bomb,
                                     headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert hook.bodies == []


@pytest.mark.asyncio
async def test_unknown_paths_are_404(server: WebServer, hook: Hook) -> None:
    async with httpx.AsyncClient() as client:
        post = await client.post(url(server, "/webhooks/zalo-bot"), content=b"{}")
        get = await client.get(url(server, "/"))
    assert (post.status_code, get.status_code) == (404, 404)
    assert hook.bodies == []


@pytest.mark.asyncio
async def test_wrong_method_is_405_and_names_the_allowed_one(server: WebServer, hook: Hook) -> None:
    async with httpx.AsyncClient() as client:
        get_hook = await client.get(url(server, "/webhooks/zalo-oa"))
        post_health = await client.post(url(server, "/healthz"), content=b"{}")
    assert get_hook.status_code == 405 and get_hook.headers["Allow"] == "POST"
    assert post_health.status_code == 405
    assert hook.bodies == []


@pytest.mark.asyncio
async def test_a_failing_handler_answers_500_and_the_server_keeps_serving() -> None:
    async def broken(request: web.Request) -> web.Response:
        await request.read()
        raise RuntimeError("bug in a channel")

    s = WebServer("127.0.0.1", 0)
    s.route("/tg-hook", broken)
    await s.start()
    try:
        async with httpx.AsyncClient() as client:
            failed = await client.post(url(s, "/tg-hook"), content=b"{}")
            health = await client.get(url(s, "/healthz"))
        assert failed.status_code == 500 and "bug in a channel" not in failed.text
        assert health.json() == {"status": "ok", "channels": []}
    finally:
        await s.stop()


@pytest.mark.asyncio
async def test_stop_frees_the_port_so_a_restart_can_take_it() -> None:
    first = WebServer("127.0.0.1", 0)
    await first.start()
    port = first.port
    await first.stop()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url(first, "/healthz"))
        second = WebServer("127.0.0.1", port)
        second.channels = ["zalo-bot"]
        await second.start()
        try:
            health = await client.get(url(second, "/healthz"))
        finally:
            await second.stop()
    assert second.port == port
    assert health.json() == {"status": "ok", "channels": ["zalo-bot"]}


@pytest.mark.asyncio
async def test_stop_is_safe_twice_and_before_start() -> None:
    never_started = WebServer("127.0.0.1", 0)
    await never_started.stop()
    s = WebServer("127.0.0.1", 0)
    await s.start()
    await s.stop()
    await s.stop()  # a shutdown path that runs twice (signal, then finally) must not crash


@pytest.mark.asyncio
async def test_a_channel_may_also_answer_a_get_on_a_path(hook: Hook) -> None:
    """Zalo fetches its domain verifier file and checks a webhook URL being saved by GET."""
    server = WebServer("127.0.0.1", 0)
    server.route("/zalo_verifierX.html", hook.handle, method="GET")
    await server.start()
    try:
        async with httpx.AsyncClient() as client:
            got = await client.get(url(server, "/zalo_verifierX.html"))
            posted = await client.post(url(server, "/zalo_verifierX.html"), content=b"{}")
    finally:
        await server.stop()
    assert got.status_code == 200 and posted.status_code == 405
