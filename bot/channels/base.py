"""The seam between the conversation and the platforms: what comes in, what goes out.

Channels translate platform updates into `Incoming` and render `Reply` back; the core never
sees a platform object, so a new channel is a small file. Platforms without buttons show them
as numbered choices; the dialog maps a bare number back to the button's action itself, so the
mapping survives a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    """Short ASCII, at most 64 bytes (Telegram's callback_data limit)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: str = "image/png"


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Incoming:
    channel: str
    user: str
    text: str | None = None
    action: str | None = None
    attachment: Attachment | None = None
    """A file the user sent (staff send case CSV files), with its caption as `text`."""


class DeferDelivery(Exception):
    """The platform cannot deliver this now but will later (Zalo's reply window is closed): the
    notification waits in the outbox instead of being dropped or retried in a loop."""


class Channel(Protocol):
    """What the notifier needs of a channel: deliver replies to one of its users.

    `proactive` marks a message the citizen did not just ask for (a case notification);
    platforms that charge for those decide how to deliver it, or raise DeferDelivery.
    """

    name: str

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None: ...


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, then line, then word boundaries.

    Every platform caps a message (Telegram 4,096, Zalo 2,000); a guide section must arrive
    whole and readable, never cut mid-word.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > limit // 3:
                break
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def numbered(reply: Reply) -> str:
    """A reply's buttons as numbered lines under its text, for platforms without buttons."""
    if not reply.buttons:
        return reply.text
    lines = [f"{i}. {b.label}" for i, b in enumerate(reply.buttons, 1)]
    return f"{reply.text}\n\n" + "\n".join(lines) + "\n(Trả lời bằng số để chọn)"
