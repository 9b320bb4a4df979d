"""The status groups the rules and the SQL share are consistent with the statuses citizens read about."""

from __future__ import annotations

from bot.cases import STATUS_INFO
from bot.statuses import CLOSED, PAUSED, RESULT, STATUSES


def test_every_status_has_its_words_and_in_the_same_order() -> None:
    assert tuple(STATUS_INFO) == STATUSES


def test_the_groups_hold_known_statuses_only() -> None:
    assert set(STATUSES) >= CLOSED | RESULT | PAUSED
    assert not PAUSED & (CLOSED | RESULT)
