"""The status groups the rules and the SQL share are consistent with the statuses people read about."""

from __future__ import annotations

from bot.cases import STATUS_NAMES
from bot.statuses import CLOSED, PAUSED, RESULT, SPOKEN, STATUSES, status_key
from bot.wording import STATUS_TEXTS


def test_every_status_has_its_name_and_its_words_in_the_same_order() -> None:
    assert tuple(STATUS_NAMES) == STATUSES
    assert tuple(STATUS_TEXTS) == STATUSES


def test_the_groups_hold_known_statuses_only() -> None:
    assert set(STATUSES) >= CLOSED | RESULT | PAUSED
    assert not PAUSED & (CLOSED | RESULT)


def test_officers_words_for_a_status_accented_or_not_reach_its_key() -> None:
    said = {"đã tiếp nhận": "received", "dang xu ly": "processing", "chờ bổ sung": "needs_supplement",
            "Cần Bổ Sung": "needs_supplement", "cho-bo-sung": "needs_supplement", "có kết quả": "ready",
            "co ket qua": "ready", "đã trả": "returned", "da tra ket qua": "returned", "từ chối": "refused",
            "rút hồ sơ": "withdrawn", "needs_supplement": "needs_supplement", "  đang   xử lý ": "processing"}
    assert {typed: status_key(typed) for typed in said} == said
    assert status_key("duyệt") is None and status_key("") is None


def test_no_two_statuses_share_a_spoken_name_once_accents_are_dropped() -> None:
    folded = [status_key(word) for words in SPOKEN.values() for word in words]
    assert folded == [key for key, words in SPOKEN.items() for _ in words]
    assert set(SPOKEN) == set(STATUSES)
