"""What every platform adapter shares: the channel protocol, message splitting, numbered choices.

Channels translate platform updates into `bot.messages.Incoming` and render `Reply` back; the
core never sees a platform object, so a new channel is a small file. Platforms without buttons show them
as numbered choices; the dialog maps a bare number back to the button's action itself, so the
mapping survives a restart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot import wording
from bot.messages import Reply, Sender

if TYPE_CHECKING:
    from bot.web import WebServer


class Channel(Sender, Protocol):
    """A platform adapter: it hands each message to the handler it was built with and delivers
    replies, including notifications sent outside a turn.

    The service starts every channel before the shared web server opens (a webhook channel adds
    its route to it; `None` when no running channel asked for the server) and stops them after
    the notifier's last pass, so a channel can still send while it is being stopped."""

    async def start(self, web_server: WebServer | None) -> None: ...

    async def stop(self) -> None: ...


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units: an emoji counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _fits(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The longest prefix within `limit`, found by bisection: `measure` runs in C, a loop over
    characters would not, and every reply passes through here."""
    low, high = 0, min(len(text), limit)  # both measures count every character at least once
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _joins_previous(text: str, i: int) -> bool:
    """Whether text[i] belongs to the character before it on screen: a tone mark of decomposed
    Vietnamese, a variation selector, a skin tone, either side of an emoji joiner, or the
    second half of a flag."""
    char, before = text[i], text[i - 1]
    if unicodedata.category(char) in ("Mn", "Mc", "Me") or "\U0001F3FB" <= char <= "\U0001F3FF":
        return True
    if "\u200d" in (char, before) or "\U000E0020" <= char <= "\U000E007F":
        return True
    if "\U0001F1E6" <= char <= "\U0001F1FF":
        run = 0
        while i - run - 1 >= 0 and "\U0001F1E6" <= text[i - run - 1] <= "\U0001F1FF":
            run += 1
        return run % 2 == 1
    return False


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Pieces of at most `limit` (characters, or what `measure` counts), cut at paragraph,
    then line, then word boundaries.

    Every platform caps a message (Telegram 4,096 UTF-16 units, Zalo 2,000); a guide section
    must arrive whole and readable, never cut mid-word, and text without spaces is never cut
    inside what shows as one character.
    """
    text = text.strip()
    pieces: list[str] = []
    while text:
        if measure(text) <= limit:
            pieces.append(text)
            break
        fits = max(1, _fits(text, limit, measure))  # a character wider than the limit goes alone
        window = text[: fits + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > fits // 3:
                break
        if cut <= 0:
            cut = fits
            while cut > 0 and _joins_previous(text, cut):
                cut -= 1
            cut = cut or fits  # a pile of marks on one letter: cut it rather than loop
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return pieces


def numbered(reply: Reply) -> str:
    """A reply's buttons as numbered lines under its text, for platforms without buttons."""
    if not reply.buttons:
        return reply.text
    lines = [f"{i}. {b.label}" for i, b in enumerate(reply.buttons, 1)]
    return f"{reply.text}\n\n" + "\n".join(lines) + "\n" + wording.NUMBERED_HINT
