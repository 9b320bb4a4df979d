"""The shared outbound session: answers come back whatever their status or content type,
failures come out as aiohttp's and asyncio's own exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot.channels.http import open_session, post

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def server() -> AsyncIterator[str]:
    async def echo(request: web.Request) -> web.Response:
        body = dict(await request.post()) if request.content_type.endswith("form-urlencoded") else await request.json()
        headers = {"seen": request.headers.get("access_token", "")}
        return web.Response(text=web.json_response(body).text, content_type="text/plain", headers=headers)

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>bad gateway</html>")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="{}")

    app = web.Application()
    app.router.add_post("/echo", echo)
    app.router.add_post("/broken", broken)
    app.router.add_post("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_json_and_form_bodies_and_a_json_answer_labelled_as_text(server: str) -> None:
    async with open_session() as session:
        sent = await post(session, f"{server}/echo", json_body={"a": [1, "b"]}, headers={"access_token": "t"})
        form = await post(session, f"{server}/echo", form={"grant_type": "refresh_token"})
    assert (sent.status, sent.json()) == (200, {"a": [1, "b"]})
    assert form.json() == {"grant_type": "refresh_token"}


async def test_an_error_status_is_an_answer_and_a_non_json_body_a_value_error(server: str) -> None:
    async with open_session() as session:
        response = await post(session, f"{server}/broken", json_body={})
    assert response.status == 502
    with pytest.raises(ValueError):
        response.json()


async def test_a_call_can_shorten_the_sessions_timeout(server: str) -> None:
    async with open_session(timeout=30) as session:
        with pytest.raises(TimeoutError):
            await post(session, f"{server}/slow", json_body={}, timeout=0.2)


async def test_a_refused_connection_is_an_aiohttp_client_error() -> None:
    async with open_session() as session:
        with pytest.raises(aiohttp.ClientError):
            await post(session, "http://127.0.0.1:9/nothing", json_body={})
