"""Delivering the outbox: status changes reach the citizens who follow a case.

A status change writes one outbox row per follower in the same transaction as the change, so
a notification exists exactly when the change does, whichever process made it (the bot, the
CLI) and whether or not the bot was running. This task reads due rows for the channels this
process serves, sends them, marks them delivered, and retries failures with exponential
back-off. It wakes at once for changes made in this process and polls for the others. Each pass
claims the rows it takes for a few minutes, so two processes on one database send each
notification once.

Platform rules become delivery decisions here, not in the adapters. A platform that takes a
bot's messages only for a while after the citizen last wrote (Zalo OA) declares that window;
outside it the news goes as the office's approved template when one is configured, and
otherwise waits for the citizen's next message. A message the platform refuses for good
(`Undeliverable`: blocked, out of its window, a wrong template) is set aside at once, listed by
`motcua notifications --failed`, and released when the citizen writes again. Channels that
declare an outbound rate are paced to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot import wording
from bot.cases import STATUS_NAMES
from bot.catalog import Catalog
from bot.clock import now
from bot.messages import Button, DeferDelivery, Reply, Sender, Undeliverable
from bot.ratings import level_buttons
from bot.state import ConversationState
from bot.storage import OutboxRow, Store

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=1)
LEASE = dt.timedelta(seconds=20)
"""How long a pass holds the rows it took: longer than sending fifty messages takes (a few
seconds at Telegram's rate), short enough that rows taken by a process killed mid-pass reach
their citizens soon after another process, or the restarted one, looks again."""
MAX_ATTEMPTS = 24
"""About a day of tries (back-off reaches an hour after twelve): then the row is set aside, as
when the platform says it can never be delivered, instead of being retried for ever (R21)."""


def backoff(attempts: int) -> dt.timedelta:
    """2, 4, 8 … seconds after each failure, at most an hour."""
    return min(MAX_BACKOFF, dt.timedelta(seconds=2 ** min(attempts, 12)))


@dataclass(frozen=True)
class ReplyWindow:
    """How long after a citizen's last message a platform takes a bot's message, as the
    platform states it, and what the office configured to do about it."""

    free: dt.timedelta
    """Replies within this are free and unlimited."""
    longest: dt.timedelta
    """Replies after `free` and within this are accepted but billed; later ones are refused."""
    billable: bool
    """Whether the office pays for replies between `free` and `longest`."""
    template: bool
    """Whether an approved template can carry the news outside the window."""

    def open_for(self) -> dt.timedelta:
        return self.longest if self.billable else self.free


@runtime_checkable
class Windowed(Protocol):
    """A channel whose platform limits a bot's messages to a window after the citizen's last one."""

    window: ReplyWindow

    async def send_template(self, user: str, fields: Mapping[str, str]) -> None:
        """The news as the approved template, filled from our fields (`template_fields`)."""


class Pace:
    """At most `rate` sends a second through one channel: a burst of status changes must not
    trip the platform's rate limit (Zalo's -32, the Bot Platform's 429). The clock and the
    sleep are the caller's, so a test sees the waits without waiting."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.gap = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0

    async def wait(self) -> None:
        at = self.clock()
        if self._next > at:
            await self.sleep(self._next - at)
            at = self._next
        self._next = at + self.gap


def template_fields(kind: str, facts: dict[str, Any], catalog: Catalog, created: dt.datetime) -> dict[str, str]:
    """What a template may show of a notification: short facts, no free text beyond the note."""
    guide = catalog.guides.get(str(facts.get("procedure", "")))
    if kind == "status" and facts.get("status") in STATUS_NAMES:
        status = STATUS_NAMES[str(facts["status"])]
    else:
        status = wording.TEMPLATE_STAFF_ANSWER if kind == "reply" else wording.TEMPLATE_NEWS
    return {"code": str(facts.get("code") or facts.get("ref") or ""), "status": status,
            "procedure": guide.name if guide else "", "note": str(facts.get("note") or facts.get("answer") or ""),
            "date": created.strftime("%d/%m/%Y")}


def render(kind: str, facts: dict[str, Any], catalog: Catalog, rating_scale: int) -> Reply:
    """An outbox row as the reply the follower sees, worded now rather than when it was queued."""
    if kind == "status" and "text" not in facts:
        guide = catalog.guides.get(str(facts.get("procedure", "")))
        return wording.status_notification(facts, guide, level_buttons(str(facts["code"]), rating_scale))
    if kind == "reply" and "answer" in facts:
        return wording.staff_answer(facts)
    # a row queued by a version that stored finished words: it is delivered as it was written
    buttons = tuple(Button(b["label"], b["action"]) for b in facts.get("buttons", []))
    return Reply(str(facts["text"]), buttons)


class Notifier:
    def __init__(self, store: Store, channels: Mapping[str, Sender], catalog: Catalog, rating_scale: int = 5,
                 interval: float = 2.0, clock: Callable[[], dt.datetime] = now,
                 pace: Callable[[float], Pace] = Pace):
        self.store = store
        self.channels = dict(channels)
        self._paces = {name: pace(rate) for name, channel in self.channels.items()
                       if (rate := getattr(channel, "outbound_rate", None))}
        """Channels that declare `outbound_rate` (messages a second) are paced to it."""
        self.catalog = catalog
        self.rating_scale = rating_scale
        self.interval = interval
        self.clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._passing = asyncio.Lock()
        store.outbox_listeners.append(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def deliver_due(self) -> int:
        """One pass over the due rows; returns how many were delivered. Passes of one process take
        turns: a pass asked for while another runs waits for it, then finds what is left."""
        async with self._passing:
            return await self._pass()

    async def _pass(self) -> int:
        delivered = 0
        for row in await self.store.claim_due(list(self.channels), self.clock(), LEASE):
            channel = self.channels[row.channel]
            facts = json.loads(row.payload)
            reply = render(row.kind, facts, self.catalog, self.rating_scale)
            previous: list[str] = []
            try:
                if row.channel in self._paces:
                    await self._paces[row.channel].wait()
                if reply.buttons:
                    previous = ConversationState.from_json(await self.store.get_state(row.channel, row.user)).choices
                    # before sending: the citizen may answer the moment the message arrives
                    await self.store.set_choices(row.channel, row.user, [b.action for b in reply.buttons])
                await self._send(channel, row, facts, reply)
            except Exception as exc:  # a channel failure must never stop the loop
                if reply.buttons:
                    await self.store.set_choices(row.channel, row.user, previous)
                if isinstance(exc, DeferDelivery):
                    log.info("outbox %s: waiting (%s)", row.id, exc)
                    await self.store.mark_waiting(row.id, str(exc))
                    continue
                attempts = row.attempts + 1
                if isinstance(exc, Undeliverable) or attempts >= MAX_ATTEMPTS:
                    log.warning("outbox %s: set aside after %s attempts (%s: %s); sent when the citizen next "
                                "writes; see `motcua notifications --failed`", row.id, attempts,
                                type(exc).__name__, exc)
                    await self.store.mark_given_up(row.id, attempts, f"{type(exc).__name__}: {exc}")
                    continue
                log.warning("outbox %s: attempt %s failed: %s", row.id, attempts, type(exc).__name__)
                await self.store.mark_failed(row.id, attempts, self.clock() + backoff(attempts), repr(exc))
                continue
            await self.store.mark_delivered(row.id)
            delivered += 1
        return delivered

    async def _send(self, channel: Sender, row: OutboxRow, facts: dict[str, Any], reply: Reply) -> None:
        """As a reply while the platform's window is open; outside it as the template, or not
        yet (the row waits for the citizen's next message)."""
        if isinstance(channel, Windowed):
            window = channel.window
            last = await self.store.reply_window(row.channel, row.user)
            if last is None or self.clock() - last >= window.open_for():
                if not window.template:
                    raise DeferDelivery("outside the platform's reply window; sent when the citizen next writes")
                await channel.send_template(row.user, template_fields(row.kind, facts, self.catalog, row.created_at))
                return
        await channel.send(row.user, [reply], proactive=True)

    def stop(self) -> None:
        """Finish the pass under way (a sent row gets marked delivered), then end `run`."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        await self.store.release_claims(list(self.channels))
        while not self._stopping:
            try:
                await self.deliver_due()
            except Exception:
                log.exception("notifier pass failed")
            if self._stopping:
                break
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
