"""Opening hours: reading a day's hours, and open-now across midnight and the week's end."""

from datetime import datetime

import pytest

from domain.hours import WEEKDAYS, HoursError, Period, clock_text, normalise_day, open_at, parse_day


def week(**days: str) -> dict[str, str]:
    """Every day 09:00-18:00 unless given."""
    return {day: days.get(day, "09:00-18:00") for day in WEEKDAYS}


# Monday 2026-11-23.
def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time on the week of Monday 2026-11-23 (0 = Monday)."""
    return datetime(2026, 11, 23 + day, hour, minute)


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("09:00-18:00", Period(540, 1080)),
        (" 07:30 - 22:00 ", Period(450, 1320)),
        ("00:00-24:00", Period(0, 1440)),
        ("22:00-06:00", Period(1320, 360)),
        ("23:59-00:00", Period(1439, 0)),
        ("closed", None),
        ("Closed", None),
    ],
)
def test_a_day_reads(text: str, period: Period | None) -> None:
    """Periods, all day, across midnight, and closed."""
    assert parse_day(text) == period


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("9-18", "not hours like"),
        ("09:00", "not hours like"),
        ("24:00-06:00", "starts at a time that does not exist"),
        ("09:60-18:00", "starts at a time that does not exist"),
        ("09:00-24:30", "ends at a time that does not exist"),
        ("09:00-25:00", "ends at a time that does not exist"),
        ("10:00-10:00", "same time"),
        ("", "not hours like"),
        ("open", "not hours like"),
    ],
)
def test_bad_days_say_why(text: str, why: str) -> None:
    """Every refusal names what is wrong."""
    with pytest.raises(HoursError, match=why):
        parse_day(text)


def test_days_are_written_one_way() -> None:
    """Spaces and case do not survive normalisation."""
    assert normalise_day(" 07:00 - 22:00") == "07:00-22:00"
    assert normalise_day("CLOSED") == "closed"


def test_an_ordinary_day() -> None:
    """Open from the first minute to the minute before closing."""
    hours = week()
    assert open_at(hours, at(0, 8, 59)).open is False
    now = open_at(hours, at(0, 9, 0))
    assert (now.open, now.until, str(now.today)) == (True, 1080, "09:00-18:00")
    assert open_at(hours, at(0, 17, 59)).open is True
    assert open_at(hours, at(0, 18, 0)).open is False


def test_a_night_station_across_midnight() -> None:
    """22:00-06:00 on Monday is open Monday 23:00 and Tuesday 02:00, though Tuesday itself is closed."""
    hours = week(mon="22:00-06:00", tue="closed")
    late = open_at(hours, at(0, 23, 0))
    assert (late.open, clock_text(late.until)) == (True, "06:00")
    early = open_at(hours, at(1, 2, 0))
    assert (early.open, early.today, clock_text(early.until)) == (True, None, "06:00")
    assert open_at(hours, at(1, 6, 0)).open is False
    assert open_at(hours, at(0, 21, 59)).open is False
    assert open_at(hours, at(0, 5, 0)).open is False  # Sunday's hours are 09:00-18:00


def test_sunday_night_runs_into_monday() -> None:
    """The week wraps: Sunday's overnight period is open early on Monday."""
    hours = week(sun="20:00-04:00", mon="closed")
    assert open_at(hours, at(0, 3, 59)).open is True
    assert open_at(hours, at(0, 4, 0)).open is False


def test_all_day_and_closed_days() -> None:
    """00:00-24:00 is open at midnight and just before it; a closed day is closed."""
    hours = week(wed="00:00-24:00", thu="closed")
    assert open_at(hours, at(2, 0, 0)).open is True
    assert open_at(hours, at(2, 23, 59)).open is True
    assert open_at(hours, at(3, 12, 0)).open is False
    assert clock_text(1440) == "24:00"


def test_unknown_hours_say_nothing() -> None:
    """A station without hours (or with some days missing) is neither open nor closed."""
    assert open_at({}, at(0, 12)) is None
    assert open_at({"mon": "09:00-18:00"}, at(0, 12)) is None
