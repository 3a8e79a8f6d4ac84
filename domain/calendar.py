"""A working calendar: deadlines counted in working time, as China's 12345 hotline counts them.

Working time is a set of real intervals: on every working day, each period
(minutes since local midnight) becomes the interval between two local
wall-clock instants.  Elapsed time is always measured as real time, so a day
on which the clocks change holds more or less working time than usual.

China's public holidays and make-up working days (调休) come from the
chinese-calendar library: it is data (the State Council's yearly notices as
Python constants), so this module stays pure.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = ["OfficialDays", "WorkingCalendar", "official_days"]

_MINUTES_PER_DAY = 1440
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)

# (start, end) of each period of one day, as UTC instants.
_Bounds = tuple[tuple[datetime, datetime], ...]
_WALK_DAYS = 5  # up to this many working days ahead, _nth_working_day steps through days
_CACHE_LIMIT = 4096  # days remembered: years of deadlines


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and working hours of one organisation in one time zone."""

    tz: ZoneInfo
    periods: tuple[tuple[int, int], ...] = ((540, 720), (810, 1080))
    rest_weekdays: frozenset[int] = frozenset({5, 6})
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.tz, tzinfo):
            raise ValueError(f"tz must be a time zone such as ZoneInfo('Asia/Shanghai'), got {self.tz!r}")
        periods = _checked_periods(self.periods)
        rest_weekdays = _checked_weekdays(self.rest_weekdays)
        holidays = _checked_dates("holidays", self.holidays)
        makeup_days = _checked_dates("makeup_days", self.makeup_days)
        both = holidays & makeup_days
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"a date cannot be both a holiday and a make-up working day: {listed}")

        # Accept lists and sets from config loaders, but store hashable values.
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "rest_weekdays", rest_weekdays)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "makeup_days", makeup_days)

        minutes = [m for period in periods for m in period]
        edges = tuple((m // _MINUTES_PER_DAY, time(m % _MINUTES_PER_DAY // 60, m % 60)) for m in minutes)
        working_weekdays = [wd not in rest_weekdays for wd in range(7)]
        object.__setattr__(self, "_edges", edges)
        object.__setattr__(self, "_length", timedelta(minutes=sum(end - start for start, end in periods)))
        object.__setattr__(self, "_workdays_per_week", sum(working_weekdays))
        object.__setattr__(self, "_weekday_table", _weekday_table(working_weekdays))
        # Only the exceptions that change a weekday's status matter for counting.
        lost_days = tuple(sorted(d for d in holidays if d.weekday() not in rest_weekdays))
        gained_days = tuple(sorted(d for d in makeup_days if d.weekday() in rest_weekdays))
        object.__setattr__(self, "_lost_days", lost_days)
        object.__setattr__(self, "_gained_days", gained_days)
        object.__setattr__(self, "_irregular_by_year", {})
        # Every deadline armed asks for the same few days' periods:
        # remembered, they cost a dict lookup instead of ~10 µs of time zone arithmetic each.
        object.__setattr__(self, "_bounds_by_day", {})

    # ----------------------------------------------------------------- public

    def is_working_day(self, d: date) -> bool:
        """Whether d is a working day: make-up days work, holidays and rest weekdays do not."""
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"expected a date, got {d!r}")
        return self._is_working_day(d)

    def day_length(self) -> timedelta:
        """The working time of one ordinary working day (the sum of its periods)."""
        return self._length

    def is_working_time(self, t: datetime) -> bool:
        """Whether the instant t falls inside a working period (start included, end excluded)."""
        local = self._local(t)
        if not self._is_working_day(local.date()):
            return False
        moment = _utc(local)
        return any(start <= moment < end for start, end in self._bounds(local.date()))

    def next_working_moment(self, t: datetime) -> datetime:
        """t itself if it is working time, else the start of the next working period."""
        local = self._local(t)
        moment = _utc(local)
        day = local.date()
        if not self._is_working_day(day):
            day = self._nth_working_day(day, 1)
        while True:
            for start, end in self._bounds(day):
                if moment < end and start < end:
                    return self._out(max(start, moment))
            day = self._nth_working_day(day + _ONE_DAY, 1)

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The instant at which `work` of working time has elapsed, counting from start."""
        local = self._local(start)
        _check_work(work)
        if not work:
            return local
        day = local.date()
        if self._is_working_day(day):
            done, work = _walk(self._bounds(day), _utc(local), work)
            if done is not None:
                return self._out(done)
        day, work = self._day_reaching(day + _ONE_DAY, work)
        bounds = self._bounds(day)
        done, _ = _walk(bounds, bounds[0][0], work)
        assert done is not None, "the located day holds the remaining work"
        return self._out(done)

    def subtract(self, end: datetime, work: timedelta) -> datetime:
        """The latest instant from which `work` of working time has elapsed by `end` (add, run backwards)."""
        local = self._local(end)
        _check_work(work)
        if not work:
            return local
        day = local.date()
        moment = _utc(local)
        while True:
            if self._is_working_day(day):
                done, work = _walk_back(self._bounds(day), moment, work)
                if done is not None:
                    return self._out(done)
            if not self._workdays_per_week and not (self._gained_days and self._gained_days[0] < day):
                raise ValueError(f"the calendar has no working time before {day.isoformat()}")
            # A day's periods may reach past its midnight, so each day is clipped to `moment`.
            day = self._previous_working_day(day)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """add(start, days * day_length()): Friday 15:00 plus one working day is Monday 15:00."""
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be an int, got {days!r}")
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        return self.add(start, days * self._length)

    def end_of_working_day(self, t: datetime) -> datetime:
        """The end of the working day containing t, or of the next working day if t is past it."""
        local = self._local(t)
        day = local.date()
        if self._is_working_day(day):
            end = self._bounds(day)[-1][1]
            if _utc(local) < end:
                return self._out(end)
        day = self._nth_working_day(day + _ONE_DAY, 1)
        return self._out(self._bounds(day)[-1][1])

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time in [a, b); zero when b <= a."""
        local_a, local_b = self._local(a), self._local(b)
        moment_a, moment_b = _utc(local_a), _utc(local_b)
        if moment_b <= moment_a:
            return _ZERO
        day_a, day_b = local_a.date(), local_b.date()
        if day_a == day_b:
            return self._work_within(day_a, moment_a, moment_b)
        return (
            self._work_within(day_a, moment_a, None)
            + self._whole_days_work(day_a + _ONE_DAY, day_b)
            + self._work_within(day_b, None, moment_b)
        )

    # --------------------------------------------------------------- instants

    def _local(self, t: datetime) -> datetime:
        if not isinstance(t, datetime):
            raise TypeError(f"expected a datetime, got {t!r}")
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got naive {t!r}")
        return t.astimezone(self.tz)

    def _out(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def _bounds(self, day: date) -> _Bounds:
        found = self._bounds_by_day.get(day)
        if found is None:
            found = _remember(self._bounds_by_day, day, self._compute_bounds(day))
        return found

    def _compute_bounds(self, day: date) -> _Bounds:
        instants: list[datetime] = []
        for day_offset, wall in self._edges:
            instant = _utc(datetime.combine(day + timedelta(days=day_offset), wall, tzinfo=self.tz))
            # A wall time inside a DST gap maps to after the gap (RFC 5545, fold=0);
            # never let that push a boundary past a later one.
            if instants and instant < instants[-1]:
                instant = instants[-1]
            instants.append(instant)
        return tuple(zip(instants[::2], instants[1::2], strict=True))

    def _work_within(self, day: date, lo: datetime | None, hi: datetime | None) -> timedelta:
        if not self._is_working_day(day):
            return _ZERO
        total = _ZERO
        for start, end in self._bounds(day):
            start = start if lo is None else max(start, lo)
            end = end if hi is None else min(end, hi)
            if start < end:
                total += end - start
        return total

    # ------------------------------------------------------------------- days

    def _is_working_day(self, d: date) -> bool:
        if d in self.makeup_days:
            return True
        if d in self.holidays:
            return False
        return d.weekday() not in self.rest_weekdays

    def _count_working_days(self, first: date, stop: date) -> int:
        """Number of working days in [first, stop)."""
        weeks, extra = divmod((stop - first).days, 7)
        count = weeks * self._workdays_per_week + self._weekday_table[first.weekday()][extra]
        count -= bisect_left(self._lost_days, stop) - bisect_left(self._lost_days, first)
        count += bisect_left(self._gained_days, stop) - bisect_left(self._gained_days, first)
        return count

    def _nth_working_day(self, first: date, n: int) -> date:
        """The n-th working day (n >= 1) on or after first."""
        if self._workdays_per_week:
            # Enough weeks to hold n working days even if every holiday falls inside.
            span = (n + len(self._lost_days)) // self._workdays_per_week * 7 + 14
        elif self._gained_days and self._gained_days[-1] >= first:
            span = (self._gained_days[-1] - first).days + 1
        else:
            span = 0
        if span == 0 or self._count_working_days(first, first + timedelta(days=span)) < n:
            raise ValueError(f"the calendar has fewer than {n} working days on or after {first.isoformat()}")
        if n <= _WALK_DAYS:
            # The usual ask (the next working day, a deadline days away): stepping is cheaper than bisecting.
            day = first
            while True:
                if self._is_working_day(day):
                    n -= 1
                    if not n:
                        return day
                day += _ONE_DAY
        lo, hi = 0, span - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self._count_working_days(first, first + timedelta(days=mid + 1)) >= n:
                hi = mid
            else:
                lo = mid + 1
        return first + timedelta(days=lo)

    def _previous_working_day(self, d: date) -> date:
        d -= _ONE_DAY
        while not self._is_working_day(d):
            d -= _ONE_DAY
        return d

    def _day_work(self, day: date) -> timedelta:
        if not self._is_working_day(day):
            return _ZERO
        return self._irregular_days(day.year).get(day, self._length)

    def _whole_days_work(self, first: date, stop: date) -> timedelta:
        """Working time of the whole days in [first, stop)."""
        if stop <= first:
            return _ZERO
        total = self._count_working_days(first, stop) * self._length
        for year in range(first.year, (stop - _ONE_DAY).year + 1):
            for day, work in self._irregular_days(year).items():
                if first <= day < stop and self._is_working_day(day):
                    total += work - self._length
        return total

    def _day_reaching(self, first: date, work: timedelta) -> tuple[date, timedelta]:
        """The day on which `work`, counted from the start of first, runs out; and the work left that day."""
        # Whole days hold day_length each except on DST days, so guess by
        # counting days, then step to the exact day.
        day = self._nth_working_day(first, -(-work // self._length))
        done = self._whole_days_work(first, day)
        while done >= work:
            day = self._previous_working_day(day)
            done = self._whole_days_work(first, day)
        while done + self._day_work(day) < work:
            done += self._day_work(day)
            day = self._nth_working_day(day + _ONE_DAY, 1)
        return day, work - done

    def _irregular_days(self, year: int) -> dict[date, timedelta]:
        """Days of the year whose periods hold a real duration other than day_length (DST changes)."""
        cache = self._irregular_by_year
        found = cache.get(year)
        if found is None:
            found = {}
            day = date(year, 1, 1)
            offset = _midnight_offset(day, self.tz)
            while day.year == year:
                following = day + _ONE_DAY
                next_offset = _midnight_offset(following, self.tz)
                # Two opposite clock changes within one day are assumed not to happen.
                if next_offset != offset:
                    work = sum((end - start for start, end in self._bounds(day)), _ZERO)
                    if work != self._length:
                        found[day] = work
                day, offset = following, next_offset
            cache[year] = found
        return found


@dataclass(frozen=True)
class OfficialDays:
    """China's public holidays and make-up working days as a library knows them, for the years it covers."""

    source: str
    first_year: int
    last_year: int
    # Days off, some of them on weekends inside a holiday's run, and weekend days worked instead.
    holidays: frozenset[date]
    makeup_days: frozenset[date]

    def knows(self, year: int) -> bool:
        """Whether the library has the official arrangement for this year."""
        return self.first_year <= year <= self.last_year

    def with_district(
        self, holidays: Iterable[date], makeup_days: Iterable[date]
    ) -> tuple[frozenset[date], frozenset[date]]:
        """(days off, make-up working days): the district's own lists, then the official days they leave alone.

        A district day off wins over an official make-up day, and a district working day over an
        official holiday, so a district can keep or drop any official day.
        """
        own_off, own_work = frozenset(holidays), frozenset(makeup_days)
        return (own_off | (self.holidays - own_work), own_work | (self.makeup_days - own_off))


@functools.cache
def official_days() -> OfficialDays:
    """China's official calendar from the chinese-calendar library, read once."""
    holidays = frozenset(chinese_calendar.holidays)
    makeup_days = frozenset(chinese_calendar.workdays)
    years = [d.year for d in holidays | makeup_days]
    return OfficialDays(
        source=f"chinese_calendar {chinese_calendar.__version__}",
        first_year=min(years),
        last_year=max(years),
        holidays=holidays,
        makeup_days=makeup_days,
    )


def _remember(cache: dict[date, _Bounds], key: date, value: _Bounds) -> _Bounds:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def _walk(bounds: _Bounds, moment: datetime, work: timedelta) -> tuple[datetime | None, timedelta]:
    """Spend work in the periods from moment on: (the instant it runs out, zero) or (None, work left)."""
    for start, end in bounds:
        start = max(start, moment)
        if start >= end:
            continue
        # `<=` so that a result exactly at a period end stays there.
        if work <= end - start:
            return start + work, _ZERO
        work -= end - start
    return None, work


def _check_work(work: timedelta) -> None:
    if not isinstance(work, timedelta):
        raise TypeError(f"work must be a timedelta, got {work!r}")
    if work < _ZERO:
        raise ValueError(f"work must not be negative, got {work}")


def _walk_back(bounds: _Bounds, moment: datetime, work: timedelta) -> tuple[datetime | None, timedelta]:
    """Spend work in the periods before moment, latest first: (the instant it runs out, zero) or (None, work left)."""
    for start, end in reversed(bounds):
        end = min(end, moment)
        if start >= end:
            continue
        # `<=` so that a result exactly at a period start stays there: the latest such instant.
        if work <= end - start:
            return end - work, _ZERO
        work -= end - start
    return None, work


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


def _midnight_offset(day: date, tz: tzinfo) -> timedelta | None:
    return datetime.combine(day, time(), tzinfo=tz).utcoffset()


def _weekday_table(working: list[bool]) -> tuple[tuple[int, ...], ...]:
    """table[w][k]: working weekdays among k consecutive days starting on weekday w (k = 0..6)."""
    return tuple(tuple(sum(working[(first + i) % 7] for i in range(k)) for k in range(7)) for first in range(7))


def _checked_periods(periods: object) -> tuple[tuple[int, int], ...]:
    try:
        pairs = tuple((start, end) for start, end in periods)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        message = f"periods must be a sequence of (start, end) minute pairs, got {periods!r}"
        raise ValueError(message) from None
    if not pairs:
        raise ValueError("periods must hold at least one working period")
    previous_end = 0
    for start, end in pairs:
        if not all(isinstance(m, int) and not isinstance(m, bool) for m in (start, end)):
            raise ValueError(f"period ({start!r}, {end!r}): minutes must be integers")
        if not 0 <= start < end <= _MINUTES_PER_DAY:
            raise ValueError(f"period ({start}, {end}): need 0 <= start < end <= 1440 (minutes since local midnight)")
        if start < previous_end:
            raise ValueError(
                f"period ({start}, {end}) starts before the previous period ends;"
                " periods must be sorted and must not overlap"
            )
        previous_end = end
    return pairs


def _checked_weekdays(weekdays: object) -> frozenset[int]:
    try:
        values = frozenset(weekdays)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"rest_weekdays must be a set of weekday numbers, got {weekdays!r}") from None
    for wd in values:
        if isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 6:
            raise ValueError(f"rest weekday {wd!r} is not a weekday number 0 (Monday) .. 6 (Sunday)")
    return values


def _checked_dates(name: str, dates: object) -> frozenset[date]:
    try:
        values = frozenset(dates)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be a set of dates, got {dates!r}") from None
    for d in values:
        # A datetime is a date too, but would never equal the dates looked up.
        if isinstance(d, datetime) or not isinstance(d, date):
            raise ValueError(f"{name}: {d!r} is not a date")
    return values
