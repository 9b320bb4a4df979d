"""The core's vocabulary for what a citizen sends and what the bot answers.

Every channel translates its platform's updates into `Incoming` and renders `Reply` back; the
conversation only ever sees these types. They live in the core, not beside the adapters, so
that arrows point one way: channels import the core, the core never imports a channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    """An encoded `bot.actions` action: short ASCII, checked against Telegram's 64-byte limit there."""


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


Handler = Callable[[Incoming], Awaitable[list[Reply]]]
"""What a channel hands each message to: the dialog in the app, a plain function in tests."""


class DeferDelivery(Exception):
    """The platform cannot deliver this now but will later (Zalo's reply window is closed): the
    notification waits in the outbox instead of being dropped or retried in a loop."""


class Undeliverable(Exception):
    """The platform will never deliver this (the citizen blocked the bot, the recipient does not
    exist): the notification is set aside at once rather than retried."""


class Sender(Protocol):
    """What the notifier needs of a channel: deliver replies to one of its users.

    `proactive` marks a message the citizen did not just ask for (a case notification);
    platforms that charge for those decide how to deliver it, or raise DeferDelivery.
    """

    name: str

    async def send(self, user: str, replies: list[Reply], *, proactive: bool = False) -> None: ...
