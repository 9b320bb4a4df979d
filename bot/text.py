"""Vietnamese text normalisation, so that every way citizens type a word meets one spelling.

Citizens type with and without diacritics, in composed or decomposed Unicode, with Telex
leftovers from a phone keyboard that did not convert ("caanf" for "cần") and with chat
abbreviations ("ko", "dc", "gks"). Matching works on the folded form this module produces:
lower case, no diacritics, "đ" as "d", words separated by single spaces.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 2_000
"""Understanding looks at the first part of a message only: questions are short, and a
20,000-character paste must cost no more than a normal message."""

_NON_WORD = re.compile(r"[^0-9a-z]+")
_TELEX_MARK = re.compile(r"aa|ee|oo|dd|aw|ow|uw")
_TELEX_TONE = "sfrxj"
_TELEX_VOWELS = {"aa": "a", "ee": "e", "oo": "o", "dd": "d", "aw": "a", "ow": "o", "uw": "u"}

# Chat abbreviations and common misspellings, mapped token by token after folding.
ABBREVIATIONS: dict[str, str] = {
    "ko": "khong", "k": "khong", "kh": "khong", "hok": "khong", "hong": "khong", "khog": "khong",
    "kg": "khong", "hem": "khong", "khum": "khong",
    "dc": "duoc", "dk": "dang ky", "dki": "dang ky", "dky": "dang ky", "ki": "ky", "dag": "dang",
    "j": "gi", "ji": "gi", "ntn": "nhu the nao", "bn": "bao nhieu", "bnhieu": "bao nhieu",
    "gks": "giay khai sinh", "cccd": "can cuoc cong dan", "cmt": "cmnd", "cmtnd": "cmnd",
    "hk": "ho khau", "shk": "so ho khau", "hs": "ho so", "bhyt": "bao hiem y te",
    "ck": "chong", "vk": "vo", "ny": "nguoi yeu", "e": "em", "mk": "minh", "mik": "minh",
    "mn": "moi nguoi", "r": "roi", "ak": "a", "ah": "a", "dt": "dien thoai", "sdt": "so dien thoai",
    "sđt": "so dien thoai", "tks": "cam on", "thanks": "cam on", "thank": "cam on", "ty": "cam on",
    "oke": "ok", "okie": "ok", "vs": "voi", "ng": "nguoi", "nc": "nuoc",
    "tgian": "thoi gian", "tg": "thoi gian", "bh": "bao gio", "bjo": "bao gio",
    "gplx": "giay phep lai xe", "llpt": "ly lich tu phap", "lltp": "ly lich tu phap",
    "gcn": "giay chung nhan", "qsdd": "quyen su dung dat", "ubnd": "uy ban nhan dan",
    "dv": "dich vu", "dvc": "dich vu cong", "tthc": "thu tuc hanh chinh",
    "so1": "so 1", "so2": "so 2",
}


def fold_marks(text: str) -> str:
    """Lower-case and strip every diacritic; "đ" becomes "d" (NFKD alone leaves it)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("đ", "d")


def _untelex(token: str) -> str:
    """Undo Telex typing that the keyboard did not convert: "nhaapj" -> "nhap".

    Only tokens carrying a Telex vowel mark (aa, dd, ow...) are touched; a bare trailing tone
    letter ("cos") is left to the matcher, which knows the vocabulary and can tell it from
    abbreviations such as "gks".
    """
    if not _TELEX_MARK.search(token) or not token.isalpha():
        return token
    if len(token) > 2 and token[-1] in _TELEX_TONE:
        token = token[:-1]
    return _TELEX_MARK.sub(lambda m: _TELEX_VOWELS[m.group()], token)


def tokens(text: str) -> list[str]:
    """Folded, de-Telexed, abbreviation-expanded words of a message."""
    folded = _NON_WORD.sub(" ", fold_marks(text[:MAX_CHARS]))
    out: list[str] = []
    for raw in folded.split():
        word = ABBREVIATIONS.get(raw)
        if word is None:
            word = ABBREVIATIONS.get(_untelex(raw), _untelex(raw))
        out.extend(word.split())
    return out


def normalize(text: str) -> str:
    """The one spelling of a message that matching and rules work on."""
    return " ".join(tokens(text))


def clean(text: str) -> str:
    """A message as it may be shown or stored: NFC, no control or zero-width characters.

    Citizens paste from other apps; invisible characters would otherwise break look-ups of case
    codes and show as garbage in staff reports.
    """
    composed = unicodedata.normalize("NFC", text)
    kept = (
        c if unicodedata.category(c)[0] != "C" or c in "\n\t" else " "
        for c in composed
    )
    return re.sub(r"[ \t]+", " ", "".join(kept)).strip()


def has_diacritics(text: str) -> bool:
    """Whether the citizen typed Vietnamese marks (a hint that the message is Vietnamese)."""
    return fold_marks(text) != text.lower()


_ENGLISH_WORDS = frozenset(
    "the what how where when can do does is are my i you to of for a an get much cost "
    "register registration need which who please hello hi copy card".split()
)


def looks_english(text: str) -> bool:
    """A cheap language guess: enough common English words and no Vietnamese marks."""
    if has_diacritics(text):
        return False
    words = re.findall(r"[a-z']+", text.lower())
    if not words:
        return False
    hits = sum(1 for w in words if w in _ENGLISH_WORDS)
    return hits >= 2 and hits / len(words) >= 0.25
