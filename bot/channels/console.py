"""The console channel: the same conversation in a terminal, buttons as numbered choices.

Lines are read by a daemon thread, not the loop's executor: a thread blocked in `readline`
would otherwise keep Ctrl-C waiting for the next Enter and end in a traceback. A conversation
continues after a restart like on the other channels (its state is stored), so only a new
one starts at the menu.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import TextIO

from bot import wording
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


def _lines(source: TextIO) -> asyncio.Queue[str]:
    """Lines of `source` as they come; an empty string at the end of input."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = source.readline()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return queue


async def run_console(handle: Handler, channel: ConsoleChannel, source: TextIO = sys.stdin,
                      welcome: str = "", resume: bool = False) -> None:
    """Read lines until end of input or "thoát"; answer each through the dialog. A resumed
    conversation is not sent back to the menu: the citizen carries on where they were."""
    prompt = sys.stdin.isatty() and source is sys.stdin
    if welcome:
        channel.out.write(welcome + "\n\n")
    if resume:
        channel.out.write(wording.CONSOLE_RESUMED + "\n\n")
    else:
        await channel.send(USER, await handle(Incoming(channel.name, USER, text="/start")))
    lines = _lines(source)
    try:
        while True:
            if prompt:
                channel.out.write("> ")
                channel.out.flush()
            line = await lines.get()
            if not line:
                break
            text = line.strip()
            if text.lower() in {"thoát", "thoat", "exit", "quit"}:
                break
            if text:
                await channel.send(USER, await handle(Incoming(channel.name, USER, text=text)))
    finally:
        channel.out.write(("\n" if prompt else "") + wording.CONSOLE_GOODBYE + "\n")
        channel.out.flush()
