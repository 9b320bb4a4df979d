"""The console channel: the same conversation in a terminal, buttons as numbered choices."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.channels.base import numbered
from bot.messages import Handler, Incoming, Reply

USER = "console"


class ConsoleChannel:
    name = "console"

    def __init__(self, out: TextIO = sys.stdout):
        self.out = out

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None:
        for reply in replies:
            self.out.write(numbered(reply) + "\n\n")
        self.out.flush()


async def run_console(handle: Handler, channel: ConsoleChannel, source: TextIO = sys.stdin,
                      welcome: str = "") -> None:
    """Read lines until end of input or "thoát"; answer each through the dialog."""
    loop = asyncio.get_running_loop()
    prompt = sys.stdin.isatty() and source is sys.stdin
    first = await handle(Incoming(channel.name, USER, text="/start"))
    if welcome:
        channel.out.write(welcome + "\n\n")
    await channel.send(USER, first)
    while True:
        if prompt:
            channel.out.write("> ")
            channel.out.flush()
        line = await loop.run_in_executor(None, source.readline)
        if not line:
            break
        text = line.strip()
        if text.lower() in {"thoát", "thoat", "exit", "quit"}:
            break
        if text:
            await channel.send(USER, await handle(Incoming(channel.name, USER, text=text)))
