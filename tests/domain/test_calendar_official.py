"""China's official calendar from the chinese-calendar library, and a district's own days on top of it.

The 2026 days are those of the State Council's notice of 4 November 2025 (国办发明电〔2025〕7号):
春节 2月15日（周日）至23日（周一）放假调休，2月14日（周六）、2月28日（周六）上班;
国庆节 10月1日至7日放假调休，9月20日（周日）、10月10日（周六）上班; 中秋节 9月25日至27日放假.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import OfficialDays, WorkingCalendar, official_days

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICIAL = official_days()
HOLIDAYS, MAKEUP_DAYS = OFFICIAL.with_district((), ())
CHINA = WorkingCalendar(SHANGHAI, holidays=HOLIDAYS, makeup_days=MAKEUP_DAYS)


def sh(month: int, day: int, hour: int = 0, year: int = 2026) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def test_the_library_says_which_years_it_knows() -> None:
    """2026's arrangement is in; the range has no holes (every year from the first to the last)."""
    assert OFFICIAL.source.startswith("chinese_calendar ")
    assert OFFICIAL.first_year <= 2025 and OFFICIAL.last_year >= 2026
    assert OFFICIAL.knows(2026) and not OFFICIAL.knows(OFFICIAL.last_year + 1)
    years = {d.year for d in OFFICIAL.holidays}
    assert years == set(range(OFFICIAL.first_year, OFFICIAL.last_year + 1))


def test_the_2026_spring_festival_is_nine_days_off_between_two_make_up_saturdays() -> None:
    """15-23 February off (a Sunday to a Monday); Saturday 14 and Saturday 28 February worked."""
    off = [date(2026, 2, d) for d in range(15, 24)]
    assert not any(CHINA.is_working_day(d) for d in off)
    assert CHINA.is_working_day(date(2026, 2, 14)) and date(2026, 2, 14).weekday() == 5
    assert CHINA.is_working_day(date(2026, 2, 28)) and date(2026, 2, 28).weekday() == 5
    assert CHINA.is_working_day(date(2026, 2, 13)) and CHINA.is_working_day(date(2026, 2, 24))
    # Friday 13 February 17:00 plus one working day: Saturday 14th (worked), 17:00.
    assert CHINA.add_working_days(sh(2, 13, 17), 1) == sh(2, 14, 17)
    # Saturday 14th plus one working day jumps the festival to Tuesday 24th.
    assert CHINA.add_working_days(sh(2, 14, 17), 1) == sh(2, 24, 17)


def test_the_2026_national_day_and_mid_autumn_days() -> None:
    """Mid-Autumn 25-27 September and National Day 1-7 October off; Sunday 20 September and Saturday
    10 October worked."""
    assert not CHINA.is_working_day(date(2026, 9, 25))  # a Friday
    assert not any(CHINA.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CHINA.is_working_day(date(2026, 9, 20)) and CHINA.is_working_day(date(2026, 10, 10))
    assert CHINA.add_working_days(sh(9, 30, 10), 1) == sh(10, 8, 10)


def test_2025_new_year_and_labour_day() -> None:
    """2025: 1 January off; 1-5 May off with Sunday 27 April worked."""
    assert not CHINA.is_working_day(date(2025, 1, 1))
    assert not any(CHINA.is_working_day(date(2025, 5, d)) for d in range(1, 6))
    assert CHINA.is_working_day(date(2025, 4, 27))


def test_district_days_add_to_and_win_over_the_official_ones() -> None:
    """A district day off is added; a district working day overrides an official holiday; a district day
    off overrides an official make-up day; nothing else changes."""
    extra_off, worked_holiday, dropped_makeup = date(2026, 3, 9), date(2026, 10, 7), date(2026, 10, 10)
    holidays, makeup_days = OFFICIAL.with_district([extra_off, dropped_makeup], [worked_holiday])
    district = WorkingCalendar(SHANGHAI, holidays=holidays, makeup_days=makeup_days)
    assert not district.is_working_day(extra_off)
    assert district.is_working_day(worked_holiday)
    assert not district.is_working_day(dropped_makeup)
    assert holidays ^ HOLIDAYS == {extra_off, dropped_makeup, worked_holiday}
    assert makeup_days ^ MAKEUP_DAYS == {worked_holiday, dropped_makeup}


def test_beyond_the_library_only_weekends_and_the_districts_days_count() -> None:
    """A year the library does not know counts Monday to Friday, plus what the district lists."""
    year = OFFICIAL.last_year + 1
    first_monday = date(year, 1, 1) + timedelta(days=-date(year, 1, 1).weekday() % 7)
    week = [first_monday + timedelta(days=i) for i in range(7)]
    assert [CHINA.is_working_day(d) for d in week] == [True] * 5 + [False] * 2
    holidays, makeup_days = OFFICIAL.with_district([week[0]], [week[5]])
    district = WorkingCalendar(SHANGHAI, holidays=holidays, makeup_days=makeup_days)
    assert [district.is_working_day(d) for d in week] == [False] + [True] * 5 + [False]


def test_the_days_are_read_once_and_never_both_off_and_worked() -> None:
    """One object for the process; the library never lists a day as both."""
    assert official_days() is OFFICIAL
    assert not OFFICIAL.holidays & OFFICIAL.makeup_days
    # A make-up day is a weekend day, or it would change nothing.
    assert all(d.weekday() >= 5 for d in OFFICIAL.makeup_days)


@pytest.mark.parametrize("year,known", [(2003, False), (2004, True), (2026, True), (9999, False)])
def test_knows_is_the_years_between_first_and_last(year: int, known: bool) -> None:
    """knows() is a plain range check over the years given."""
    assert OfficialDays("x", 2004, 2026, frozenset(), frozenset()).knows(year) is known
