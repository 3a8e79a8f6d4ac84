"""When scheduled digests fall: the latest daily or weekly slot at or before a moment."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.periods import bounds


def latest_daily(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The most recent local `at` at or before `now`."""
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), at, tzinfo=zone)
    return slot if slot <= local else datetime.combine(local.date() - timedelta(days=1), at, tzinfo=zone)


def latest_weekly(now: datetime, weekday: int, at: time, zone: ZoneInfo) -> datetime:
    """The most recent `weekday` (0 = Monday) at local `at`, at or before `now`."""
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = datetime.combine(day, at, tzinfo=zone)
    return slot if slot <= local else datetime.combine(day - timedelta(days=7), at, tzinfo=zone)


def slot_day(slot: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar day a slot falls on in the district: [its local midnight, the next one)."""
    day = slot.astimezone(zone).date()
    return bounds(day, day, zone)
