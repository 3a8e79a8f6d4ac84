"""A real migrated SQLite file per test, with one unit, its staff and a coordinator."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import WorkingCalendar
from domain.deadlines import Priority, Spans
from domain.durations import parse_span
from storage.people import UnitSpec
from storage.store import Storage

TZ = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar(tz=TZ)
COURIER, OTHER_COURIER, STAFF, STAFF_2, OTHER_STAFF, COORDINATOR = 11, 12, 21, 22, 31, 41
# Monday 2026-11-23 10:00 local: inside working hours.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


def spans_for(category: str, priority: Priority) -> Spans:
    """The default deadlines of docs/design.md §3.1; urgent acceptance in 30 minutes."""
    urgent = priority is Priority.URGENT
    return Spans(
        triage=parse_span("4h"),
        accept=parse_span("30m" if urgent else "1wd"),
        handle=parse_span("eod" if urgent else "3wd"),
        feedback=parse_span("3wd"),
        send_back_window=parse_span("1wd"),
        followup=parse_span("5wd"),
    )


async def open_storage(path) -> Storage:
    """Open a storage on `path` with the test district set up."""
    storage = await Storage.open(path, CALENDAR, spans_for)
    await storage.people.sync_config(
        [
            UnitSpec("st1", "station", "一号驿站", "Station 1", (STAFF, STAFF_2)),
            UnitSpec("hr", "department", "人社局", "HR", (OTHER_STAFF,)),
        ],
        [COORDINATOR],
        MONDAY_10,
    )
    for courier in (COURIER, OTHER_COURIER):
        await storage.people.seen(courier, "en", MONDAY_10)
    return storage


@pytest.fixture
async def storage(tmp_path):
    """A storage on a fresh file, closed after the test."""
    opened = await open_storage(tmp_path / "appeals.sqlite3")
    yield opened
    await opened.close()
