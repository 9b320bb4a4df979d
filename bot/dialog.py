"""The conversation: one `Incoming` in, the replies out, state kept in the store.

Channel-agnostic: Telegram, Zalo and the console all call `Dialog.handle`. Every turn reads
the citizen's state, decides, and writes the new state before replying, so a restart between
two messages loses nothing. No exception ever reaches a citizen: a failed turn is logged
(without personal data) and answered with an apology and the hotline.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bot import answers, reports
from bot.cases import CaseDesk
from bot.catalog import ASPECTS, Catalog
from bot.clock import now
from bot.config import Config
from bot.matching import Matcher, Understanding, detect_aspect
from bot.messages import Attachment, Button, Incoming, Reply
from bot.privacy import mask_digits
from bot.ratings import RatingFlow
from bot.staff import is_staff_command, run_staff_command
from bot.storage import Store
from bot.text import clean, normalize
from bot.tracking import Tracking

log = logging.getLogger(__name__)

CLARIFY_BELOW = 0.4
"""Understanding less sure than this offers the closest procedures instead of answering."""

_RESET = {"start", "menu", "huy", "huy bo", "bat dau", "help", "tro giup", "quay lai", "thoat", "cancel"}
_THANKS = re.compile(r"\b(cam on|tam biet|bye|thanks?|hieu roi)\b")
_COMPLAINT = re.compile(
    r"\b(phan anh|khieu nai|to cao|buc|chan|te qua|qua te|kem|kho chiu|hach dich|nhung nhieu|voi tien|cham|sai|khong hieu"
    r"|lam an kieu gi|thai do|tra ve|khong co (can bo|ai)|poor|rude|complain|bad)\b"
)
_PRAISE = re.compile(r"\b(khen|tot|nhanh|nhiet tinh|tan tinh|de hieu|tuyet voi|on ap|hai long|\d sao|helpful|great)\b")
_RATE_WORDS = re.compile(r"\b(danh gia|cham diem)\b")
_FORGET = re.compile(r"\b(xoa|huy) (het |toan bo )?(du lieu|thong tin) (cua (toi|em|minh)|ca nhan)\b|\bdelete my data\b")

Forward = Callable[[str], Awaitable[None]]
"""Sends a note to the staff chat; the app wires it to a channel, tests to a list."""


@dataclass
class Turn:
    """What one turn knows while it runs."""

    incoming: Incoming
    state: dict[str, Any]
    english: bool = False
    norm: str = ""
    """The typed text's one spelling, computed once per turn."""


class Dialog:
    def __init__(self, catalog: Catalog, matcher: Matcher, store: Store, config: Config, desk: CaseDesk,
                 forward: Forward | None = None):
        self.catalog = catalog
        self.matcher = matcher
        self.store = store
        self.config = config
        self.desk = desk
        self.tracking = Tracking(desk, store, config.office, config.lookups_per_minute)
        self.ratings = RatingFlow(store, config.rating_scale, config.rating_questions)
        self.forward = forward
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Turns of one citizen run one at a time (each reads and writes their state); turns of
        different citizens run concurrently."""
        key = (incoming.channel, incoming.user)
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await self._guarded(incoming)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _guarded(self, incoming: Incoming) -> list[Reply]:
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
        if action is None and text.isascii() and text.isdigit() and 1 <= int(text) <= len(choices):
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
        if state.pop("forgotten", False):
            # nothing of the conversation is kept, not even the menu choices just offered
            return replies
        await self.store.save_state(incoming.channel, incoming.user, state)
        return replies

    # button actions

    async def on_action(self, turn: Turn, action: str) -> list[Reply]:
        kind, _, rest = action.partition(":")
        if kind == "menu":
            turn.state.pop("procedure", None)
            return [self.menu(turn)]
        if kind == "grp" and rest.isascii() and rest.isdigit():
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
        if kind in {"rate", "rq"}:
            return await self.on_rating_action(turn, kind, rest)
        if kind in {"vote", "fwd"}:
            return await self.on_vote(turn, kind, rest)
        if kind == "forget" and rest == "confirm":
            await self.store.forget_user(turn.incoming.channel, turn.incoming.user)
            turn.state.clear()
            turn.state["forgotten"] = True
            return [Reply("Đã xóa dữ liệu trò chuyện, các hồ sơ bạn theo dõi và tin nhắn chờ gửi của bạn. "
                          "Các đánh giá bạn đã gửi được giữ lại dưới dạng ẩn danh.", (answers.MENU_BUTTON,))]
        return [self.menu(turn, "Lựa chọn này không còn hiệu lực. Bạn chọn lại giúp mình nhé.")]

    async def on_rating_action(self, turn: Turn, kind: str, rest: str) -> list[Reply]:
        channel, user = turn.incoming.channel, turn.incoming.user
        if not rest:
            return [await self.rate_latest(turn)]
        code, _, tail = rest.partition(":")
        if kind == "rq":
            key, _, value = tail.partition(":")
            return [await self.ratings.answer(turn.state, code, key, value or None)]
        if not (self.tracking.owns(turn.state, code) or await self.store.is_following(channel, user, code)):
            return [Reply("Bạn cần tra cứu hồ sơ (mã và 4 số cuối điện thoại) trước khi đánh giá.",
                          (Button("🔎 Tra cứu hồ sơ", "track"), answers.MENU_BUTTON))]
        case = await self.desk.get(code)
        if case is None or case.status != "returned":
            return [Reply("Bạn có thể đánh giá sau khi đã nhận kết quả hồ sơ. Cảm ơn bạn!", (answers.MENU_BUTTON,))]
        if not tail:
            return [await self.ratings.start(turn.state, code)]
        return [await self.ratings.rate(turn.state, channel, code, tail, case.procedure, case.office)]

    async def rate_latest(self, turn: Turn) -> Reply:
        """"Đánh giá" from the menu or typed: the latest verified case with a result, if any."""
        for code in reversed(turn.state.get("verified", [])):
            case = await self.desk.get(code)
            if case is not None and case.status == "returned":
                return await self.ratings.start(turn.state, code)
        return Reply("Để đánh giá, bạn tra cứu hồ sơ đã nhận kết quả (mã hồ sơ và 4 số cuối điện thoại), "
                     "sau đó bấm ⭐ Đánh giá.", (Button("🔎 Tra cứu hồ sơ", "track"), answers.MENU_BUTTON))

    async def on_vote(self, turn: Turn, kind: str, rest: str) -> list[Reply]:
        """👍/👎 on an answer this user received, and forwarding a 👎 question to staff."""
        qid_text, _, vote = rest.partition(":")
        if not (qid_text.isascii() and qid_text.isdigit()) or int(qid_text) not in turn.state.get("answers", []):
            return [self.menu(turn, "Lựa chọn này không còn hiệu lực. Bạn chọn lại giúp mình nhé.")]
        qid = int(qid_text)
        if kind == "fwd":
            row = await self.store.question(qid)
            ref = await self.forward_to_staff(turn, row.text if row else "")
            return [answers.contact(self.config.office, forwarded_ref=ref)]
        if vote not in {"up", "down"}:
            return [self.menu(turn)]
        if not await self.store.vote(qid, turn.incoming.channel, vote):
            return [Reply("Bạn đã đánh giá câu trả lời này rồi. Cảm ơn bạn!", (answers.MENU_BUTTON,))]
        if vote == "up":
            return [Reply("Cảm ơn bạn! 😊", (answers.MENU_BUTTON,))]
        return [Reply("Cảm ơn bạn đã cho biết. Bạn có muốn chuyển câu hỏi này cho cán bộ trả lời không?",
                      (Button("📨 Chuyển cho cán bộ", f"fwd:{qid}"), answers.MENU_BUTTON))]

    def menu(self, turn: Turn, extra: str = "") -> Reply:
        return answers.greeting(self.config.office, self.catalog, english=turn.english, extra=extra)

    # typed messages

    async def on_text(self, turn: Turn, text: str) -> list[Reply]:
        channel, user = turn.incoming.channel, turn.incoming.user
        norm = turn.norm = normalize(text)
        if not norm:
            return [self.menu(turn)]
        if norm.lstrip("/") in _RESET or text.startswith("/start"):
            for key in ("procedure", "lookup", "rating"):
                turn.state.pop(key, None)
            return [self.menu(turn)]
        if is_staff_command(text) and self.config.is_staff(channel, user):
            return [Reply(await run_staff_command(self.desk, text, f"{channel}:{user}"))]
        if norm.startswith("baocao") and text.startswith("/") and self.config.is_staff(channel, user):
            return [await self.staff_report(norm)]
        if self.ratings.wants_comment(turn.state):
            return [await self.ratings.comment(turn.state, text)]
        if _FORGET.search(norm):
            return [Reply("Bạn muốn xóa dữ liệu trò chuyện và các hồ sơ đang theo dõi của mình? Việc này không "
                          "hoàn tác được. (Hồ sơ tại cơ quan và đánh giá ẩn danh vẫn được giữ theo quy định.)",
                          (Button("🗑 Xác nhận xóa", "forget:confirm"), Button("Không xóa", "menu")))]
        if norm in {"tracuu", "tra cuu"}:
            return await self.tracking.start(channel, user, turn.state, None)
        stepped = await self.tracking.step(channel, user, turn.state, text)
        if stepped is not None:
            return stepped
        u = self.matcher.understand(text)
        turn.english = u.english
        replies, answered = await self.respond(turn, u, text)
        qid = await self.store.log_question(
            turn.incoming.channel, mask_digits(text[:500]), u.intent, u.procedure, u.aspect,
            u.confidence, answered,
        )
        if answered and u.intent == "procedure" and len(replies) == 1:
            turn.state["answers"] = [*turn.state.get("answers", [])[-9:], qid]
            votes = (Button("👍 Hữu ích", f"vote:{qid}:up"), Button("👎 Chưa hữu ích", f"vote:{qid}:down"))
            replies = [Reply(replies[0].text, replies[0].buttons + votes)]
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
            aspect = detect_aspect(turn.norm)
            if aspect:
                return [answers.procedure_answer(self.catalog[follow_up], aspect, english=u.english)], True
        if u.intent == "greeting":
            if _THANKS.search(turn.norm):
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
            if _RATE_WORDS.search(turn.norm):
                return [await self.rate_latest(turn)], True
            return [await self.feedback_ack(turn, text)], True
        return [answers.out_of_scope(office, english=u.english)], False

    async def staff_report(self, norm: str) -> Reply:
        """/baocao [tuan|thang]: the short summary and the chart, for staff in the chat."""
        start, end = reports.period(norm.split()[1] if len(norm.split()) > 1 else "tuan", now().date())
        report = await reports.build_report(self.desk, reports.Filters(start, end))
        chart = await asyncio.to_thread(reports.to_png, report)
        return Reply(reports.summary_text(report), (), Attachment(f"baocao-{start}-{end}.png", chart))

    async def forward_to_staff(self, turn: Turn, text: str) -> str | None:
        if self.forward is None:
            return None
        ref = await self.store.add_handoff(turn.incoming.channel, turn.incoming.user)
        await self.forward(f"Công dân cần gặp cán bộ (mã {ref}, kênh {turn.incoming.channel}):\n{mask_digits(text[:1000])}")
        return ref

    async def feedback_ack(self, turn: Turn, text: str) -> Reply:
        """Stored for the staff report; complaints are told how they will be handled."""
        norm = turn.norm
        kind = "complaint" if _COMPLAINT.search(norm) else "praise" if _PRAISE.search(norm) else "other"
        await self.store.add_feedback(turn.incoming.channel, kind, mask_digits(text[:1000]))
        office = self.config.office
        if kind == "complaint":
            return Reply(
                "Chúng tôi xin lỗi vì trải nghiệm chưa tốt của bạn. Phản ánh của bạn đã được ghi nhận và chuyển "
                "lãnh đạo Bộ phận Một cửa xem xét, trả lời trong giờ làm việc. Nếu cần gấp, bạn gọi "
                f"{office.hotline} ({office.hours}).",
                (answers.MENU_BUTTON,),
            )
        if kind == "praise":
            return Reply("Cảm ơn bạn rất nhiều! Lời khen của bạn đã được ghi nhận và gửi tới các cán bộ. 😊",
                         (answers.MENU_BUTTON,))
        return Reply("Cảm ơn bạn đã góp ý. Ý kiến của bạn đã được ghi nhận và gửi tới lãnh đạo Bộ phận Một cửa.",
                     (answers.MENU_BUTTON,))
