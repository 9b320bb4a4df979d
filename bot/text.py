"""Vietnamese text normalisation, so that every way citizens type a word meets one spelling.

Citizens type with and without diacritics, in composed or decomposed Unicode, with Telex
leftovers from a phone keyboard that did not convert ("caanf" for "cần") and with chat
abbreviations ("ko", "dc", "gks"). Matching works on the folded form this module produces:
lower case, no diacritics, "đ" as "d", words separated by single spaces.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_CHARS = 2_000
"""Understanding looks at the first part of a message only: questions are short, and a
20,000-character paste must cost no more than a normal message."""

_NON_WORD = re.compile(r"[^0-9a-z]+")
_TELEX_MARK = re.compile(r"aa|ee|oo|dd|aw|ow|uw")
_TELEX_TONE = "sfrxj"
_TELEX_VOWELS = {"aa": "a", "ee": "e", "oo": "o", "dd": "d", "aw": "a", "ow": "o", "uw": "u"}

# Chat abbreviations and common misspellings, mapped token by token after folding.
ABBREVIATIONS: dict[str, str] = {
    "ko": "khong", "k": "khong", "kh": "khong", "hok": "khong", "khog": "khong",
    "kg": "khong", "hem": "khong", "khum": "khong",
    "dc": "duoc", "dk": "dang ky", "dki": "dang ky", "dky": "dang ky", "ki": "ky", "dag": "dang",
    "j": "gi", "ji": "gi", "ntn": "nhu the nao", "bn": "bao nhieu", "bnhieu": "bao nhieu",
    "gks": "giay khai sinh", "cccd": "can cuoc", "cmt": "cmnd", "cmtnd": "cmnd",
    "hk": "ho khau", "shk": "so ho khau", "hs": "ho so",
    "ck": "chong", "vk": "vo", "ny": "nguoi yeu", "e": "em", "mk": "minh", "mik": "minh",
    "mn": "moi nguoi", "r": "roi", "ak": "a", "ah": "a", "dt": "dien thoai", "sdt": "so dien thoai",
    "sđt": "so dien thoai", "tks": "cam on", "thanks": "cam on", "thank": "cam on",
    "oke": "ok", "okie": "ok", "vs": "voi", "ng": "nguoi", "nc": "nuoc",
    "tgian": "thoi gian", "tg": "thoi gian", "bh": "bao gio", "bjo": "bao gio",
    "gplx": "giay phep lai xe", "llpt": "ly lich tu phap", "lltp": "ly lich tu phap",
    "gcn": "giay chung nhan", "qsdd": "quyen su dung dat", "ubnd": "uy ban nhan dan",
    "dv": "dich vu", "kd": "kinh doanh", "hkd": "ho kinh doanh", "xd": "xay dung", "ktra": "kiem tra",
    "kt": "kiem tra", "sih": "sinh", "gđ": "gia dinh", "gd": "gia dinh", "dvc": "dich vu cong",
    "tthc": "thu tuc hanh chinh", "dkkh": "dang ky ket hon", "dkks": "dang ky khai sinh",
    "gpxd": "giay phep xay dung", "gcnqsdd": "giay chung nhan quyen su dung dat",
    "so1": "so 1", "so2": "so 2",
}


class _Unmarked(dict[int, str | None]):
    """A `str.translate` table that drops combining marks and turns "đ" into "d" (NFKD alone
    leaves it), filled as characters are first seen: a long letter is folded in one C loop
    instead of a Python step per character."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        folded = None if unicodedata.combining(char) else "d" if char == "đ" else char
        if len(self) < 10_000:      # chat uses a few hundred characters; spam need not grow it
            self[code] = folded
        return folded


_UNMARKED = _Unmarked()


def fold_marks(text: str) -> str:
    """Lower-case and strip every diacritic."""
    return unicodedata.normalize("NFKD", text.lower()).translate(_UNMARKED)


def _untelex(token: str) -> str:
    """Undo Telex typing that the keyboard did not convert: "nhaapj" -> "nhap".

    Only tokens carrying a Telex vowel mark (aa, dd, ow...) are touched; a bare trailing tone
    letter ("cos") is left to the matcher, which knows the vocabulary and can tell it from
    abbreviations such as "gks".
    """
    while _TELEX_MARK.search(token) and token.isalpha():
        if len(token) > 2 and token[-1] in _TELEX_TONE:
            token = token[:-1]
        token = _TELEX_MARK.sub(lambda m: _TELEX_VOWELS[m.group()], token)
    return token


_SPLIT = re.compile(r"[\W_]+")


SYLLABLE = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdghklmnprstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?$"
)
"""The shape of a Vietnamese syllable without marks: what a real word can look like."""


@lru_cache(maxsize=100_000)
def _word(raw: str, telex: bool) -> tuple[str, ...]:
    """One typed word in its matching spelling; cached, as chat uses few thousand words."""
    out: list[str] = []
    for piece in _NON_WORD.sub(" ", fold_marks(raw)).split():
        word = ABBREVIATIONS.get(piece)
        if word is None:
            plain = _untelex(piece) if telex else piece
            if not SYLLABLE.match(plain):
                plain = piece
            word = ABBREVIATIONS.get(plain, plain)
        out.extend(word.split())
    return tuple(out)


def tokens(text: str, *, telex: bool = True) -> list[str]:
    """Folded, de-Telexed, abbreviation-expanded words of a message.

    Telex is undone only where the result is a Vietnamese syllable, and not at all for
    English text, where "week" and "fee" are words, not Telex.
    """
    composed = unicodedata.normalize("NFC", text[:MAX_CHARS]).lower()
    return [w for raw in _SPLIT.split(composed) if raw for w in _word(raw, telex)]


# Multi-word terms that citizens also write as one abbreviation: matching sees one word either
# way, so a long spelled-out term does not outweigh the rest of the message.
_CONTRACTIONS = [(re.compile(r"\bbao hiem y te\b"), "bhyt")]


# Motorbikes are named by their model ("con wave", "chiếc vision"): in Vietnamese text the model
# name says "xe máy" as plainly as the word itself (in English "lead" and "future" are words).
_MOTORBIKE = re.compile(
    r"\b(?:(?:xe may|xe|con|chiec) )?(wave|sirius|vision|exciter|air blade|airblade|lead|dream|future|winner|vario"
    r"|janus|grande|cub|attila|jupiter|vespa|liberty|sh mode|sh)\b"
)


def normalize(text: str, *, telex: bool = True) -> str:
    """The one spelling of a message that matching and rules work on."""
    joined = " ".join(tokens(text, telex=telex))
    for pattern, short in _CONTRACTIONS:
        joined = pattern.sub(short, joined)
    if telex:
        joined = _MOTORBIKE.sub(r"xe may \1", joined)
    return joined


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
    "register registration need which who please hello hi copy card we our have had does it "
    "and or if there this that with from at on in by be will would should free long take takes "
    "online person come go just moved live living want apply about fee fees his her he she they "
    "their me your was were been into make made any many new lost".split()
)


def looks_english(text: str) -> bool:
    """A cheap language guess that errs towards Vietnamese: a reply in English to a citizen who
    wrote Vietnamese without marks is worse than the other way round. Words that are also
    Vietnamese syllables once folded ("the", "can", "to", "a") count only beside at least one
    word that cannot be Vietnamese ("how", "free", "where")."""
    words = re.findall(r"[a-z']+", fold_marks(text))
    if not words:
        return False
    hits = [w for w in words if w in _ENGLISH_WORDS]
    if not any(not SYLLABLE.match(w) for w in hits):
        return False
    return len(hits) / len(words) >= (0.5 if not has_diacritics(text) else 0.6)


# English words to the Vietnamese the guides are written in; longest first.
GLOSSARY = [
    ("register my newborn", "dang ky khai sinh"), ("newborn", "khai sinh tre so sinh"),
    ("birth certificate copy", "ban sao trich luc khai sinh"), ("had a baby", "sinh con khai sinh"),
    ("birth", "khai sinh"),
    ("death", "khai tu"), ("died", "khai tu"), ("marital status", "xac nhan tinh trang hon nhan"),
    ("single status", "xac nhan tinh trang hon nhan"), ("marriage", "ket hon"),
    ("marry", "ket hon"), ("married", "ket hon"), ("certified copy", "chung thuc ban sao"),
    ("certify a copy", "chung thuc ban sao"), ("notarize", "chung thuc"),
    ("signature", "chung thuc chu ky"), ("contract", "chung thuc hop dong"),
    ("id card", "can cuoc"), ("identity card", "can cuoc"), ("citizen id", "can cuoc"),
    ("temporary residence", "dang ky tam tru"), ("permanent residence", "dang ky thuong tru"),
    ("temporary absence", "khai bao tam vang"), ("residence confirmation", "xac nhan cu tru"),
    ("proof of residence", "xac nhan cu tru"), ("land title", "so do"), ("red book", "so do"),
    ("land use right", "quyen su dung dat"), ("building permit", "giay phep xay dung"),
    ("construction permit", "giay phep xay dung"), ("household business", "ho kinh doanh"),
    ("business household", "ho kinh doanh"), ("criminal record", "ly lich tu phap"),
    ("motorbike", "xe may"), ("motorcycle", "xe may"), ("vehicle registration", "dang ky xe"),
    ("health insurance", "bao hiem y te"), ("guardian", "giam ho"), ("paternity", "nhan cha con"),
    ("disability", "khuyet tat"), ("poor household", "ho ngheo"), ("funeral", "mai tang"),
    ("burial", "mai tang"), ("social allowance", "tro cap xa hoi"), ("passport", "ho chieu"),
    ("driving licence", "bang lai xe"), ("driving license", "bang lai xe"), ("visa", "visa"),
    # the words of asking, last: an English question then reads like the Vietnamese ones the
    # model learned from, and "certificate" alone is no land-use certificate
    ("birth certificate", "giay khai sinh"), ("death certificate", "giay chung tu"),
    ("marriage certificate", "giay chung nhan ket hon"), ("certificate", "giay"),
    ("registration", "dang ky"), ("register", "dang ky"), ("how much", "bao nhieu tien"),
    ("cost", "le phi"), ("fees", "le phi"), ("fee", "le phi"), ("how long", "mat bao lau"),
    ("documents", "giay to"), ("papers", "giay to"), ("where", "o dau"), ("online", "truc tuyen"),
]


def spelling(text: str) -> tuple[str, bool]:
    """The one spelling of a message that every rule and the model read, and whether it is
    English: English words the guides have in Vietnamese are put into Vietnamese first, and
    English gets no Telex undoing ("week" is a word there)."""
    english = looks_english(text)
    raw = text.lower()
    if english:
        for en, vi in GLOSSARY:
            raw = raw.replace(en, f" {vi} ")
    return normalize(raw, telex=not english), english
