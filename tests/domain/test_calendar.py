"""Tests for domain.calendar.WorkingCalendar.

Reference dates (2026): Mon 14 Sep, Fri 18 Sep, Sat 19 Sep, Fri 25 Sep,
Sun 27 Sep (make-up working day), Wed 30 Sep, Thu 1 Oct .. Wed 7 Oct (National
Day holidays), Thu 8 Oct, Sat 10 Oct (make-up working day), Mon 12 Oct.
Default hours: 09:00-12:00 and 13:30-18:00, 7.5 h a day.
"""

from __future__ import annotations

import random
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = UTC

NATIONAL_DAY = frozenset(date(2026, 10, day) for day in range(1, 8))
MAKEUP_DAYS = frozenset({date(2026, 9, 27), date(2026, 10, 10)})

CAL = WorkingCalendar(SHANGHAI, holidays=NATIONAL_DAY, makeup_days=MAKEUP_DAYS)
PLAIN = WorkingCalendar(SHANGHAI)
ALWAYS = WorkingCalendar(SHANGHAI, periods=((0, 1440),), rest_weekdays=frozenset())
ALWAYS_BERLIN = WorkingCalendar(BERLIN, periods=((0, 1440),), rest_weekdays=frozenset())
# 01:00-04:00 every day: on 2026-03-29 this period spans the missing hour 02:00-03:00.
NIGHT_BERLIN = WorkingCalendar(BERLIN, periods=((60, 240),), rest_weekdays=frozenset())
# 20:00-24:00: the period ends at the midnight that starts the next day.
EVENING = WorkingCalendar(SHANGHAI, periods=((1200, 1440),))


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Berlin wall-clock time (first occurrence if repeated)."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def real_between(a: datetime, b: datetime) -> timedelta:
    """Real elapsed time; subtracting two datetimes of one zone would give wall-clock time."""
    return b.astimezone(UTC) - a.astimezone(UTC)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


# ------------------------------------------------------------------ days


def test_day_length_of_default_periods_is_seven_and_a_half_hours():
    assert CAL.day_length() == hours(7.5)
    assert ALWAYS.day_length() == hours(24)
    assert NIGHT_BERLIN.day_length() == hours(3)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 9, 14), True),  # Monday
        (date(2026, 9, 18), True),  # Friday
        (date(2026, 9, 19), False),  # Saturday
        (date(2026, 9, 20), False),  # Sunday
        (date(2026, 10, 1), False),  # National Day, a Thursday
        (date(2026, 10, 7), False),  # last holiday, a Wednesday
        (date(2026, 9, 27), True),  # make-up Sunday
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 10, 11), False),  # ordinary Sunday
    ],
)
def test_is_working_day(day, expected):
    assert CAL.is_working_day(day) is expected


def test_is_working_day_rejects_a_datetime():
    with pytest.raises(TypeError):
        CAL.is_working_day(sh(2026, 9, 14, 10))


# ------------------------------------------------------------ working time


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (sh(2026, 9, 14, 8, 59), False),
        (sh(2026, 9, 14, 9, 0), True),  # a period includes its start
        (sh(2026, 9, 14, 11, 59), True),
        (sh(2026, 9, 14, 12, 0), False),  # ... and excludes its end
        (sh(2026, 9, 14, 13, 29), False),
        (sh(2026, 9, 14, 13, 30), True),
        (sh(2026, 9, 14, 17, 59), True),
        (sh(2026, 9, 14, 18, 0), False),
        (sh(2026, 9, 19, 10, 0), False),  # Saturday
        (sh(2026, 10, 1, 10, 0), False),  # holiday
        (sh(2026, 9, 27, 10, 0), True),  # make-up Sunday
        (datetime(2026, 9, 14, 2, 0, tzinfo=UTC), True),  # 10:00 in Shanghai
    ],
)
def test_is_working_time(moment, expected):
    assert CAL.is_working_time(moment) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (sh(2026, 9, 14, 10, 15), sh(2026, 9, 14, 10, 15)),  # already working
        (sh(2026, 9, 14, 9, 0), sh(2026, 9, 14, 9, 0)),
        (sh(2026, 9, 14, 7, 0), sh(2026, 9, 14, 9, 0)),
        (sh(2026, 9, 14, 12, 0), sh(2026, 9, 14, 13, 30)),
        (sh(2026, 9, 14, 12, 45), sh(2026, 9, 14, 13, 30)),
        (sh(2026, 9, 14, 18, 0), sh(2026, 9, 15, 9, 0)),
        (sh(2026, 9, 18, 19, 0), sh(2026, 9, 21, 9, 0)),  # Friday evening -> Monday
        (sh(2026, 9, 26, 8, 0), sh(2026, 9, 27, 9, 0)),  # Saturday -> make-up Sunday
        (sh(2026, 9, 30, 18, 30), sh(2026, 10, 8, 9, 0)),  # over National Day
    ],
)
def test_next_working_moment(moment, expected):
    assert CAL.next_working_moment(moment) == expected


# --------------------------------------------------------------------- add


@pytest.mark.parametrize(
    ("start", "work", "expected"),
    [
        pytest.param(sh(2026, 9, 14, 9, 30), hours(1), sh(2026, 9, 14, 10, 30), id="within a period"),
        pytest.param(sh(2026, 9, 14, 11, 0), hours(2), sh(2026, 9, 14, 14, 30), id="across lunch"),
        pytest.param(sh(2026, 9, 14, 12, 15), hours(1), sh(2026, 9, 14, 14, 30), id="start in lunch"),
        pytest.param(sh(2026, 9, 14, 17, 0), hours(2), sh(2026, 9, 15, 10, 0), id="across midnight"),
        pytest.param(sh(2026, 9, 14, 7, 0), hours(1), sh(2026, 9, 14, 10, 0), id="start before hours"),
        pytest.param(sh(2026, 9, 18, 17, 30), hours(1), sh(2026, 9, 21, 9, 30), id="friday evening"),
        pytest.param(sh(2026, 9, 18, 20, 0), minutes(30), sh(2026, 9, 21, 9, 30), id="friday night"),
        pytest.param(sh(2026, 9, 19, 10, 0), hours(1), sh(2026, 9, 21, 10, 0), id="start on saturday"),
        pytest.param(sh(2026, 9, 30, 17, 0), hours(2), sh(2026, 10, 8, 10, 0), id="over national day"),
        pytest.param(sh(2026, 10, 3, 10, 0), hours(1), sh(2026, 10, 8, 10, 0), id="start on a holiday"),
        pytest.param(sh(2026, 10, 9, 17, 0), hours(2), sh(2026, 10, 10, 10, 0), id="make-up saturday"),
        pytest.param(sh(2026, 9, 26, 10, 0), hours(1), sh(2026, 9, 27, 10, 0), id="make-up sunday"),
        pytest.param(sh(2026, 9, 25, 17, 0), hours(2), sh(2026, 9, 27, 10, 0), id="friday to make-up sunday"),
        pytest.param(sh(2026, 9, 14, 11, 0), hours(1), sh(2026, 9, 14, 12, 0), id="ends at morning end"),
        pytest.param(sh(2026, 9, 14, 13, 30), hours(4.5), sh(2026, 9, 14, 18, 0), id="ends at day end"),
        pytest.param(sh(2026, 9, 18, 9, 0), hours(7.5), sh(2026, 9, 18, 18, 0), id="whole friday"),
        pytest.param(sh(2026, 9, 14, 12, 0), minutes(30), sh(2026, 9, 14, 14, 0), id="start at morning end"),
        pytest.param(sh(2026, 9, 14, 18, 0), minutes(30), sh(2026, 9, 15, 9, 30), id="start at day end"),
        pytest.param(sh(2026, 9, 14, 13, 30), minutes(30), sh(2026, 9, 14, 14, 0), id="start at afternoon"),
        pytest.param(sh(2026, 9, 14, 9, 0), hours(3), sh(2026, 9, 14, 12, 0), id="start at day start"),
        pytest.param(sh(2026, 9, 14, 9, 0), hours(75), sh(2026, 9, 25, 18, 0), id="ten whole days"),
        pytest.param(sh(2026, 9, 21, 9, 0), hours(75), sh(2026, 10, 8, 18, 0), id="ten days over holidays"),
    ],
)
def test_add(start, work, expected):
    assert CAL.add(start, work) == expected


def test_add_keeps_seconds_and_microseconds():
    start = datetime(2026, 9, 14, 11, 59, 59, 500_000, tzinfo=SHANGHAI)
    assert CAL.add(start, timedelta(seconds=1)) == datetime(2026, 9, 14, 13, 30, 0, 500_000, tzinfo=SHANGHAI)


def test_add_zero_returns_start_unchanged_even_outside_hours():
    saturday = sh(2026, 9, 19, 23, 15)
    assert CAL.add(saturday, timedelta(0)) == saturday


def test_add_accepts_other_zones_and_answers_in_the_calendar_zone():
    start = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    result = CAL.add(start, hours(1))
    assert result == sh(2026, 9, 14, 11, 0)
    assert result.tzinfo is SHANGHAI


def test_add_with_a_period_ending_at_midnight():
    monday_late = sh(2026, 9, 14, 23, 0)
    assert EVENING.add(monday_late, hours(1)) == sh(2026, 9, 15, 0, 0)
    assert EVENING.add(monday_late, minutes(90)) == sh(2026, 9, 15, 20, 30)
    # Friday 23:00-24:00, then Monday 20:00-21:00.
    assert EVENING.add(sh(2026, 9, 18, 23, 0), hours(2)) == sh(2026, 9, 21, 21, 0)
    assert not EVENING.is_working_time(sh(2026, 9, 15, 0, 0))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (sh(2026, 9, 18, 15, 0), 1, sh(2026, 9, 21, 15, 0)),  # Friday -> Monday
        (sh(2026, 9, 14, 10, 0), 5, sh(2026, 9, 21, 10, 0)),
        (sh(2026, 9, 30, 10, 0), 1, sh(2026, 10, 8, 10, 0)),  # over National Day
        (sh(2026, 9, 25, 10, 0), 1, sh(2026, 9, 27, 10, 0)),  # onto the make-up Sunday
        (sh(2026, 9, 14, 9, 0), 1, sh(2026, 9, 14, 18, 0)),  # a whole day ends the same evening
        (sh(2026, 9, 19, 11, 0), 1, sh(2026, 9, 21, 18, 0)),  # Saturday: counting starts Monday 09:00
        (sh(2026, 9, 14, 10, 0), 0, sh(2026, 9, 14, 10, 0)),
    ],
)
def test_add_working_days(start, days, expected):
    assert CAL.add_working_days(start, days) == expected


def test_add_one_year_of_working_time():
    # 365 days = 8760 h = 1168 days of 7.5 h = 233 weeks and 3 days,
    # so the work runs out on the Wednesday 233 weeks after the starting Monday.
    start = sh(2027, 1, 4, 9, 0)  # Monday
    expected_day = date(2027, 1, 4) + timedelta(weeks=233, days=2)
    assert PLAIN.add(start, timedelta(days=365)) == datetime.combine(expected_day, time(18), tzinfo=SHANGHAI)


def test_add_one_year_of_working_time_is_fast():
    start = sh(2026, 9, 14, 10, 0)
    best = float("inf")
    for _ in range(3):
        # A fresh calendar each time, so no cache from an earlier run helps.
        calendar = WorkingCalendar(SHANGHAI, holidays=NATIONAL_DAY, makeup_days=MAKEUP_DAYS)
        began = clock.perf_counter()
        calendar.add(start, timedelta(days=365))
        best = min(best, clock.perf_counter() - began)
    assert best < 0.010


# ---------------------------------------------------- working_time_between


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(sh(2026, 9, 14, 10, 0), sh(2026, 9, 14, 15, 0), hours(3.5), id="across lunch"),
        pytest.param(sh(2026, 9, 14, 12, 10), sh(2026, 9, 14, 13, 20), hours(0), id="inside lunch"),
        pytest.param(sh(2026, 9, 14, 17, 0), sh(2026, 9, 15, 10, 0), hours(2), id="overnight"),
        pytest.param(sh(2026, 9, 18, 17, 0), sh(2026, 9, 21, 10, 0), hours(2), id="weekend"),
        pytest.param(sh(2026, 9, 30, 18, 0), sh(2026, 10, 8, 9, 0), hours(0), id="only holidays"),
        pytest.param(sh(2026, 9, 21, 9, 0), sh(2026, 10, 12, 9, 0), hours(90), id="three weeks"),
        # 3 h on 21 Sep, 11 whole days (22-25, 27, 28-30 Sep, 8-10 Oct) and 1.5 h on 12 Oct.
        pytest.param(sh(2026, 9, 21, 15, 0), sh(2026, 10, 12, 10, 30), hours(87), id="partial ends"),
        pytest.param(sh(2026, 9, 14, 15, 0), sh(2026, 9, 14, 10, 0), hours(0), id="reversed"),
        pytest.param(sh(2026, 9, 14, 10, 0), sh(2026, 9, 14, 10, 0), hours(0), id="empty"),
    ],
)
def test_working_time_between(a, b, expected):
    assert CAL.working_time_between(a, b) == expected


def test_working_time_between_weeks_without_holidays():
    # Four plain weeks: 20 working days.
    assert PLAIN.working_time_between(sh(2026, 9, 7, 9, 0), sh(2026, 10, 5, 9, 0)) == hours(150)


def test_working_time_between_mixed_zones():
    a = datetime(2026, 9, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    b = berlin(2026, 9, 14, 8, 0)  # 14:00 in Shanghai
    assert CAL.working_time_between(a, b) == hours(3.5)


def test_working_time_between_a_year_is_fast():
    calendar = WorkingCalendar(SHANGHAI, holidays=NATIONAL_DAY, makeup_days=MAKEUP_DAYS)
    began = clock.perf_counter()
    total = calendar.working_time_between(sh(2026, 1, 1), sh(2027, 1, 1))
    assert clock.perf_counter() - began < 0.010
    # 2026 has 261 weekdays; National Day takes 5 of them, the two make-up days add 2.
    assert total == 258 * hours(7.5)


# ------------------------------------------------- add/between consistency


def _random_start(rng: random.Random, first: datetime, span_days: int) -> datetime:
    return first + timedelta(seconds=rng.randrange(span_days * 86400), microseconds=rng.randrange(1_000_000))


@pytest.mark.parametrize(
    "calendar",
    [CAL, EVENING, NIGHT_BERLIN, WorkingCalendar(BERLIN)],
    ids=["national day", "evening", "night berlin", "berlin"],
)
def test_between_inverts_add(calendar):
    rng = random.Random(20260929)
    first = datetime(2026, 1, 1, tzinfo=calendar.tz)
    for _ in range(300):
        start = _random_start(rng, first, 365)
        work = timedelta(seconds=rng.randrange(60 * 86400), microseconds=rng.randrange(1_000_000))
        assert calendar.working_time_between(start, calendar.add(start, work)) == work


def test_add_is_strictly_increasing_in_work():
    rng = random.Random(7)
    for _ in range(50):
        start = _random_start(rng, sh(2026, 9, 1), 60)
        works = sorted({minutes(rng.randrange(1, 20 * 450)) for _ in range(20)})
        results = [CAL.add(start, work) for work in works]
        assert all(earlier < later for earlier, later in pairwise(results))
        assert start <= results[0]


def test_add_in_two_steps_equals_add_in_one():
    rng = random.Random(11)
    for _ in range(200):
        start = _random_start(rng, sh(2026, 9, 1), 60)
        first, second = minutes(rng.randrange(0, 5000)), minutes(rng.randrange(0, 5000))
        assert CAL.add(CAL.add(start, first), second) == CAL.add(start, first + second)


def test_between_is_additive():
    rng = random.Random(5)
    for _ in range(200):
        a, b, c = sorted(_random_start(rng, sh(2026, 9, 1), 60) for _ in range(3))
        between = CAL.working_time_between
        assert between(a, b) + between(b, c) == between(a, c)


# ------------------------------------------------------ end_of_working_day


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (sh(2026, 9, 14, 7, 0), sh(2026, 9, 14, 18, 0)),  # before hours
        (sh(2026, 9, 14, 10, 0), sh(2026, 9, 14, 18, 0)),  # during
        (sh(2026, 9, 14, 12, 30), sh(2026, 9, 14, 18, 0)),  # lunch
        (sh(2026, 9, 14, 17, 59), sh(2026, 9, 14, 18, 0)),
        (sh(2026, 9, 14, 18, 0), sh(2026, 9, 15, 18, 0)),  # the day is over at its end
        (sh(2026, 9, 14, 20, 0), sh(2026, 9, 15, 18, 0)),  # after hours
        (sh(2026, 9, 18, 19, 0), sh(2026, 9, 21, 18, 0)),  # Friday evening
        (sh(2026, 9, 19, 10, 0), sh(2026, 9, 21, 18, 0)),  # Saturday
        (sh(2026, 9, 26, 10, 0), sh(2026, 9, 27, 18, 0)),  # Saturday before a make-up Sunday
        (sh(2026, 9, 27, 10, 0), sh(2026, 9, 27, 18, 0)),  # on the make-up Sunday
        (sh(2026, 9, 30, 19, 0), sh(2026, 10, 8, 18, 0)),  # before National Day
        (sh(2026, 10, 3, 10, 0), sh(2026, 10, 8, 18, 0)),  # during National Day
    ],
)
def test_end_of_working_day(moment, expected):
    assert CAL.end_of_working_day(moment) == expected


def test_end_of_working_day_with_a_period_ending_at_midnight():
    assert EVENING.end_of_working_day(sh(2026, 9, 14, 21, 0)) == sh(2026, 9, 15, 0, 0)


# ------------------------------------------------------ all-working calendar


def test_all_working_calendar_adds_like_plain_time():
    rng = random.Random(1)
    for _ in range(300):
        start = _random_start(rng, sh(2026, 1, 1), 365)
        work = timedelta(seconds=rng.randrange(400 * 86400), microseconds=rng.randrange(1_000_000))
        assert ALWAYS.add(start, work) == start + work
        assert ALWAYS.working_time_between(start, start + work) == work
        assert ALWAYS.is_working_time(start)


def test_all_working_calendar_across_midnight_and_end_of_day():
    assert ALWAYS.add(sh(2026, 9, 19, 23, 0), hours(2)) == sh(2026, 9, 20, 1, 0)
    assert ALWAYS.end_of_working_day(sh(2026, 9, 19, 23, 0)) == sh(2026, 9, 20, 0, 0)


def test_all_working_calendar_in_a_dst_zone_adds_real_time():
    rng = random.Random(2)
    for _ in range(300):
        start = _random_start(rng, berlin(2026, 1, 1), 365)
        work = timedelta(seconds=rng.randrange(60 * 86400))
        result = ALWAYS_BERLIN.add(start, work)
        assert result.astimezone(UTC) == start.astimezone(UTC) + work
        assert ALWAYS_BERLIN.working_time_between(start, result) == work


# -------------------------------------------------------------------- DST


def test_spring_forward_day_holds_23_hours():
    assert ALWAYS_BERLIN.working_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == hours(23)
    assert ALWAYS_BERLIN.add(berlin(2026, 3, 29), hours(23)) == berlin(2026, 3, 30)


def test_add_across_the_missing_hour_returns_real_elapsed_time():
    start = berlin(2026, 3, 29, 1, 30)  # CET, UTC+1
    result = ALWAYS_BERLIN.add(start, hours(1))
    assert result == berlin(2026, 3, 29, 3, 30)  # CEST: the clock skipped 02:00-03:00
    assert result.utcoffset() == hours(2)
    assert real_between(start, result) == hours(1)


def test_add_a_day_across_spring_forward():
    # Saturday 12:00 CET (11:00 UTC) + 24 real hours = Sunday 11:00 UTC = 13:00 CEST.
    assert ALWAYS_BERLIN.add(berlin(2026, 3, 28, 12, 0), hours(24)) == berlin(2026, 3, 29, 13, 0)


def test_fall_back_day_holds_25_hours():
    assert ALWAYS_BERLIN.working_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == hours(25)
    # Midnight CEST (22:00 UTC) + 3 h = 01:00 UTC, the second 02:00 of the night (CET).
    result = ALWAYS_BERLIN.add(berlin(2026, 10, 25), hours(3))
    assert result.astimezone(UTC) == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert (result.hour, result.utcoffset()) == (2, hours(1))


def test_period_spanning_the_missing_hour_holds_its_real_duration():
    # 01:00-04:00 on 2026-03-29 is only 2 real hours.
    assert NIGHT_BERLIN.working_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == hours(2)
    assert NIGHT_BERLIN.add(berlin(2026, 3, 29, 1, 0), hours(2)) == berlin(2026, 3, 29, 4, 0)
    assert NIGHT_BERLIN.add(berlin(2026, 3, 29, 1, 0), minutes(150)) == berlin(2026, 3, 30, 1, 30)
    # From Saturday 02:00: 2 h on Saturday, 2 h on Sunday, then Monday 01:00 + 1 h.
    assert NIGHT_BERLIN.add(berlin(2026, 3, 28, 2, 0), hours(5)) == berlin(2026, 3, 30, 2, 0)


def test_period_spanning_the_repeated_hour_holds_its_real_duration():
    # 01:00 CEST to 04:00 CET on 2026-10-25 is 4 real hours.
    assert NIGHT_BERLIN.working_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == hours(4)
    assert NIGHT_BERLIN.add(berlin(2026, 10, 25, 1, 0), hours(4)) == berlin(2026, 10, 25, 4, 0)


def test_add_working_days_over_spring_forward_counts_real_hours():
    # A working day is day_length() of real work; that Sunday has only 23 hours.
    assert ALWAYS_BERLIN.add_working_days(berlin(2026, 3, 29), 1) == berlin(2026, 3, 30, 1, 0)


def test_period_starting_inside_the_missing_hour_never_goes_negative():
    # 02:30-03:20: on 2026-03-29, 02:30 means 03:30 CEST (RFC 5545), after the period's end.
    calendar = WorkingCalendar(BERLIN, periods=((150, 200),), rest_weekdays=frozenset())
    assert calendar.working_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == timedelta(0)
    assert calendar.add(berlin(2026, 3, 28, 3, 0), minutes(50)) == berlin(2026, 3, 30, 3, 0)


# ------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"periods": ()}, id="no periods"),
        pytest.param({"periods": ((540, 540),)}, id="empty period"),
        pytest.param({"periods": ((720, 540),)}, id="end before start"),
        pytest.param({"periods": ((-1, 60),)}, id="negative start"),
        pytest.param({"periods": ((0, 1441),)}, id="end after midnight"),
        pytest.param({"periods": ((810, 1080), (540, 720))}, id="unsorted"),
        pytest.param({"periods": ((540, 720), (700, 800))}, id="overlapping"),
        pytest.param({"periods": ((540.0, 720),)}, id="float minutes"),
        pytest.param({"periods": (("09:00", "12:00"),)}, id="text minutes"),
        pytest.param({"periods": (540, 720)}, id="not pairs"),
        pytest.param({"rest_weekdays": frozenset({7})}, id="weekday 7"),
        pytest.param({"holidays": frozenset({datetime(2026, 10, 1)})}, id="datetime holiday"),
        pytest.param(
            {"holidays": frozenset({date(2026, 10, 10)}), "makeup_days": frozenset({date(2026, 10, 10)})},
            id="holiday and make-up day",
        ),
        pytest.param({"tz": "Asia/Shanghai"}, id="zone name instead of zone"),
    ],
)
def test_invalid_calendar_is_rejected(kwargs):
    kwargs = {"tz": SHANGHAI, **kwargs}
    with pytest.raises(ValueError):
        WorkingCalendar(**kwargs)


def test_invalid_calendar_messages_name_the_problem():
    with pytest.raises(ValueError, match="overlap"):
        WorkingCalendar(SHANGHAI, periods=((540, 720), (700, 800)))
    with pytest.raises(ValueError, match="2026-10-10"):
        both = frozenset({date(2026, 10, 10)})
        WorkingCalendar(SHANGHAI, holidays=both, makeup_days=both)


def test_touching_periods_and_plain_collections_are_accepted():
    # A config loader may hand over lists and sets.
    calendar = WorkingCalendar(SHANGHAI, periods=[[540, 720], [720, 1080]], rest_weekdays={6})  # type: ignore
    assert calendar.periods == ((540, 720), (720, 1080))
    assert calendar.rest_weekdays == frozenset({6})
    assert calendar.day_length() == hours(9)
    assert calendar.add(sh(2026, 9, 14, 11, 0), hours(2)) == sh(2026, 9, 14, 13, 0)
    same = WorkingCalendar(SHANGHAI, periods=((540, 720), (720, 1080)), rest_weekdays=frozenset({6}))
    assert calendar == same
    assert hash(calendar) == hash(same)


def test_caches_do_not_affect_equality():
    used = WorkingCalendar(SHANGHAI, holidays=NATIONAL_DAY, makeup_days=MAKEUP_DAYS)
    used.add(sh(2026, 1, 1), timedelta(days=30))
    assert used == CAL
    assert hash(used) == hash(CAL)


NAIVE = datetime(2026, 9, 14, 10, 0)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: CAL.is_working_time(NAIVE), id="is_working_time"),
        pytest.param(lambda: CAL.next_working_moment(NAIVE), id="next_working_moment"),
        pytest.param(lambda: CAL.add(NAIVE, hours(1)), id="add"),
        pytest.param(lambda: CAL.add_working_days(NAIVE, 1), id="add_working_days"),
        pytest.param(lambda: CAL.end_of_working_day(NAIVE), id="end_of_working_day"),
        pytest.param(lambda: CAL.working_time_between(NAIVE, sh(2026, 9, 15)), id="between from naive"),
        pytest.param(lambda: CAL.working_time_between(sh(2026, 9, 13), NAIVE), id="between to naive"),
        pytest.param(lambda: CAL.add(sh(2026, 9, 14), -minutes(1)), id="negative work"),
        pytest.param(lambda: CAL.add_working_days(sh(2026, 9, 14), -1), id="negative days"),
    ],
)
def test_invalid_input_is_rejected(call):
    with pytest.raises(ValueError):
        call()


def test_calendar_without_any_working_day_left_raises():
    makeup_only = WorkingCalendar(
        SHANGHAI, rest_weekdays=frozenset(range(7)), makeup_days=frozenset({date(2026, 9, 27)})
    )
    assert makeup_only.add(sh(2026, 9, 20), hours(1)) == sh(2026, 9, 27, 10, 0)
    with pytest.raises(ValueError, match="working days"):
        makeup_only.add(sh(2026, 9, 20), hours(8))
    with pytest.raises(ValueError):
        makeup_only.next_working_moment(sh(2026, 9, 28))
