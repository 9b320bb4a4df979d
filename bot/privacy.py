"""Personal data kept out of logs and the question log: phones, e-mails, ID numbers, addresses.

The Personal Data Protection Law covers what citizens type; a question log exists to improve
the guides, not to know who asked, so whatever identifies a person and can be recognised
reliably is masked before anything is stored or logged:

- numbers long enough to be a phone or an ID (9 or more digits, in any spacing, with or
  without +84), and shorter ones right after an ID word ("CMND 12345678", "hộ chiếu ...");
- passport numbers (one or two capital letters and 7 or 8 digits, "C1234567");
- e-mail addresses;
- street addresses with a house number ("nhà số 12 ngõ 34 Hàng Bạc", "25 đường Láng");
- a name right after a self-introduction or a form of address ("tôi là Phan Thị Bí Mật",
  "chị Phan Thị Bí Mật": two or more capitalised words).

A bare name with nothing before it ("Phan Thị Bí Mật hỏi ...") cannot be told from a place or
a procedure and stays; the README says so. The numbers a conversation about procedures needs
(fees, dates, days, form codes) are not masked. Every pattern here matches in linear time: the
text comes from strangers, and one backtracking pattern froze the whole bot once (R1).
"""

from __future__ import annotations

import re

MASK = "***"

_DIGIT_RUN = re.compile(r"(?<!\d)[+(]{0,2}\d(?:[ .\-()]{0,3}\d)*")
"""Digits with at most three separators between each: a phone or ID written in any spacing
("0912 345 678", "+84 912.345.678", "(+84) 912-345-678", "001204012345")."""

_DATE_HOUR = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}")
"""A date and hour ("2026-11-30 05") has ten digits too, and is no one's phone."""

_EMAIL = re.compile(r"[\w.+\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63})+")

_PASSPORT = re.compile(r"(?<!\w)[A-Z]{1,2}\d{7,8}(?!\w)")
"""A Vietnamese passport number: one or two capital letters and 7 or 8 digits ("C1234567")."""

_ID_WORDS = ("cmnd|cccd|cmtnd|căn cước|chứng minh|hộ chiếu|passport|định danh|mã số thuế|mst|giấy tờ|"
             "sđt|sdt|số điện thoại|điện thoại|đt|zalo|phone|tel")
_AFTER_ID_WORD = re.compile(
    rf"(?i)\b(?:{_ID_WORDS})\b[^\w\n]{{0,5}}"
    r"(?:(?:số|là|của tôi|của em|của mình|nhân dân|công dân)[^\w\n]{0,3}){0,2}"
    r"([a-z]{0,2}\d(?:[ .\-]?\d){4,})")
"""A shorter number right after a word that says it is an ID or a phone ("CMND 12345678")."""

_UPPER = "[A-Z" + "".join(chr(c) for c in range(0xC0, 0x1EFA) if chr(c).isupper()) + "]"
"""A capital letter, Vietnamese ones included (a street name starts with one)."""
_HOUSE = r"\d{1,5}[A-Za-z]?(?:/\d{1,5}[A-Za-z]?){0,3}"
_LANE = r"(?:ngõ|ngách|hẻm|kiệt)"
_STREET = r"(?:ngõ|ngách|hẻm|kiệt|đường|phố)"
_ADDRESS_START = re.compile(
    rf"(?i:\b(?:nhà số|số nhà|nhà|địa chỉ|đ/c|ở|tại|thường trú|tạm trú)\s*:?\s*(?:số\s+)?)"
    rf"(?={_HOUSE}\s*(?:,|\s(?i:{_STREET})\b|\s{_UPPER}))"
    rf"|(?<![\w/.,])(?={_HOUSE}\s+(?i:{_STREET})\s+(?:\d|{_UPPER}))"
    rf"|\b(?=(?i:{_LANE})\s+{_HOUSE}\b)")
"""Where a house-number address begins: after an address word ("nhà số", "ở", "địa chỉ:") when a
street word or a capitalised street name follows the number; before a number that a street word
follows ("25 đường Láng"); or at a numbered lane ("ngõ 34")."""
_ADDRESS_PART = re.compile(rf"\s*(?:{_HOUSE}|(?i:{_STREET})\s+{_HOUSE}|(?i:{_STREET})(?=\s+{_UPPER}))")

_NAME_CUE = re.compile(
    r"(?:(?i:\b(?:tôi là|tôi tên|tên tôi là|tên tôi|tên em là|tên em|em là|mình là|mình tên|tên là|"
    r"họ và tên|họ tên|người nộp|người yêu cầu|tên))"
    r"|(?<![^\s(,.:;\-])(?:tôi|em|anh|chị|ông|bà|cô|chú|bác|cháu|con|cụ))\s*:?\s+")
"""Words after which two or more capitalised words are a person's name: a self-introduction or
a label (any case: "Người nộp: …") or a lower-case form of address ("chị", not "Bà" as in Bà Rịa)."""

_WORD = re.compile(r"[^\W\d_]+")


def _capitalised_words(text: str, pos: int, most: int) -> tuple[int, int]:
    """(how many capitalised words follow `pos`, up to `most`; where the last one ends)."""
    words, end = 0, pos
    while words < most:
        m = _WORD.match(text, pos)
        if m is None or not m.group()[0].isupper():
            break
        words, end = words + 1, m.end()
        pos = end + 1 if text[end:end + 1] in (" ", "-") else end
        if pos == end:
            break
    return words, end


def _mask_names(text: str) -> str:
    """Names only where a cue says one follows: a capitalised run alone may be a place or a law."""
    out, last = [], 0
    for cue in _NAME_CUE.finditer(text):
        if cue.start() < last:
            continue
        words, end = _capitalised_words(text, cue.end(), 5)
        if words >= 2:
            out += [text[last:cue.end()], MASK]
            last = end
    return "".join(out) + text[last:]


def _mask_addresses(text: str) -> str:
    """The house number, its lanes and the street name after them: a street alone is no one's."""
    out, last = [], 0
    for start in _ADDRESS_START.finditer(text):
        begin = start.end()
        if begin < last:
            continue
        end = begin
        while (part := _ADDRESS_PART.match(text, end)) and part.end() > end:
            end = part.end()
        if not any(c.isdigit() for c in text[begin:end]):
            continue
        if text[end:end + 1] == " ":
            words, street_end = _capitalised_words(text, end + 1, 4)
            end = street_end if words else end
        out += [text[last:begin], MASK]
        last = end
    return "".join(out) + text[last:]


def _long_run(m: re.Match[str]) -> str:
    """Nine digits or more is a phone or an ID; fees, dates and days are shorter."""
    run = m.group()
    if sum(c.isdigit() for c in run) < 9 or _DATE_HOUR.fullmatch(run):
        return run
    return MASK


def mask_digits(text: str) -> str:
    """What identifies a person, masked as '***': phone and ID numbers in any spacing, passport
    numbers, e-mail addresses, house-number addresses, and a name after "tôi là", "chị", ... .

    The name stays for its callers (the question log, handoff notes, feedback, rating comments,
    the log formatter); since R10 it masks more than digits, because every one of them stores or
    shows what a citizen typed.
    """
    text = _EMAIL.sub(MASK, text)
    text = _AFTER_ID_WORD.sub(lambda m: m.group()[:m.start(1) - m.start()] + MASK, text)
    text = _DIGIT_RUN.sub(_long_run, text)
    text = _PASSPORT.sub(MASK, text)
    text = _mask_addresses(text)
    return _mask_names(text)


def mask_phone(phone: str) -> str:
    """A phone number as staff and logs may show it: only the last three digits."""
    digits = re.sub(r"\D", "", phone)
    return "*" * max(0, len(digits) - 3) + digits[-3:] if digits else ""
