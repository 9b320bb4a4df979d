"""What a chat platform needs remembered across restarts, apart from the conversation.

Zalo OA refresh tokens are single-use, so a pair must be stored the moment it is issued or a
crash locks the bot out; when Zalo refuses to renew them, the problem is kept as an alert
until a refresh succeeds, so staff see it. Platforms deliver a message again when an answer is
slow, so message ids already handled are kept. Zalo only lets an OA write for a while after the
citizen's last message, so the time of that message is tracked, and a citizen's new message
releases the notifications kept waiting for it or set aside.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Self

import aiosqlite

from bot.clock import now
from bot.storage import dialect
from bot.storage.outbox import OutboxQueries


@dataclass(frozen=True)
class TokenRow:
    channel: str
    access_token: str
    refresh_token: str
    expires_at: dt.datetime

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Self:
        return cls(row["channel"], row["access_token"], row["refresh_token"],
                   dt.datetime.fromisoformat(row["expires_at"]))


class ChannelStateQueries(OutboxQueries):
    async def tokens(self, channel: str) -> TokenRow | None:
        async with self.db.execute("SELECT * FROM channel_tokens WHERE channel = ?", (channel,)) as cur:
            row = await cur.fetchone()
        return None if row is None else TokenRow.from_row(row)

    async def save_tokens(self, channel: str, access_token: str, refresh_token: str, expires_at: dt.datetime) -> None:
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO channel_tokens (channel, access_token, refresh_token, expires_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel) DO UPDATE SET access_token = excluded.access_token,"
                " refresh_token = excluded.refresh_token, expires_at = excluded.expires_at",
                (channel, access_token, refresh_token, expires_at.isoformat()),
            )

    async def first_sight(self, channel: str, message_id: str) -> bool:
        """True the first time a platform message id is seen; False for a re-delivery."""
        async with self.transaction():
            cur = await self.db.execute(
                f"{dialect.INSERT_OR_IGNORE} INTO seen_messages (channel, message_id, at) VALUES (?, ?, ?)",
                (channel, message_id, now().isoformat()),
            )
        return cur.rowcount == 1

    async def raise_alert(self, channel: str, problem: str) -> None:
        """Record a problem an administrator must fix; a repeat keeps the time it first appeared."""
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO channel_alerts (channel, problem, at) VALUES (?, ?, ?)"
                " ON CONFLICT (channel) DO UPDATE SET problem = excluded.problem",
                (channel, problem[:300], now().isoformat()),
            )

    async def clear_alert(self, channel: str) -> None:
        async with self.transaction():
            await self.db.execute("DELETE FROM channel_alerts WHERE channel = ?", (channel,))

    async def alerts(self) -> list[tuple[str, str, dt.datetime]]:
        """(channel, problem, since when) for every channel that needs an administrator."""
        async with self.db.execute("SELECT channel, problem, at FROM channel_alerts ORDER BY channel") as cur:
            return [(row["channel"], row["problem"], dt.datetime.fromisoformat(row["at"]))
                    for row in await cur.fetchall()]

    async def note_inbound(self, channel: str, user: str) -> None:
        """The citizen wrote: the reply window reopens and notifications kept waiting, or set
        aside because the platform refused them, are released."""
        async with self.transaction():
            await self.db.execute(
                "INSERT INTO reply_windows (channel, user, last_inbound, sent_since) VALUES (?, ?, ?, 0)"
                " ON CONFLICT (channel, user) DO UPDATE SET last_inbound = excluded.last_inbound, sent_since = 0",
                (channel, user, now().isoformat()),
            )
            released = await self._release_waiting(channel, user)
        if released:
            self._outbox_changed()

    async def reply_window(self, channel: str, user: str) -> dt.datetime | None:
        """When the citizen last wrote on this channel (tracked where a platform limits replies)."""
        async with self.db.execute(
            "SELECT last_inbound FROM reply_windows WHERE channel = ? AND user = ?", (channel, user)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else dt.datetime.fromisoformat(row["last_inbound"])
