"""Satisfaction ratings of a returned case: a level, up to three criteria, a comment.

Decree 118/2025 makes citizens' satisfaction the yardstick of a one-stop desk (art. 29–34);
the optional questions are taken from the criteria of art. 33. Every step can be skipped and
whatever was given is kept at once, so a citizen who stops half-way still counts. Ratings are
confidential (art. 29): the stored rating names neither the person nor the case, only the
procedure, office, day and whether the case was on time; its id lives in the citizen's own
conversation while they answer, and the case code is added only if they agree to be contacted.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import actions, wording
from bot.actions import button
from bot.cases import Case
from bot.clock import now
from bot.messages import Button, Reply
from bot.privacy import mask_digits
from bot.state import ConversationState, RatingProgress
from bot.storage import Store

LEVELS: dict[str, str] = {
    "5": "Rất hài lòng", "4": "Hài lòng", "3": "Bình thường", "2": "Không hài lòng", "1": "Rất không hài lòng",
}
SCALES = {5: ("5", "4", "3", "2", "1"), 3: ("5", "4", "2")}
SATISFIED = frozenset({"5", "4"})
NEGATIVE = frozenset({"2", "1"})


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[tuple[str, str], ...]   # (value, label)


QUESTIONS: dict[str, Question] = {q.key: q for q in [
    Question("visits", "Bạn đã phải đến cơ quan bao nhiêu lần (ngoài lần nộp) để hoàn thành hồ sơ?",
             (("0", "Không lần nào"), ("1", "1 lần"), ("2", "2 lần trở lên"))),
    Question("info", "Thông tin về giấy tờ, lệ phí được niêm yết có chính xác, đầy đủ không?",
             (("yes", "Chính xác"), ("no", "Chưa chính xác"), ("unknown", "Không rõ"))),
    Question("attitude", "Cán bộ hướng dẫn, tiếp nhận hồ sơ đối xử với bạn thế nào?",
             (("good", "Tận tình"), ("ok", "Bình thường"), ("bad", "Chưa tốt"))),
    Question("extra_fee", "Bạn có bị yêu cầu nộp thêm khoản nào ngoài phí, lệ phí được niêm yết không?",
             (("no", "Không"), ("yes", "Có"))),
]}
DEFAULT_QUESTIONS = ("visits", "attitude", "extra_fee")


def level_buttons(code: str, scale: int) -> tuple[Button, ...]:
    return tuple(button(LEVELS[v], actions.Rate(code, v)) for v in SCALES[scale])


def prompt(code: str, scale: int) -> Reply:
    return Reply(wording.rating_prompt_text(code), level_buttons(code, scale))


class RatingFlow:
    """The conversation steps of one rating; its progress lives in the conversation state."""

    def __init__(self, store: Store, scale: int = 5, questions: tuple[str, ...] = DEFAULT_QUESTIONS):
        self.store = store
        self.scale = scale
        self.questions = [QUESTIONS[k] for k in questions]

    async def start(self, code: str) -> Reply:
        if await self.store.rated(code):
            return wording.rated_already(code)
        return prompt(code, self.scale)

    async def rate(self, state: ConversationState, channel: str, case: Case, level: str) -> Reply:
        if level not in SCALES[self.scale]:
            return prompt(case.code, self.scale)
        rating = await self.store.add_rating(case.code, channel, case.procedure, case.office, self.scale, level,
                                             timeliness=case.timeliness(now().date()))
        if rating is None:
            return wording.rated_already(case.code)
        state.rating = RatingProgress(case.code, level, rating=rating)
        return self.next_step(state.rating)

    async def answer(self, state: ConversationState, code: str, key: str, value: str | None) -> Reply:
        """A criterion answered (or skipped, value None); then the next step."""
        rating = state.rating
        if rating is None or rating.code != code:
            return wording.rated_already(code)
        step = rating.step
        if step < len(self.questions) and self.questions[step].key == key:
            question = self.questions[step]
            if value is not None and value in dict(question.options):
                await self.store.set_rating_field(rating.rating, key, value)
            rating.step = step + 1
        elif key == "contact":
            if value == "yes":
                await self.store.set_rating_field(rating.rating, "contact_code", code)
            return self.finish(state)
        elif key == "comment":
            rating.step = len(self.questions) + 1
            return self.after_comment(state)
        return self.next_step(rating)

    def next_step(self, rating: RatingProgress) -> Reply:
        code, step = rating.code, rating.step
        if step < len(self.questions):
            q = self.questions[step]
            buttons = tuple(button(label, actions.RatingAnswer(code, q.key, value)) for value, label in q.options)
            skip = button(wording.SKIP_LABEL, actions.RatingAnswer(code, q.key))
            return wording.rating_question(step, len(self.questions), q.text, (*buttons, skip))
        rating.step = len(self.questions)
        return wording.ask_comment(code)

    def wants_comment(self, state: ConversationState) -> bool:
        return state.rating is not None and state.rating.step == len(self.questions)

    async def comment(self, state: ConversationState, text: str) -> Reply:
        if state.rating is None:
            return self.finish(state)
        await self.store.set_rating_field(state.rating.rating, "comment", mask_digits(text[:1000]))
        state.rating.step = len(self.questions) + 1
        return self.after_comment(state)

    def after_comment(self, state: ConversationState) -> Reply:
        if state.rating is not None and state.rating.level in NEGATIVE:
            return wording.ask_contact(state.rating.code)
        return self.finish(state)

    def finish(self, state: ConversationState) -> Reply:
        state.rating = None
        return wording.RATING_DONE
