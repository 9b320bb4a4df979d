"""The status keys of a case, the groups the rules depend on, and the words staff type for them.

Both the desk's rules (`bot/cases.py`) and the storage's SQL (`IN (...)` lists for closed
cases) need the same groups. Written once here, with no imports of ours, a new status or a
change to what counts as closed reaches the Python rules and the queries together.

Officers say a status in Vietnamese, with or without accents ("đã tiếp nhận", "dang xu ly",
"chờ bổ sung"): `status_key` accepts those as well as the keys, so the chat command and the
CLI take what staff actually type.
"""

from __future__ import annotations

import re
import unicodedata

STATUSES: tuple[str, ...] = (
    "submitted", "received", "processing", "needs_supplement", "awaiting_fees", "transferred", "ready",
    "returned", "refused", "withdrawn", "stopped",
)
CLOSED = frozenset({"returned", "refused", "withdrawn", "stopped"})
RESULT = frozenset({"ready", "returned"})
PAUSED = frozenset({"needs_supplement"})

SPOKEN: dict[str, tuple[str, ...]] = {
    "submitted": ("đã nộp", "nộp trực tuyến", "chờ tiếp nhận", "mới nộp"),
    "received": ("đã tiếp nhận", "tiếp nhận", "đã nhận", "nhận hồ sơ"),
    "processing": ("đang xử lý", "xử lý", "đang giải quyết", "giải quyết"),
    "needs_supplement": ("cần bổ sung", "chờ bổ sung", "bổ sung", "yêu cầu bổ sung", "thiếu hồ sơ"),
    "awaiting_fees": ("chờ nộp phí", "chờ nộp lệ phí", "nộp phí", "chờ đóng phí", "chờ thu phí"),
    "transferred": ("đã chuyển", "chuyển", "chuyển cơ quan", "chuyển cơ quan có thẩm quyền", "chuyển tiếp"),
    "ready": ("có kết quả", "đã có kết quả", "chờ trả", "chờ trả kết quả", "xong", "đã xong"),
    "returned": ("đã trả", "trả kết quả", "đã trả kết quả", "đã nhận kết quả"),
    "refused": ("từ chối", "từ chối giải quyết", "không giải quyết", "trả lại"),
    "withdrawn": ("rút hồ sơ", "đã rút", "rút", "công dân rút"),
    "stopped": ("dừng", "dừng xử lý", "đã dừng"),
}
"""What officers say for each status; matched without accents, case or extra spaces."""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower()).replace("đ", "d")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d")
    return " ".join(re.split(r"[\s_\-]+", stripped.strip()))


_BY_WORDS: dict[str, str] = {
    **{_fold(key): key for key in STATUSES},
    **{_fold(said): key for key, words in SPOKEN.items() for said in words},
}


def status_key(typed: str) -> str | None:
    """The status a staff member meant, from a key ("needs_supplement") or Vietnamese words
    ("chờ bổ sung", "cho bo sung", "cho-bo-sung"); None when it names no status."""
    return _BY_WORDS.get(_fold(typed))
