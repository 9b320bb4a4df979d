"""A citizen looking up a case: code, then a second factor, then status and following.

A case is looked up in every office of the deployment (its answer names the office that holds
it). A case is shown only to someone who gives its code and the last four digits of the phone
registered with it. A wrong code and a wrong phone get the same words, so a stranger learns
nothing about which codes exist. Failures are limited per person (five an hour) and per case
(ten a day, by anyone), and deleting one's data does not reset either.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from bot import actions, codes, wording
from bot.actions import button
from bot.cases import Case, CaseDesk
from bot.clock import now
from bot.config import Office
from bot.messages import Button, Reply
from bot.state import ConversationState, Lookup
from bot.statuses import PAUSED
from bot.storage import Store

if TYPE_CHECKING:
    from bot.matching import Reading

MAX_FAILURES = 5
BLOCK = dt.timedelta(hours=1)
"""Five wrong second factors in an hour block that person's look-ups for an hour."""
CASE_MAX_FAILURES = 10
CASE_BLOCK = dt.timedelta(hours=24)
"""Ten wrong second factors for one case in a day, by anyone, lock that case's look-up: many
accounts guessing one case together get at most ten tries a day of ten thousand, and staff see
the lock."""
GLOBAL_PER_MINUTE = 300
"""Failed look-ups by everyone in a minute beyond which people who have already failed this hour
must wait: a brake on guessing many cases with many accounts. Citizens who have not failed are
never stopped by it, so no one can switch look-ups off for others."""


async def recent_case_failures(store: Store, code: str) -> int:
    """What staff see of a case's look-ups: wrong tries within the per-case window."""
    return await store.case_failures(code, now() - CASE_BLOCK)


class Tracking:
    def __init__(self, desk: CaseDesk, store: Store, office: Office, per_minute: int = GLOBAL_PER_MINUTE,
                 factor: str = "phone"):
        self.desk = desk
        self.store = store
        self.office = office
        self.per_minute = per_minute
        self.factor = factor

    async def blocked(self, channel: str, user: str) -> Reply | None:
        failed = await self.store.failed_lookups(channel, user, now() - BLOCK)
        if failed >= MAX_FAILURES:
            return wording.too_many_failures(self.office)
        if failed and await self.store.failures_since(now() - dt.timedelta(minutes=1)) >= self.per_minute:
            return wording.lookups_overloaded(self.office)
        return None

    async def start(self, channel: str, user: str, state: ConversationState, code: str | None) -> list[Reply]:
        refusal = await self.blocked(channel, user)
        if refusal:
            state.lookup = None
            return [refusal]
        if code and code in state.verified:
            # proved already in this conversation: no second factor, and no attempt to count
            state.lookup = None
            return [await self.view(channel, user, code)]
        state.lookup = Lookup(code)
        ask_factor = wording.ASK_ID if self.factor == "id" else wording.ASK_PHONE
        return [Reply(ask_factor if code else wording.ASK_CODE, wording.CANCEL)]

    async def step(self, channel: str, user: str, state: ConversationState, reading: Reading) -> list[Reply] | None:
        """The next look-up step, or None when the message is not part of the look-up."""
        lookup = state.lookup
        if lookup is None:
            return None
        if reading.case_code:
            return await self.start(channel, user, state, reading.case_code)
        text = reading.text
        if lookup.code is None:
            if codes.looks_like_code(text):
                return [Reply(wording.NOT_A_CODE + wording.ASK_CODE, wording.CANCEL)]
            state.lookup = None
            return None
        digits = re.sub(r"\D", "", text)
        if len(digits) < 4 or len(text.strip()) > 20:
            state.lookup = None
            return None
        return await self.verify(channel, user, state, lookup.code, digits[-4:])

    async def verify(self, channel: str, user: str, state: ConversationState, code: str, last4: str) -> list[Reply]:
        refusal = await self.blocked(channel, user)
        state.lookup = None
        if refusal:
            return [refusal]
        if await self.store.case_failures(code, now() - CASE_BLOCK) >= CASE_MAX_FAILURES:
            # the same words whether or not the code exists: a lock reveals nothing
            return [wording.case_locked(self.office)]
        case = await self.desk.get(code)
        ok = case is not None and self._proves(case, last4)
        await self.store.record_lookup(channel, user, code, ok)
        if not ok or case is None:
            return [wording.REFUSED_REPLY]
        state.verify(code)
        return [await self.view(channel, user, code)]

    def _proves(self, case: Case, last4: str) -> bool:
        if self.factor == "id":
            return bool(case.id_tail) and case.id_tail == last4   # a case without it is never shown
        return case.phone.endswith(last4)

    async def view(self, channel: str, user: str, code: str) -> Reply:
        case = await self.desk.get(code)
        if case is None:
            return Reply(wording.REFUSED, (wording.MENU_BUTTON,))
        buttons: list[Button] = []
        if not case.closed:
            if await self.store.is_following(channel, user, code):
                buttons.append(button(wording.UNFOLLOW_LABEL, actions.Unfollow(code)))
            else:
                buttons.append(button(wording.FOLLOW_LABEL, actions.Follow(code)))
        if case.status in PAUSED:
            buttons.append(button(wording.DOCUMENTS_LABEL, actions.Procedure(case.procedure, "documents")))
        if case.status == "returned":
            buttons.append(button(wording.RATE_LABEL, actions.Rate(code)))
        buttons.append(wording.MENU_BUTTON)
        guide = self.desk.catalog.guides.get(case.procedure)
        today = now().date()
        text = wording.case_view(case, guide, self.desk.office_of(case), today, self.desk.days_left(case, today))
        return Reply(text, tuple(buttons))

    def owns(self, state: ConversationState, code: str) -> bool:
        return code in state.verified

    async def on_action(self, channel: str, user: str, state: ConversationState,
                        action: actions.Follow | actions.Unfollow | actions.ShowCase) -> list[Reply]:
        """Follow, unfollow and show-case buttons; honoured only for codes this user has verified."""
        code = action.code
        if not (self.owns(state, code) or await self.store.is_following(channel, user, code)):
            return [wording.PROVE_FIRST]
        if isinstance(action, actions.Follow):
            await self.store.follow(channel, user, code)
            return [wording.following(code)]
        if isinstance(action, actions.Unfollow):
            await self.store.unfollow(channel, user, code)
            return [wording.unfollowed(code)]
        return [await self.view(channel, user, code)]
