"""Report periods in the district's calendar: this or last week or month, two typed dates, a digest's days.

A period is [start, end) between local midnights, so it reads as whole calendar days: "11月30日 周一
至 12月6日 周日", "Mon 30 Nov – Sun 6 Dec". Only a digest asked for now ends at a time of day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIODS = ("this_week", "last_week", "this_month", "last_month")
MAX_DAYS = 366 * 3
DIGEST_DAYS = {"daily": 1, "weekly": 7}

_ZH_WEEKDAYS = "一二三四五六日"
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The local midnight that starts `day`."""
    return datetime.combine(day, time(0), tzinfo=zone)


def digest_period(kind: str, slot: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The whole days a scheduled digest covers: the day (daily) or seven days (weekly) before its slot's day."""
    today = slot.astimezone(zone).date()
    return midnight(today - timedelta(days=DIGEST_DAYS[kind]), zone), midnight(today, zone)


def recent_days(now: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The local midnight that starts the last `days` calendar days, today included."""
    return midnight(now.astimezone(zone).date() - timedelta(days=days - 1), zone)


def weekday_text(day: date, lang: str) -> str:
    """The day's weekday, short: "周一" or "Mon"."""
    return f"周{_ZH_WEEKDAYS[day.weekday()]}" if lang == "zh" else _EN_WEEKDAYS[day.weekday()]


def month_day_text(day: date, lang: str) -> str:
    """The day of the month, short: "11/30" or "30 Nov"."""
    return f"{day.month}/{day.day}" if lang == "zh" else f"{day.day} {_EN_MONTHS[day.month - 1]}"


def day_text(day: date, lang: str, with_year: bool = False) -> str:
    """A date as people write it: "12月7日 周一" or "Mon 7 Dec" (with the year when asked)."""
    if lang == "zh":
        year = f"{day.year}年" if with_year else ""
        return f"{year}{day.month}月{day.day}日 {weekday_text(day, lang)}"
    year = f" {day.year}" if with_year else ""
    return f"{weekday_text(day, lang)} {month_day_text(day, lang)}{year}"


def period_text(start: datetime, end: datetime, zone: ZoneInfo, lang: str) -> str:
    """[start, end) as calendar days in the district: one day, first to last day, or to a time on the last day."""
    first, stop = start.astimezone(zone), end.astimezone(zone)
    whole_days = stop.time() == time(0) and stop > first
    last = (stop - timedelta(days=1)).date() if whole_days else stop.date()
    with_year = first.year != last.year
    head = day_text(first.date(), lang, with_year) + ("" if first.time() == time(0) else first.strftime(" %H:%M"))
    if last == first.date():
        return head if whole_days else f"{day_text(first.date(), lang, with_year)} {first:%H:%M}–{stop:%H:%M}"
    tail = day_text(last, lang, with_year) + ("" if whole_days else stop.strftime(" %H:%M"))
    return f"{head} 至 {tail}" if lang == "zh" else f"{head} – {tail}"
