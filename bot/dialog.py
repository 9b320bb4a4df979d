"""The conversation: one `Incoming` in, the replies out, state kept in the store.

Channel-agnostic: Telegram, Zalo and the console all hand their messages to `Dialog.handle`.
Every turn reads the citizen's state, decides, and writes the new state before replying, so a
restart between two messages loses nothing. No exception ever reaches a citizen: a failed turn
is logged (without personal data) and answered with an apology and the hotline. The dialog
routes and holds no sentences (wording.py) and no phrase rules (matching.py).
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import actions, places, reports, wording
from bot.actions import Action
from bot.cases import CaseDesk
from bot.catalog import ASPECTS, Catalog
from bot.clock import now
from bot.config import Config, Office
from bot.locks import Pace
from bot.matching import Context, Matcher, Reading, Understanding
from bot.messages import Attachment, Incoming, Reply
from bot.privacy import mask_digits
from bot.ratings import RatingFlow
from bot.staff import is_staff_command, run_staff_command
from bot.state import ConversationState
from bot.storage import Store
from bot.text import clean
from bot.tracking import Tracking

log = logging.getLogger(__name__)

PACE_MESSAGES, PACE_WINDOW = 20, 60.0
"""More than twenty messages a minute from one person is a flood, not a conversation (R21: one
account posted 14 a second): the first over the limit is told to slow down, the rest are dropped
until the minute has passed."""
CLARIFY_BELOW = 0.5
"""Understanding less sure than this asks which procedure was meant instead of answering: the
model's probabilities are calibrated, so below one half an answer is likelier wrong than right."""
CLARIFY_LETTER_BELOW = 0.55
"""The same for a long letter: its story spreads the evidence, and just above one half real
citizens' letters (benchmarks/real-questions.jsonl) were still wrong 4 times in 9. Asking back
costs the citizen a tap; a wrong procedure costs them a trip."""
OFF_TOPIC_SURE = 0.7
"""An out-of-scope question this sure ends the procedure in view; a less sure one leaves it, and
only a bare question with nothing else in view is then taken as about the out-of-scope matter."""

COMMANDS = {
    "reset": Understanding("help", confidence=1.0),
    "forget": Understanding("unknown", confidence=1.0),
    "track": Understanding("case_status", confidence=1.0),
}
"""How the requests about the conversation itself count when a conversation is scored."""


def asks_back(u: Understanding) -> bool:
    """Whether the dialog asks which procedure was meant instead of answering: an unsure guess
    at a new topic is offered with its neighbours, or alone to confirm ("Có phải bạn hỏi về …?").
    A follow-up stays on the topic the citizen chose."""
    below = CLARIFY_LETTER_BELOW if u.letter else CLARIFY_BELOW
    return u.intent == "procedure" and u.confidence < below and not u.follow_up


def _only_emoji(text: str) -> bool:
    """👍, 😀😀 or 🙏 alone: a reaction, not a request for the menu."""
    return any(unicodedata.category(c) == "So" for c in text) and not any(c.isalnum() for c in text)

Forward = Callable[[str, Office | None], Awaitable[None]]
"""Sends a note to the staff chat of an office (None: the deployment's); the app wires it to a
channel, tests to a list."""


@dataclass
class Turn:
    """What one turn knows while it runs."""

    incoming: Incoming
    state: ConversationState
    english: bool = False
    understood: Understanding | None = None
    """What the dialog took the typed message to mean: what `motcua eval` scores in conversations."""

    @property
    def who(self) -> tuple[str, str]:
        return self.incoming.channel, self.incoming.user


def _choice(text: str, state: ConversationState) -> bool:
    """Whether a typed number picks one of the buttons last offered, typed as one types a
    number: never "0001", the last four digits of a phone a look-up asks for (R20: a phone
    ending 0001 pressed "Hủy"); a tail without a leading zero is larger than any menu."""
    return text.isascii() and text.isdigit() and text[0] != "0" and 1 <= int(text) <= len(state.choices)


@dataclass(frozen=True)
class Outcome:
    replies: list[Reply]
    understood: Understanding | None


class Dialog:
    def __init__(self, catalog: Catalog, matcher: Matcher, store: Store, config: Config, desk: CaseDesk,
                 forward: Forward | None = None):
        self.catalog = catalog
        self.matcher = matcher
        self.store = store
        self.config = config
        self.desk = desk
        self.tracking = Tracking(desk, store, config.office, config.lookups_per_minute, config.lookup_factor)
        self.ratings = RatingFlow(store, config.rating_scale, config.rating_questions)
        self.forward = forward
        self.notice = ""
        """A line added to every menu (the console's demo cases and their digits)."""
        self._pace = Pace(PACE_MESSAGES, PACE_WINDOW)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        return (await self.converse(incoming)).replies

    async def converse(self, incoming: Incoming) -> Outcome:
        """Turns of one citizen run one at a time (each reads and writes their state), also across
        processes sharing a PostgreSQL database; turns of different citizens run concurrently."""
        flood = self._pace.check((incoming.channel, incoming.user))
        if flood is not None:
            return Outcome([wording.SLOW_DOWN] if flood else [], None)
        turn = Turn(incoming, ConversationState())
        try:
            async with self.store.turn(incoming.channel, incoming.user) as held:
                turn.state = ConversationState.from_json(held.state)
                replies = await self._handle(turn)
                if not turn.state.forgotten:
                    # of a forgotten conversation nothing is kept, not even the menu choices just offered
                    offered = next((r.buttons for r in reversed(replies) if r.buttons), ())
                    turn.state.choices = [b.action for b in offered]
                    held.save = turn.state.to_json()
            return Outcome(replies, turn.understood)
        except Exception:
            log.exception("turn failed on channel %s", incoming.channel)
            return Outcome([wording.apology(self.config.office)], turn.understood)

    async def _handle(self, turn: Turn) -> list[Reply]:
        incoming, state = turn.incoming, turn.state
        wire = incoming.action
        text = clean(incoming.text or "")
        if wire is None and _choice(text, state):
            wire = state.choices[int(text) - 1]
        office = self.config.staff_office(incoming.channel, incoming.user)
        if wire is None and incoming.attachment is not None and is_staff_command(text) and office is not None:
            return [Reply(await run_staff_command(
                self.desk.within(office), text, f"{incoming.channel}:{incoming.user}", incoming.attachment))]
        if wire is None and incoming.text is None:
            return [wording.text_only(self.config.office)]
        if wire is not None:
            return await self.on_action(turn, actions.parse(wire))
        return await self.on_text(turn, text)

    # button actions

    async def on_action(self, turn: Turn, action: Action | None) -> list[Reply]:
        channel, user = turn.who
        match action:
            case actions.Menu():
                turn.state.procedure = None
                return [self.menu(turn)]
            case actions.Group(index):
                reply = wording.group_menu(self.catalog, index)
                if reply:
                    return [reply]
            case actions.Procedure(guide_id, aspect) if guide_id in self.catalog and (not aspect or aspect in ASPECTS):
                turn.state.procedure = guide_id
                return [wording.procedure_answer(self.catalog[guide_id], aspect)]
            case actions.Human():
                return [wording.contact(self.config.office)]
            case actions.Track():
                return await self.tracking.start(channel, user, turn.state, None)
            case actions.Follow() | actions.Unfollow() | actions.ShowCase():
                return await self.tracking.on_action(channel, user, turn.state, action)
            case actions.Rate(None):
                return [await self.rate_latest(turn)]
            case actions.Rate(code, level) if code is not None:
                return [await self.on_rate(turn, code, level)]
            case actions.RatingAnswer(code, key, value):
                return [await self.ratings.answer(turn.state, code, key, value)]
            case actions.Vote() | actions.ForwardQuestion():
                return await self.on_vote(turn, action)
            case actions.Forget():
                await self.store.forget_user(channel, user)
                turn.state = ConversationState(forgotten=True)
                return [wording.FORGOTTEN]
        return [self.menu(turn, wording.STALE_CHOICE)]

    async def on_rate(self, turn: Turn, code: str, level: str | None) -> Reply:
        channel, user = turn.who
        if not (self.tracking.owns(turn.state, code) or await self.store.is_following(channel, user, code)):
            return wording.RATE_AFTER_LOOKUP
        case = await self.desk.get(code)
        if case is None or case.status != "returned":
            return wording.RATE_AFTER_RESULT
        if level is None:
            return await self.ratings.start(code)
        return await self.ratings.rate(turn.state, channel, case, level)

    async def rate_latest(self, turn: Turn) -> Reply:
        """"Đánh giá" from the menu or typed: the latest verified case with a result, if any."""
        for code in reversed(turn.state.verified):
            case = await self.desk.get(code)
            if case is not None and case.status == "returned":
                return await self.ratings.start(code)
        return wording.RATE_HOW

    async def on_vote(self, turn: Turn, action: actions.Vote | actions.ForwardQuestion) -> list[Reply]:
        """👍/👎 on an answer this user received, and forwarding a 👎 question to staff."""
        if action.question not in turn.state.answers:
            return [self.menu(turn, wording.STALE_CHOICE)]
        if isinstance(action, actions.ForwardQuestion):
            if self.forward is None:
                return [wording.no_staff_chat(self.config.office)]
            row = await self.store.question(action.question)
            ref = await self.forward_to_staff(turn, row.text if row else "")
            return [wording.contact(self.config.office, forwarded_ref=ref)]
        vote = "up" if action.up else "down"
        if not await self.store.vote(action.question, turn.incoming.channel, vote):
            return [wording.VOTED_ALREADY]
        if action.up:
            return [wording.VOTE_THANKS]
        if self.forward is None:
            return [wording.no_staff_chat(self.config.office)]
        return [wording.offer_forward(action.question)]

    def menu(self, turn: Turn, extra: str = "") -> Reply:
        extra = "\n\n".join(part for part in (extra, self.notice) if part)
        return wording.greeting(self.config.office, self.catalog, english=turn.english, extra=extra)

    # typed messages

    async def on_text(self, turn: Turn, text: str) -> list[Reply]:
        channel, user = turn.who
        reading = self.matcher.read(text)
        turn.understood = COMMANDS.get(reading.command or "")
        if not reading.norm:
            return [wording.ACKNOWLEDGED if _only_emoji(text) else self.menu(turn)]
        if reading.command == "reset":
            turn.state.reset_flows()
            return [self.menu(turn)]
        office = self.config.staff_office(channel, user)
        if is_staff_command(text) and office is not None:
            return [Reply(await run_staff_command(self.desk.within(office), text, f"{channel}:{user}"))]
        if reading.norm.startswith("baocao") and text.startswith("/") and office is not None:
            return [await self.staff_report(reading.norm, office)]
        if self.ratings.wants_comment(turn.state):
            turn.understood = Understanding("feedback", confidence=1.0, kind="rate")
            return [await self.ratings.comment(turn.state, text)]
        if reading.command == "forget":
            return [wording.FORGET_CONFIRM]
        if reading.command == "track":
            return await self.tracking.start(channel, user, turn.state, None)
        stepped = await self.tracking.step(channel, user, turn.state, reading)
        if stepped is not None:
            turn.state.case = True
            turn.understood = Understanding("case_status", confidence=1.0, case_code=reading.case_code)
            return stepped
        context = Context(turn.state.procedure, turn.state.aspect, turn.state.off_topic, turn.state.case)
        u = turn.understood = self.matcher.understand(reading, context)
        turn.english = u.english
        found = await self.find_place(text, unsure=u.intent == "unknown" or u.confidence < CLARIFY_BELOW)
        if found is not None:
            place = turn.state.place = found.place
            if found.only_address:
                return [wording.place_answer(place, self.desk_of(place), elsewhere=self.elsewhere(place))]
            # the question asked with the address is understood without it, as if asked alone
            reading = self.matcher.read(found.rest)
            u = turn.understood = self.matcher.understand(reading, context)
        replies, answered = await self.respond(turn, u, reading)
        qid = await self.store.log_question(
            turn.incoming.channel, mask_digits(text[:500]), u.intent, u.procedure, u.aspect,
            u.confidence, answered,
        )
        if answered and u.intent == "procedure" and len(replies) == 1:
            turn.state.remember_answer(qid)
            replies = [Reply(replies[0].text, replies[0].buttons + wording.vote_buttons(qid))]
        return replies

    async def respond(self, turn: Turn, u: Understanding, reading: Reading) -> tuple[list[Reply], bool]:
        """The replies to an understood message, and whether it counts as answered."""
        office, state = self.config.office, turn.state
        state.off_topic = u.intent == "unknown"
        if u.intent in ("procedure", "case_status", "unknown"):
            state.case = u.intent == "case_status"
        if u.intent == "procedure" and u.procedure:
            options = [u.procedure, *u.alternatives[:2]]
            # offered choices or not, the likeliest stays in view: a citizen who asks on without
            # choosing most often meant it, and a button press replaces it
            state.procedure, state.aspect = u.procedure, u.aspect
            if asks_back(u):
                return [wording.clarification(self.catalog, options, u.aspect, english=u.english,
                                              elsewhere=self.matcher.elsewhere.find(reading.norm))], False
            answer = wording.procedure_answer(self.catalog[u.procedure], u.aspect, english=u.english)
            if u.aspect == "where" and state.place is not None:
                answer = wording.with_place(answer, state.place, self.desk_of(state.place),
                                            elsewhere=self.elsewhere(state.place))
            return [answer], True
        if state.off_topic and u.confidence >= OFF_TOPIC_SURE:
            state.procedure = state.aspect = None
        if u.intent == "greeting":
            if u.kind == "thanks":
                return [wording.goodbye(english=u.english)], True
            if u.kind == "ack":
                # "ok", "dạ vâng": a short line, not the whole welcome again
                return [wording.ACKNOWLEDGED], True
            return [self.menu(turn)], True
        if u.intent == "help":
            return [self.menu(turn)], True
        if u.intent == "human":
            ref = await self.forward_to_staff(turn, reading.text)
            return [wording.contact(office, forwarded_ref=ref, english=u.english)], True
        if u.intent == "case_status":
            channel, user = turn.who
            return await self.tracking.start(channel, user, turn.state, u.case_code), True
        if u.intent == "feedback":
            if u.kind == "rate":
                return [await self.rate_latest(turn)], True
            return [await self.feedback_ack(turn, u.kind or "other", reading.text)], True
        return [wording.out_of_scope(office, self.matcher.elsewhere.find(reading.norm), english=u.english)], False

    async def find_place(self, text: str, *, unsure: bool) -> places.Found | None:
        """The address a message gives, if any. A message without a cue ("nhà tôi ở") is read as a
        bare address only when understanding found no question in it, which keeps the library's
        parsing off most messages; the first call loads the library, so it runs off the event loop."""
        if not (unsure or places.cued(text)):
            return None
        return await asyncio.to_thread(places.find_place, text, self.config.office.province, bare=unsure)

    def desk_of(self, place: places.Place) -> Office | None:
        """The desk of this deployment that serves the commune, when it has one."""
        return next((o for o in self.config.offices if places.names_commune(f"{o.name} {o.address}", place)), None)

    def elsewhere(self, place: places.Place) -> bool:
        province = self.config.office.province
        return province is not None and not places.in_province(place, province)

    async def staff_report(self, norm: str, office: Office) -> Reply:
        """/baocao [tuan|thang]: the short summary and the chart of the officer's own office."""
        start, end = reports.period(norm.split()[1] if len(norm.split()) > 1 else "tuan", now().date())
        desk = self.desk.within(office)
        report = await reports.build_report(desk, reports.Filters(start, end, office=desk.office_filter))
        chart = await asyncio.to_thread(reports.to_png, report)
        return Reply(reports.summary_text(report), (), Attachment(f"baocao-{start}-{end}.png", chart))

    async def forward_to_staff(self, turn: Turn, text: str) -> str | None:
        if self.forward is None:
            return None
        office = await self.serving_office(turn.state)
        ref = await self.store.add_handoff(*turn.who, office.code if office else "")
        await self.forward(wording.handoff_note(ref, turn.incoming.channel, mask_digits(text[:1000])), office)
        return ref

    async def serving_office(self, state: ConversationState) -> Office | None:
        """The office whose staff should read this citizen's request: the commune they said they
        live in, else the office of the case they last looked up; the one office of a small
        deployment. None when the conversation does not tell: the deployment's staff chat."""
        if not self.config.several_offices:
            return self.config.offices[0]
        if state.place is not None and (office := self.desk_of(state.place)) is not None:
            return office
        for code in reversed(state.verified):
            case = await self.desk.get(code)
            if case is not None and (office := self.config.office_by_code(case.office)) is not None:
                return office
        return None

    async def feedback_ack(self, turn: Turn, kind: str, text: str) -> Reply:
        """Stored for the staff report; complaints are told how they will be handled."""
        await self.store.add_feedback(turn.incoming.channel, kind, mask_digits(text[:1000]))
        return wording.feedback_ack(kind, self.config.office)
