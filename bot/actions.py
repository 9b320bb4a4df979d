"""Every button action the bot offers, as typed values with one wire form each.

A button carries its action as a short string (Telegram's callback_data, Zalo's payload, or a
number the citizen types back). Producers build an action here and the dialog parses it here,
so the two cannot disagree, and Telegram's 64-byte limit is checked in one place: a case-code
pattern configured longer than the default cannot silently produce buttons Telegram refuses.
Anything that does not parse (an old button from before an upgrade, a forged payload) is None,
and the dialog answers it with the menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import Button

MAX_BYTES = 64
"""Telegram refuses callback_data longer than this (Bot API, InlineKeyboardButton)."""


class ActionTooLong(ValueError):
    """An action would not fit in a button: a configuration problem, not a citizen's."""


@dataclass(frozen=True)
class Menu:
    def parts(self) -> tuple[str, ...]:
        return ("menu",)


@dataclass(frozen=True)
class Group:
    index: int

    def parts(self) -> tuple[str, ...]:
        return ("grp", str(self.index))


@dataclass(frozen=True)
class Procedure:
    guide: str
    aspect: str | None = None

    def parts(self) -> tuple[str, ...]:
        return ("proc", self.guide) + ((self.aspect,) if self.aspect else ())


@dataclass(frozen=True)
class Human:
    def parts(self) -> tuple[str, ...]:
        return ("human",)


@dataclass(frozen=True)
class Track:
    def parts(self) -> tuple[str, ...]:
        return ("track",)


@dataclass(frozen=True)
class Follow:
    code: str

    def parts(self) -> tuple[str, ...]:
        return ("follow", self.code)


@dataclass(frozen=True)
class Unfollow:
    code: str

    def parts(self) -> tuple[str, ...]:
        return ("unfollow", self.code)


@dataclass(frozen=True)
class ShowCase:
    code: str

    def parts(self) -> tuple[str, ...]:
        return ("case", self.code)


@dataclass(frozen=True)
class Rate:
    """Rate the latest returned case (no code), start rating one case, or give its level."""

    code: str | None = None
    level: str | None = None

    def parts(self) -> tuple[str, ...]:
        if self.code is None:
            return ("rate",)
        return ("rate", self.code) + ((self.level,) if self.level else ())


@dataclass(frozen=True)
class RatingAnswer:
    """One criterion of a rating answered; `value` None skips it."""

    code: str
    key: str
    value: str | None = None

    def parts(self) -> tuple[str, ...]:
        return ("rq", self.code, self.key, self.value or "")


@dataclass(frozen=True)
class Vote:
    question: int
    up: bool

    def parts(self) -> tuple[str, ...]:
        return ("vote", str(self.question), "up" if self.up else "down")


@dataclass(frozen=True)
class ForwardQuestion:
    question: int

    def parts(self) -> tuple[str, ...]:
        return ("fwd", str(self.question))


@dataclass(frozen=True)
class Forget:
    """The confirmed "delete my data"."""

    def parts(self) -> tuple[str, ...]:
        return ("forget", "confirm")


Action = (Menu | Group | Procedure | Human | Track | Follow | Unfollow | ShowCase | Rate | RatingAnswer | Vote
          | ForwardQuestion | Forget)


def encode(action: Action) -> str:
    """The wire form: fields joined by ':'."""
    parts = action.parts()
    if any(":" in part for part in parts[1:]):
        raise ValueError(f"a field of a button action contains ':': {parts!r}")
    wire = ":".join(parts)
    if len(wire.encode()) > MAX_BYTES:
        raise ActionTooLong(f"button action longer than {MAX_BYTES} bytes: {wire[:80]!r}")
    return wire


def button(label: str, action: Action) -> Button:
    return Button(label, encode(action))


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def parse(wire: str) -> Action | None:
    """The action a button carried, or None for anything this version does not offer."""
    kind, *rest = wire.split(":")
    match kind, rest:
        case "menu", []:
            return Menu()
        case "grp", [index] if _number(index) is not None:
            return Group(int(index))
        case "proc", [guide] if guide:
            return Procedure(guide)
        case "proc", [guide, aspect] if guide and aspect:
            return Procedure(guide, aspect)
        case "human", []:
            return Human()
        case "track", []:
            return Track()
        case "follow", [code] if code:
            return Follow(code)
        case "unfollow", [code] if code:
            return Unfollow(code)
        case "case", [code] if code:
            return ShowCase(code)
        case "rate", []:
            return Rate()
        case "rate", [code] if code:
            return Rate(code)
        case "rate", [code, level] if code:
            return Rate(code, level or None)
        case "rq", [code, key, value] if code and key:
            return RatingAnswer(code, key, value or None)
        case "rq", [code, key] if code and key:
            return RatingAnswer(code, key)
        case "vote", [question, vote] if _number(question) is not None and vote in ("up", "down"):
            return Vote(int(question), vote == "up")
        case "fwd", [question] if _number(question) is not None:
            return ForwardQuestion(int(question))
        case "forget", ["confirm"]:
            return Forget()
    return None
