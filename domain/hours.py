"""Opening hours of a station: one period a day, which may run past midnight into the next day.

A day's hours are written "HH:MM-HH:MM" or "closed". "00:00-24:00" is open all day; a period
whose end is before its start ("22:00-06:00") closes the next morning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOSED = "closed"
DAY_MINUTES = 24 * 60

_PERIOD = re.compile(r"^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$")


class HoursError(ValueError):
    """A day's hours that cannot be read; the message says why."""


@dataclass(frozen=True)
class Period:
    """Open from `start` to `end`, in minutes since midnight; an `end` before `start` is the next day."""

    start: int
    end: int

    @property
    def overnight(self) -> bool:
        """Whether the period closes after midnight, on the next day."""
        return self.end < self.start

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_day(text: str) -> Period | None:
    """One day's hours: a Period, or None when closed; raise HoursError with the reason."""
    value = text.strip()
    if value.lower() == CLOSED:
        return None
    match = _PERIOD.match(value)
    if match is None:
        raise HoursError(f"{text!r} is not hours like 09:00-18:00, 22:00-06:00 or closed")
    start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
    if start_h > 23 or start_m > 59:
        raise HoursError(f"{text!r} starts at a time that does not exist")
    if end_m > 59 or end_h > 24 or (end_h == 24 and end_m != 0):
        raise HoursError(f"{text!r} ends at a time that does not exist")
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start == end:
        raise HoursError(f"{text!r} opens and closes at the same time; all day is 00:00-24:00")
    return Period(start, end)


# A national file repeats a handful of schedules hundreds of thousands of times.
@lru_cache(maxsize=4096)
def normalise_day(text: str) -> str:
    """A day's hours written the one canonical way ("09:00-18:00" or "closed")."""
    period = parse_day(text)
    return CLOSED if period is None else str(period)


# Every listing of nearby stations reads their hours again: parsing each day afresh was a tenth of a
# location update (bench/throughput.py). Periods are frozen, so sharing them is safe.
_known_day = lru_cache(maxsize=4096)(parse_day)


@dataclass(frozen=True)
class OpenNow:
    """Whether a station is open at a moment, until when, and its hours for that day."""

    open: bool
    today: Period | None  # the day's own period; None when closed that day
    until: int | None  # minutes since that day's midnight when it closes (may exceed 24:00)


def open_at(hours: Mapping[str, str], local: datetime) -> OpenNow | None:
    """Open or not at `local` (a wall-clock time in the district), or None when the hours are not known."""
    if any(day not in hours for day in WEEKDAYS):
        return None
    weekday = local.weekday()
    minute = local.hour * 60 + local.minute
    today = _known_day(hours[WEEKDAYS[weekday]])
    yesterday = _known_day(hours[WEEKDAYS[weekday - 1]])
    # Last night's period still running comes first: "22:00-06:00" yesterday at 02:00 today.
    if yesterday is not None and yesterday.overnight and minute < yesterday.end:
        return OpenNow(True, today, yesterday.end)
    if today is not None:
        end = today.end + DAY_MINUTES if today.overnight else today.end
        if today.start <= minute < end:
            return OpenNow(True, today, end)
    return OpenNow(False, today, None)


def clock_text(minutes: int) -> str:
    """Minutes since a midnight as HH:MM, wrapping past 24:00 (except 24:00 itself)."""
    if minutes == DAY_MINUTES:
        return "24:00"
    return _clock(minutes % DAY_MINUTES)
