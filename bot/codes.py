"""Case codes ("mã hồ sơ"): finding them in a message and writing them one way.

Citizens copy codes from an SMS or a receipt, or type them by hand with spaces, lower case or
without the dots. A look-up must find the case whichever way the code was typed, so every code
is reduced to one canonical spelling before it is compared or stored.
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_PATTERN = r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}"
"""The one-stop information system's format: agency code (3.2.2.A2), date YYMMDD, serial."""

MAX_CHARS = 2_000
"""How much of a message is searched for a code: a code sits near its question, and the search
must cost the same for a 4,096-character message as for a short one."""
_SPACES = re.compile(r"\s+")
# Every run of white space (newlines, NBSP, em spaces) is folded to one space before matching, so
# a separator is at most " . ": a pattern with unbounded \s* on both sides of an optional dot
# could split a long run of spaces in cubic numbers of ways, and one message froze the bot.
_DOT = r" ?\.? ?"
_DASH = r" ?[-–_.]? ?"
_LENIENT = re.compile(
    rf"(?<![0-9A-Za-z])([0-9]{{3}}){_DOT}([0-9]{{2}}){_DOT}([0-9]{{2}}){_DOT}([A-Za-z]) ?([0-9]{{2}})"
    rf"{_DASH}([0-9]{{6}}){_DASH}([0-9]{{4}})(?![0-9])"
)
_LOOSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-–_ ]{6,40}[0-9]")


def canonical(raw: str, pattern: str = DEFAULT_PATTERN) -> str | None:
    """The canonical spelling of a typed code, or None if it is not a code of this office.

    The default format is rebuilt from its parts, so missing dots and dashes are forgiven; a
    configured format is matched after removing spaces and upper-casing.
    """
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw).strip())
    if pattern == DEFAULT_PATTERN:
        m = _LENIENT.fullmatch(text)
        if not m:
            return None
        a, b, c, letter, d, day, serial = m.groups()
        return f"{a}.{b}.{c}.{letter.upper()}{d}-{day}-{serial}"
    compact = re.sub(r"\s+", "", text).upper()
    # a configured pattern's \d would take any script's digits: codes are ASCII, or no code
    return compact if compact.isascii() and re.fullmatch(pattern, compact) else None


def find(text: str, pattern: str = DEFAULT_PATTERN) -> str | None:
    """The first case code in a message, canonical, or None."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text[:MAX_CHARS]))
    if pattern == DEFAULT_PATTERN:
        m = _LENIENT.search(text)
        return canonical(m.group(0)) if m else None
    for m in _LOOSE.finditer(text):
        code = canonical(m.group(0), pattern)
        if code:
            return code
    m = re.search(pattern, text.replace(" ", "").upper())
    return m.group(0) if m else None


def looks_like_code(text: str) -> bool:
    """A message that is mostly a code-like token of the wrong shape ("000.00.27-12").

    Lets the dialog say "that does not look like a case code" instead of treating digits as a
    question about a procedure.
    """
    compact = re.sub(r"\s+", "", text)
    return bool(re.fullmatch(r"[0-9A-Za-z.\-_/]{8,40}", compact)) and sum(c.isdigit() for c in compact) >= 6
