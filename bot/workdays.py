"""Vietnamese working days: when a case is due and whether it is late.

Deadlines of administrative procedures count working days: Monday to Friday, minus public
holidays and Tết (the `holidays` package knows Vietnam's calendar), minus the extra days off
and plus the worked Saturdays that the government announces each year (listed in config.yaml,
because the package marks the day off but not the Saturday worked in exchange).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import holidays

CUTOFF = dt.time(15, 0)
"""Files received after 15:00 count as received the next working day (ND 118 art. 18.2;
Luật Hộ tịch art. 5.3 for same-day results)."""


class Calendar:
    def __init__(self, days_off: Iterable[dt.date] = (), working_days: Iterable[dt.date] = ()):
        self._holidays = holidays.country_holidays("VN")
        self._days_off = frozenset(days_off)
        self._worked = frozenset(working_days)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self._worked:
            return True
        return day.weekday() < 5 and day not in self._holidays and day not in self._days_off

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def receipt_day(self, received: dt.datetime) -> dt.date:
        """The working day a file counts as received on (after 15:00 or on a day off: the next)."""
        day = received.date()
        if not self.is_working_day(day) or received.time() > CUTOFF:
            return self.next_working_day(day)
        return day

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """`count` working days after `day`, the day itself not counted."""
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def due_date(self, received: dt.datetime, working_days: int) -> dt.date:
        """Due date of a procedure taking `working_days` (0 = the same day)."""
        return self.add_working_days(self.receipt_day(received), working_days)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative if end is earlier)."""
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return sign * count
