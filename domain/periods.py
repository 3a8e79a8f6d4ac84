"""Report periods in the district's calendar: this or last week or month, or two typed dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIODS = ("this_week", "last_week", "this_month", "last_month")
MAX_DAYS = 366 * 3


class PeriodError(ValueError):
    """Dates that do not make a period; the message says why."""


def named(name: str, today: date) -> tuple[date, date]:
    """The first and last day of a named period around `today` (weeks start on Monday)."""
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    match name:
        case "this_week":
            return monday, monday + timedelta(days=6)
        case "last_week":
            return monday - timedelta(days=7), monday - timedelta(days=1)
        case "this_month":
            following = (first_of_month + timedelta(days=32)).replace(day=1)
            return first_of_month, following - timedelta(days=1)
        case "last_month":
            last_day = first_of_month - timedelta(days=1)
            return last_day.replace(day=1), last_day
    raise PeriodError(f"unknown period {name!r}; use one of {', '.join(PERIODS)}")


def typed(first: str, last: str) -> tuple[date, date]:
    """Two dates written YYYY-MM-DD, first to last inclusive."""
    try:
        start, end = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
    except ValueError:
        raise PeriodError(f"{first!r} and {last!r} must be dates like 2026-11-01") from None
    if end < start:
        raise PeriodError(f"{last} is before {first}")
    if end == date.max:  # the period ends at the midnight after `end`, which must be a date too
        raise PeriodError(f"{last} is past the last date there is")
    if (end - start).days > MAX_DAYS:
        raise PeriodError(f"a period is at most {MAX_DAYS} days")
    return start, end


def bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The period as [start, end) instants: local midnight of `first` to local midnight after `last`."""
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone),
    )
