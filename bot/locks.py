"""Per-citizen control of turns: one at a time, and not too many.

A citizen's turns must run one at a time (each reads and then writes their state), while
different citizens are served side by side; and one account must not be able to keep the bot
busy for everyone. A plain dict per citizen would grow with every citizen ever seen; these forget
a key as soon as it is idle.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager


class KeyedLock:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class Pace:
    """At most `limit` messages per key within `window` seconds.

    `check` answers None when the message may be served, True for the first one over the limit
    (worth telling the sender) and False for the others (dropped without a word)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[Hashable, deque[float]] = {}
        self._told: set[Hashable] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def check(self, key: Hashable) -> bool | None:
        now = self.clock()
        if len(self._seen) > 10_000:
            self._forget_idle(now)
        seen = self._seen.setdefault(key, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            self._told.discard(key)
            return None
        if key in self._told:
            return False
        self._told.add(key)
        return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, seen in self._seen.items() if not seen or now - seen[-1] >= self.window]:
            del self._seen[key]
            self._told.discard(key)
