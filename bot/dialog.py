"""The conversation: one `Incoming` in, the replies out, state kept in the store.

Channel-agnostic: Telegram, Zalo and the console all call `Dialog.handle`. Every turn reads
the citizen's state, decides, and writes the new state before replying, so a restart between
two messages loses nothing. No exception ever reaches a citizen: a failed turn is logged
(without personal data) and answered with an apology and the hotline.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bot import answers
from bot.cases import CaseDesk
from bot.catalog import ASPECTS, Catalog
from bot.channels.base import Incoming, Reply
from bot.config import Config
from bot.matching import Matcher, Understanding, detect_aspect
from bot.privacy import mask_digits
from bot.staff import is_staff_command, run_staff_command
from bot.store import Store
from bot.text import clean, normalize
from bot.tracking import Tracking

log = logging.getLogger(__name__)

CLARIFY_BELOW = 0.4
"""Understanding less sure than this offers the closest procedures instead of answering."""

_RESET = {"start", "menu", "huy", "huy bo", "bat dau", "help", "tro giup", "quay lai", "thoat", "cancel"}
_THANKS = re.compile(r"\b(cam on|tam biet|bye|thanks?|hieu roi)\b")

Forward = Callable[[str], Awaitable[None]]
"""Sends a note to the staff chat; the app wires it to a channel, tests to a list."""


@dataclass
class Turn:
    """What one turn knows while it runs."""

    incoming: Incoming
    state: dict[str, Any]
    english: bool = False


class Dialog:
    def __init__(self, catalog: Catalog, matcher: Matcher, store: Store, config: Config, desk: CaseDesk,
                 forward: Forward | None = None):
        self.catalog = catalog
        self.matcher = matcher
        self.store = store
        self.config = config
        self.desk = desk
        self.tracking = Tracking(desk, store, config.office)
        self.forward = forward

    async def handle(self, incoming: Incoming) -> list[Reply]:
        try:
            return await self._handle(incoming)
        except Exception:
            log.exception("turn failed on channel %s", incoming.channel)
            office = self.config.office
            return [Reply(
                f"Xin lỗi, hệ thống đang gặp sự cố nên chưa trả lời được. Bạn thử lại sau ít phút, "
                f"hoặc gọi {office.hotline} ({office.hours}).",
                (answers.MENU_BUTTON,),
            )]

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        state = await self.store.get_state(incoming.channel, incoming.user)
        turn = Turn(incoming, state)
        action = incoming.action
        text = clean(incoming.text or "")
        choices = state.get("choices") or []
        if action is None and text.isdigit() and 1 <= int(text) <= len(choices):
            action = choices[int(text) - 1]
        if action is None and incoming.attachment is not None and is_staff_command(text) \
                and self.config.is_staff(incoming.channel, incoming.user):
            replies = [Reply(await run_staff_command(
                self.desk, text, f"{incoming.channel}:{incoming.user}", incoming.attachment))]
        elif action is None and incoming.text is None:
            replies = [Reply("Mình chỉ đọc được tin nhắn dạng chữ. Bạn gõ câu hỏi giúp mình nhé, "
                             "ví dụ \"đăng ký tạm trú cần gì\".", (answers.MENU_BUTTON,))]
        elif action is not None:
            replies = await self.on_action(turn, action)
        else:
            replies = await self.on_text(turn, text)
        for reply in reversed(replies):
            if reply.buttons:
                state["choices"] = [b.action for b in reply.buttons]
                break
        else:
            state.pop("choices", None)
        await self.store.save_state(incoming.channel, incoming.user, state)
        return replies

    # button actions

    async def on_action(self, turn: Turn, action: str) -> list[Reply]:
        kind, _, rest = action.partition(":")
        if kind == "menu":
            turn.state.pop("procedure", None)
            return [self.menu(turn)]
        if kind == "grp" and rest.isdigit():
            reply = answers.group_menu(self.catalog, int(rest))
            if reply:
                return [reply]
        if kind == "proc":
            guide_id, _, aspect = rest.partition(":")
            if guide_id in self.catalog and (not aspect or aspect in ASPECTS):
                turn.state["procedure"] = guide_id
                return [answers.procedure_answer(self.catalog[guide_id], aspect or None)]
        if kind == "human":
            return [answers.contact(self.config.office)]
        if kind == "track":
            return await self.tracking.start(turn.incoming.channel, turn.incoming.user, turn.state, None)
        if kind in {"follow", "unfollow", "case"} and rest:
            return await self.tracking.on_action(turn.incoming.channel, turn.incoming.user, turn.state, kind, rest)
        return [self.menu(turn, "Lựa chọn này không còn hiệu lực. Bạn chọn lại giúp mình nhé.")]

    def menu(self, turn: Turn, extra: str = "") -> Reply:
        return answers.greeting(self.config.office, self.catalog, english=turn.english, extra=extra)

    # typed messages

    async def on_text(self, turn: Turn, text: str) -> list[Reply]:
        channel, user = turn.incoming.channel, turn.incoming.user
        norm = normalize(text)
        if not norm:
            return [self.menu(turn)]
        if norm.lstrip("/") in _RESET or text.startswith("/start"):
            for key in ("procedure", "lookup"):
                turn.state.pop(key, None)
            return [self.menu(turn)]
        if is_staff_command(text) and self.config.is_staff(channel, user):
            return [Reply(await run_staff_command(self.desk, text, f"{channel}:{user}"))]
        if norm in {"tracuu", "tra cuu"}:
            return await self.tracking.start(channel, user, turn.state, None)
        stepped = await self.tracking.step(channel, user, turn.state, text)
        if stepped is not None:
            return stepped
        u = self.matcher.understand(text)
        turn.english = u.english
        replies, answered = await self.respond(turn, u, text)
        await self.store.log_question(
            turn.incoming.channel, mask_digits(text[:500]), u.intent, u.procedure, u.aspect,
            u.confidence, answered,
        )
        return replies

    async def respond(self, turn: Turn, u: Understanding, text: str) -> tuple[list[Reply], bool]:
        """The replies to an understood message, and whether it counts as answered."""
        office = self.config.office
        if u.intent == "procedure" and u.procedure:
            options = [u.procedure, *u.alternatives[:2]]
            if u.confidence < CLARIFY_BELOW and len(options) > 1:
                return [answers.clarification(self.catalog, options, u.aspect, english=u.english)], False
            turn.state["procedure"] = u.procedure
            return [answers.procedure_answer(self.catalog[u.procedure], u.aspect, english=u.english)], True
        follow_up = turn.state.get("procedure")
        if u.intent == "unknown" and follow_up in self.catalog:
            aspect = detect_aspect(normalize(text))
            if aspect:
                return [answers.procedure_answer(self.catalog[follow_up], aspect, english=u.english)], True
        if u.intent == "greeting":
            if _THANKS.search(normalize(text)):
                return [answers.goodbye(english=u.english)], True
            return [self.menu(turn)], True
        if u.intent == "help":
            return [self.menu(turn)], True
        if u.intent == "human":
            ref = await self.forward_to_staff(turn, text)
            return [answers.contact(office, forwarded_ref=ref, english=u.english)], True
        if u.intent == "case_status":
            channel, user = turn.incoming.channel, turn.incoming.user
            return await self.tracking.start(channel, user, turn.state, u.case_code), True
        if u.intent == "feedback":
            return [self.feedback_ack(turn, text)], True
        return [answers.out_of_scope(office, english=u.english)], False

    async def forward_to_staff(self, turn: Turn, text: str) -> str | None:
        if self.forward is None:
            return None
        ref = await self.store.add_handoff(turn.incoming.channel, turn.incoming.user)
        await self.forward(f"Công dân cần gặp cán bộ (mã {ref}, kênh {turn.incoming.channel}):\n{mask_digits(text[:1000])}")
        return ref

    def feedback_ack(self, turn: Turn, text: str) -> Reply:
        office = self.config.office
        return Reply(
            "Cảm ơn bạn đã góp ý. Ý kiến của bạn đã được ghi nhận và chuyển tới lãnh đạo bộ phận một cửa. "
            f"Nếu cần phản ánh gấp, bạn gọi {office.hotline} ({office.hours}).",
            (answers.MENU_BUTTON,),
        )
