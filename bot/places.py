"""Where a citizen lives, said in the new (2025) or the old address, and the commune that serves them now.

Since 1 July 2025 there are no districts and most communes were merged, yet citizens still write
the address on their papers: "xã Ẳng Tở, huyện Mường Ảng", often without diacritics. The list of
2025 units and the old-to-new conversion come from `vietnamadminunits` (its data ships with the
package; conversion is a dictionary look-up, no network, as long as no street is passed: with a
street it asks a geocoder to split a divided commune, so we never pass one). Importing it reads
about 4 MB of JSON, so it is loaded on the first message that may give an address, not at start.

Precision matters more than recall: a citizen who writes "tôi ở nhà" or "nộp ở đâu" must not be
told where they live. A message gives an address only when a cue says so ("nhà tôi ở",
"thường trú tại") or when it is nothing but place names ("xã Ẳng Tở huyện Mường Ảng"), and then
only if the names the library recognised are written as whole words in the message, next to
each other (the library itself matches inside words: "nhà làm việc" contains "Hà Lầm").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

from bot.text import fold_marks

_WORD = re.compile(r"[0-9a-z]+")
_QUALIFIER = re.compile(r"\(.*?\)")
"""The library tells apart units of one name by their kind in brackets: "Kỳ Anh (Huyện)"."""

_PERSON = r"(?:toi|em|minh|chau|con|tui|anh|chi|bo me toi|gia dinh toi|gia dinh em)"
_CUE = re.compile(
    r"\b(?:"
    rf"(?:nha|que)\s+{_PERSON}\s+(?:o|tai|thuoc)"
    rf"|{_PERSON}\s+(?:hien\s+)?(?:dang\s+)?(?:o|song\s+o|song\s+tai|sinh\s+song\s+(?:o|tai)"
    r"|cu\s+tru\s+(?:o|tai)|thuong\s+tru\s+(?:o|tai)|tam\s+tru\s+(?:o|tai)|o\s+tai)"
    rf"|(?:thuong\s+tru|tam\s+tru|cu\s+tru|que\s+quan)(?:\s+hien\s+nay)?(?:\s+(?:cua\s+)?{_PERSON})?(?:\s+(?:o|tai|la))?"
    rf"|(?:dia\s+chi|noi\s+o)(?:\s+hien\s+nay)?\s+(?:cua\s+)?{_PERSON}(?:\s+(?:o|tai|la))?"
    r")\b"
)
"""What introduces one's own address. "ở" alone is not one: "nộp ở đâu", "ở nhà"."""

MARKERS = ("thi tran", "thi xa", "thanh pho", "phuong", "xa", "huyen", "quan", "tinh", "tp")
"""Words that name a unit's kind, written before its name (folded)."""
LARGER = frozenset({"huyen", "quan", "thi xa", "tinh", "thanh pho", "tp"})
_BETWEEN = frozenset({"thuoc", "cu", "moi", "truoc", "day", "va"})
"""Words a citizen puts between the units of an address ("xã X thuộc huyện Y cũ")."""
FILLERS = frozenset({"a", "ah", "nhe", "nha", "oi", "ad", "admin", "ban", "vay", "day", "roi", "do", "nay"})
"""What may be left around an address in a message that asks nothing else."""
_QUESTION = re.compile(r"\b(?:thi(?! tran| xa)|muon|nop|khong|giup|o dau|can gi|the nao|bao nhieu|bao gio|lam sao"
                       r"|cho hoi|xin hoi)\b")
"""Where the address ends and a question begins ("... huyện Mường Ảng thì nộp ở đâu"): the library
matches inside words ("sinh nộp" holds "hn", Hà Nội), so the question must not reach it. Phrases
no unit's name holds; "thi" before "tran" or "xa" is a kind ("thị trấn", "thị xã")."""
_DISTRICT = frozenset({"huyen", "quan", "thi"})
MAX_DISTRICT_WORDS = 5
MAX_BARE = 12
"""A message of place names only is short (commune, district, province with their kinds)."""
MAX_BEFORE = 8
"""Words allowed between the cue and the commune: a village and a house number ("thôn 3, bản Nong")."""


@dataclass(frozen=True)
class Place:
    """A commune of the 2025 list and, when the citizen gave the old address, that address."""

    commune: str
    """With its kind, as in the 2025 list: "Xã Búng Lao", "Phường Hoàn Kiếm"."""
    province: str
    """"Tỉnh Điện Biên", "Thành phố Hà Nội"."""
    code: str
    """The commune's code in the 2025 list."""
    old_names: tuple[str, ...] = ()
    """The old commune and district the citizen wrote ("Xã Ẳng Tở", "Huyện Mường Ảng"); empty for a new address."""


@dataclass(frozen=True)
class Found:
    place: Place
    rest: str
    """The message without the address and its cue (folded): the question asked with it, if any."""

    @property
    def only_address(self) -> bool:
        """The message asks nothing else: the answer is the commune itself."""
        return all(w in FILLERS for w in self.rest.split())


def _words(text: str) -> list[str]:
    return _WORD.findall(fold_marks(text))


def _find(words: list[str], name: str | None, start: int = 0) -> tuple[int, int] | None:
    """Where a unit's short name stands in the words as whole words, widened to its kind before it."""
    if not name:
        return None
    target = _words(_QUALIFIER.sub("", name))
    n = len(target)
    for i in range(start, len(words) - n + 1):
        if words[i:i + n] == target:
            return _with_marker(words, i), i + n
    return None


def _with_marker(words: list[str], i: int) -> int:
    for marker in MARKERS:
        size = len(marker.split())
        if i >= size and " ".join(words[i - size:i]) == marker:
            return i - size
    return i


@cache
def _library() -> Any:
    """The conversion library, imported on first use (about 0.7 s): most chats never give an address."""
    import vietnamadminunits

    return vietnamadminunits


def preload() -> None:
    """Load the library before a server takes messages: loaded on the first unsure message
    instead, it held the interpreter for most of a second while every other citizen waited
    (benchmarks/load.py: p99 284 ms)."""
    _library()


def _readings(address: str, home_province: str | None) -> Iterator[tuple[Place, list[str | None]]]:
    """The communes an address may name, likeliest first, each with the short names of its units
    as they should appear in the message (commune first).

    An address that names its old district is old (the 2025 list has none); otherwise the name is
    first read as a 2025 commune, since most new communes kept an old one's name, and then as an
    old commune whose district the citizen wrote as it was before a 2024 change. Without a
    province, the deployment's is assumed. Commas are dropped: with three of them the library
    takes the start for a street, and a street makes it ask a geocoder on the network."""
    lib = _library()
    address = address.replace(",", " ")
    old = lib.parse_address(address, mode="LEGACY", keep_street=False, level=3)
    if old.ward and old.district:
        yield _converted(lib, old), [old.short_ward, old.short_district, old.short_province]
    new = lib.parse_address(address, mode="FROM_2025", keep_street=False, level=2)
    if not new.ward and home_province and not new.province:
        new = lib.parse_address(f"{address} {home_province}", mode="FROM_2025", keep_street=False, level=2)
    if new.ward:
        yield Place(new.ward, new.province, str(new.ward_code)), [new.short_ward, new.short_province]
    if old.ward and old.district:
        yield _converted(lib, old), [old.short_ward, old.short_province]


def _converted(lib: Any, old: Any) -> Place:
    unit = lib.convert_address(f"{old.ward}, {old.district}, {old.province}")
    return Place(unit.ward, unit.province, str(unit.ward_code), (old.ward, old.district))


def cued(text: str) -> bool:
    """Whether the message introduces one's own address ("nhà tôi ở", "thường trú tại")."""
    return _CUE.search(" ".join(_words(text))) is not None


def find_place(text: str, home_province: str | None = None, *, bare: bool = True) -> Found | None:
    """The place a message gives as the citizen's address, or None when it does not clearly give one.

    `bare` allows a message of place names only, without a cue ("ang to muong ang dien bien")."""
    words = _words(text)
    cue = _CUE.search(" ".join(words))
    before = " ".join(words)[:cue.start()].split() if cue else []
    address = words[len(" ".join(words)[:cue.end()].split()):] if cue else words
    question = _QUESTION.search(" ".join(address))
    stop = len(" ".join(address)[:question.start()].split()) if question else len(address)
    address, after = address[:stop], address[stop:]
    if not address or (cue is None and not (bare and len(address) <= MAX_BARE and not after)):
        return None
    for place, names in _readings(" ".join(address), home_province):
        span = _written(address, names, cued=cue is not None)
        if span is not None:
            return Found(place, " ".join(before + address[span:] + after))
    return None


def _written(address: list[str], names: list[str | None], *, cued: bool) -> int | None:
    """Where the address ends in the message, if its units are all written there as whole words,
    side by side: a commune with its kind or beside another unit. None when the reading does not fit."""
    spans: list[tuple[int, int]] = []
    for name in names:
        span = _find(address, name, spans[-1][1] if spans else 0)
        if span is not None:
            spans.append(span)
    if len(spans) < len([n for n in names if n]) - 1 or not _commune_named(address, names[0], spans):
        return None
    first, last = spans[0][0], max(end for _, end in spans)
    gaps = [address[a:b] for (_, a), (b, _) in pairwise(spans) if b > a]
    if not all(_explained(gap) for gap in gaps):
        return None
    if (not cued and (first or last != len(address))) or first > MAX_BEFORE:
        return None
    return last


def _explained(gap: list[str]) -> bool:
    """Words between two units: joining words, or a district the library no longer knows there
    (papers written before a 2024 change: "xã Thạch Trị, huyện Thạch Hà", now in thành phố Hà Tĩnh)."""
    return all(w in _BETWEEN for w in gap) or (gap[0] in _DISTRICT and len(gap) <= MAX_DISTRICT_WORDS)


def _commune_named(address: list[str], commune: str | None, spans: list[tuple[int, int]]) -> bool:
    """The commune itself is written, with its kind ("xã Ẳng Tở") or beside another unit's name;
    a name written as a district's or a province's ("huyện Mường Ảng") names no commune."""
    span = _find(address, commune)
    if span is None:
        return False
    kind = " ".join(address[span[0]:span[1] - len(_words(commune or ""))])
    if kind in LARGER:
        return False
    return bool(kind) or len(spans) >= 2


def _inside(i: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= i < b for a, b in spans)


def _plain(name: str) -> list[str]:
    """A unit's name without its kind: "Tỉnh Điện Biên", "tinh dien bien" and "Điện Biên" meet."""
    words = _words(name)
    for marker in MARKERS:
        size = len(marker.split())
        if " ".join(words[:size]) == marker and len(words) > size:
            return words[size:]
    return words


def in_province(place: Place, province: str) -> bool:
    return _plain(place.province) == _plain(province)


def names_commune(text: str, place: Place) -> bool:
    """Whether a desk's name or address names the commune with its kind ("UBND xã Búng Lao")."""
    return f" {' '.join(_words(place.commune))} " in f" {' '.join(_words(text))} "
