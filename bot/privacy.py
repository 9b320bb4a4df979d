"""Personal data kept out of logs and the question log: phone and ID numbers.

The Personal Data Protection Law covers what citizens type; a question log exists to improve
the guides, not to know who asked, so numbers long enough to be a phone or an ID are masked
before anything is stored or logged.
"""

from __future__ import annotations

import re

_LONG_DIGITS = re.compile(r"(?<!\d)(?:\+?\d[\d .\-]{7,}\d)(?!\d)")


def mask_digits(text: str) -> str:
    """Runs of 9 or more digits (spaces, dots and dashes allowed between) become '***'."""
    def repl(m: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in m.group())
        return "***" if digits >= 9 else m.group()

    return _LONG_DIGITS.sub(repl, text)


def mask_phone(phone: str) -> str:
    """A phone number as staff and logs may show it: only the last three digits."""
    digits = re.sub(r"\D", "", phone)
    return "*" * max(0, len(digits) - 3) + digits[-3:] if digits else ""
