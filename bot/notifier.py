"""Delivering the outbox: status changes reach the citizens who follow a case.

A status change writes one outbox row per follower in the same transaction as the change, so
a notification exists exactly when the change does, whichever process made it (the bot, the
CLI) and whether or not the bot was running. This task reads due rows for the channels this
process serves, sends them, marks them delivered, and retries failures with exponential
back-off. It wakes at once for changes made in this process and polls for the others. Each pass
claims the rows it takes for a few minutes, so two processes on one database send each
notification once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from bot import wording
from bot.catalog import Catalog
from bot.clock import now
from bot.messages import Button, DeferDelivery, Reply, Sender, Undeliverable
from bot.ratings import level_buttons
from bot.state import ConversationState
from bot.storage import Store

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
                 interval: float = 2.0, clock: Callable[[], dt.datetime] = now):
        self.store = store
        self.channels = dict(channels)
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
            reply = render(row.kind, json.loads(row.payload), self.catalog, self.rating_scale)
            previous: list[str] = []
            try:
                if reply.buttons:
                    previous = ConversationState.from_json(await self.store.get_state(row.channel, row.user)).choices
                    # before sending: the citizen may answer the moment the message arrives
                    await self.store.set_choices(row.channel, row.user, [b.action for b in reply.buttons])
                await channel.send(row.user, [reply], proactive=True)
            except Exception as exc:  # a channel failure must never stop the loop
                if reply.buttons:
                    await self.store.set_choices(row.channel, row.user, previous)
                if isinstance(exc, DeferDelivery):
                    log.info("outbox %s: waiting (%s)", row.id, exc)
                    await self.store.mark_waiting(row.id, str(exc))
                    continue
                attempts = row.attempts + 1
                if isinstance(exc, Undeliverable) or attempts >= MAX_ATTEMPTS:
                    log.warning("outbox %s: set aside after %s attempts: %s", row.id, attempts, type(exc).__name__)
                    await self.store.mark_given_up(row.id, attempts, repr(exc))
                    continue
                log.warning("outbox %s: attempt %s failed: %s", row.id, attempts, type(exc).__name__)
                await self.store.mark_failed(row.id, attempts, self.clock() + backoff(attempts), repr(exc))
                continue
            await self.store.mark_delivered(row.id)
            delivered += 1
        return delivered

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
