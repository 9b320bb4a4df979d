"""Working-day arithmetic: Tết 2026, weekends, the 15:00 rule, worked Saturdays."""

import datetime as dt

from bot.workdays import Calendar

D, T = dt.date, dt.datetime
cal = Calendar(working_days=[D(2026, 8, 22)])


def test_tet_2026_is_not_counted():
    # Thu 12/2 + 3 working days: Fri 13/2, then 16-20/2 is Tết, then Mon 23/2, Tue 24/2
    assert cal.add_working_days(D(2026, 2, 12), 3) == D(2026, 2, 24)
    assert not any(cal.is_working_day(D(2026, 2, d)) for d in range(14, 23))


def test_weekends_are_skipped():
    assert cal.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)   # Fri -> Mon


def test_counting_starts_the_day_after_receipt():
    assert cal.due_date(T(2026, 11, 30, 9, 0), 3) == D(2026, 12, 3)      # Mon 9:00 -> Thu


def test_vietnam_culture_day_is_a_holiday_from_2026():
    assert cal.due_date(T(2026, 11, 23, 9, 0), 3) == D(2026, 11, 27)     # Tue 24/11 is off


def test_received_after_15h_counts_from_the_next_working_day():
    assert cal.due_date(T(2026, 11, 30, 15, 1), 3) == D(2026, 12, 4)     # Mon 15:01 -> Fri
    assert cal.due_date(T(2026, 11, 30, 15, 0), 3) == D(2026, 12, 3)     # 15:00 sharp is still that day


def test_same_day_procedures():
    assert cal.due_date(T(2026, 11, 25, 10, 0), 0) == D(2026, 11, 25)
    assert cal.due_date(T(2026, 11, 25, 16, 0), 0) == D(2026, 11, 26)
    assert cal.due_date(T(2026, 11, 27, 16, 0), 0) == D(2026, 11, 30)    # Friday afternoon -> Monday
    assert cal.due_date(T(2026, 11, 28, 9, 0), 0) == D(2026, 11, 30)     # Saturday -> Monday


def test_worked_saturday_counts_and_its_swapped_day_off_does_not():
    assert cal.is_working_day(D(2026, 8, 22))
    assert not cal.is_working_day(D(2026, 8, 31))
    assert cal.add_working_days(D(2026, 8, 21), 1) == D(2026, 8, 22)


def test_configured_day_off():
    extra = Calendar(days_off=[D(2026, 12, 31)])
    assert extra.add_working_days(D(2026, 12, 30), 1) == D(2027, 1, 4)   # 31/12 off, 1/1 holiday, weekend


def test_working_days_between():
    assert cal.working_days_between(D(2026, 11, 30), D(2026, 12, 4)) == 4
    assert cal.working_days_between(D(2026, 12, 4), D(2026, 11, 30)) == -4
    assert cal.working_days_between(D(2026, 11, 27), D(2026, 11, 30)) == 1
