"""What the bot remembers of one conversation between two messages, and its JSON form.

The state is stored after every turn (a restart mid-conversation continues where it was), so
its JSON form is a contract with every database already running: new fields get defaults, and
a stored value of the wrong shape (an older version's, or a hand-edited row) is dropped rather
than failing the citizen's next turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.places import Place

MAX_VERIFIED = 20
"""Case codes a citizen proved they own, kept so they can follow or rate them without asking again."""
MAX_ANSWERS = 10
"""Recent answers the citizen may still vote on."""


@dataclass
class Lookup:
    """A case look-up under way: no code yet, or the code waiting for its second factor."""

    code: str | None = None


@dataclass
class RatingProgress:
    code: str
    level: str
    step: int = 0
    rating: int = 0
    """The stored rating's id while the citizen answers (the rating itself does not name the case)."""


@dataclass
class ConversationState:
    choices: list[str] = field(default_factory=list)
    """The actions of the last buttons offered: on platforms without buttons a typed number picks one."""
    procedure: str | None = None
    """The procedure the conversation is about, for follow-ups such as "nộp ở đâu"."""
    aspect: str | None = None
    """The part of it last asked about, for "thế còn vợ em thì sao"."""
    off_topic: bool = False
    """The last question was out of scope: its follow-ups are not about the procedure before it."""
    case: bool = False
    """The conversation turned to the citizen's own case: "bao giờ xong" asks about it."""
    place: Place | None = None
    """The commune the citizen said they live in: "nộp ở đâu" names it for the rest of the conversation."""
    lookup: Lookup | None = None
    rating: RatingProgress | None = None
    verified: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    forgotten: bool = False
    """Set by "delete my data" during a turn: nothing of the conversation is written back."""

    def reset_flows(self) -> None:
        """Back to the menu: the topic and any flow under way end; what was proved stays."""
        self.procedure = None
        self.aspect = None
        self.off_topic = False
        self.case = False
        self.lookup = None
        self.rating = None

    def verify(self, code: str) -> None:
        self.verified = [*[c for c in self.verified if c != code][-(MAX_VERIFIED - 1):], code]

    def remember_answer(self, question: int) -> None:
        self.answers = [*self.answers[-(MAX_ANSWERS - 1):], question]

    def to_json(self) -> dict[str, Any]:
        """Only what is set, so a stored row stays small and readable."""
        out: dict[str, Any] = {}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.procedure:
            out["procedure"] = self.procedure
        if self.aspect:
            out["aspect"] = self.aspect
        if self.off_topic:
            out["off_topic"] = True
        if self.case:
            out["case"] = True
        if self.place is not None:
            out["place"] = {"commune": self.place.commune, "province": self.place.province, "code": self.place.code}
            if self.place.old_names:
                out["place"]["old"] = list(self.place.old_names)
        if self.lookup is not None:
            out["lookup"] = {"code": self.lookup.code} if self.lookup.code else {}
        if self.rating is not None:
            out["rating"] = {"code": self.rating.code, "step": self.rating.step, "level": self.rating.level}
            if self.rating.rating:
                out["rating"]["id"] = self.rating.rating
        if self.verified:
            out["verified"] = list(self.verified)
        if self.answers:
            out["answers"] = list(self.answers)
        return out

    @classmethod
    def from_json(cls, data: object) -> ConversationState:
        if not isinstance(data, dict):
            return cls()
        lookup = data.get("lookup")
        rating = data.get("rating")
        return cls(
            choices=_strings(data.get("choices")),
            procedure=_string(data.get("procedure")),
            aspect=_string(data.get("aspect")),
            off_topic=data.get("off_topic") is True,
            case=data.get("case") is True,
            place=_place(data.get("place")),
            lookup=Lookup(_string(lookup.get("code"))) if isinstance(lookup, dict) else None,
            rating=_rating(rating) if isinstance(rating, dict) else None,
            verified=_strings(data.get("verified")),
            answers=[a for a in data.get("answers") or [] if isinstance(a, int) and not isinstance(a, bool)]
            if isinstance(data.get("answers"), list) else [],
        )


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _place(data: object) -> Place | None:
    if not isinstance(data, dict):
        return None
    commune, province, code = (_string(data.get(k)) for k in ("commune", "province", "code"))
    if commune is None or province is None or code is None:
        return None
    return Place(commune, province, code, tuple(_strings(data.get("old"))))


def _rating(data: dict[str, Any]) -> RatingProgress | None:
    code, level, step, rating = data.get("code"), data.get("level"), data.get("step", 0), data.get("id", 0)
    if not (isinstance(code, str) and isinstance(level, str) and isinstance(step, int) and isinstance(rating, int)):
        return None
    return RatingProgress(code, level, step, rating)
