"""The status groups the rules and the SQL share are consistent with the statuses people read about."""

from __future__ import annotations

from bot.cases import STATUS_NAMES
from bot.statuses import CLOSED, PAUSED, RESULT, STATUSES
from bot.wording import STATUS_TEXTS


def test_every_status_has_its_name_and_its_words_in_the_same_order() -> None:
    assert tuple(STATUS_NAMES) == STATUSES
    assert tuple(STATUS_TEXTS) == STATUSES


def test_the_groups_hold_known_statuses_only() -> None:
    assert set(STATUSES) >= CLOSED | RESULT | PAUSED
    assert not PAUSED & (CLOSED | RESULT)
