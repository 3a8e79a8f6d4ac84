"""A real migrated database per test, with one unit, its staff and a coordinator: a SQLite file, and
for the modules in ON_POSTGRESQL a PostgreSQL database too (the session's server, tests/postgres.py)."""

import os
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import WorkingCalendar
from domain.deadlines import Priority, Spans
from domain.durations import parse_span
from storage.people import UnitSpec
from storage.store import Storage

try:
    import psycopg

    # What a refused write raises (a constraint, or a trigger that refuses it), on either backend.
    INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
except ImportError:  # the postgresql extra is not installed: SQLite only
    INTEGRITY_ERRORS = (sqlite3.IntegrityError,)

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


# The storage test modules that pass on PostgreSQL as well: each of their tests that opens its
# database through `database` runs on both backends (on PostgreSQL as a slow test: it starts a
# server). A module joins when all of it passes there; APPEALS_BOT_TEST_ALL_ON_POSTGRESQL=1 runs every
# module on both, to see what is left.
ON_POSTGRESQL = {
    "test_answers",
    "test_appeals",
    "test_db_deferred_failures",
    "test_deferred_writes",
    "test_invariant_checker",
    "test_list_pages",
    "test_privacy_ledger",
    "test_readers",
    "test_stations",
    "test_two_processes",
    "test_usecases",
}


def pytest_generate_tests(metafunc) -> None:
    """Each test that asks for `backend` (through `database` or `storage`) runs once per backend its module passes on."""
    if "backend" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    backends = ["sqlite"]
    if module in ON_POSTGRESQL or os.environ.get("APPEALS_BOT_TEST_ALL_ON_POSTGRESQL"):
        backends.append(pytest.param("postgresql", marks=pytest.mark.slow))
    metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request) -> str:
    """Which backend this run of the test is on: "sqlite" or "postgresql"."""
    return request.param


@pytest.fixture
def database(backend, tmp_path, request):
    """Where a fresh database for the test is: a SQLite file's path, or an empty PostgreSQL database's URL."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres_migrated_url")
    return tmp_path / "appeals.sqlite3"


def seen_by_another_connection(database, sql: str) -> list[tuple]:
    """A query's rows read on a connection of its own: what another process, or a restarted bot, would find."""
    if isinstance(database, str):  # a PostgreSQL URL
        with psycopg.connect(database) as conn:
            return [tuple(row) for row in conn.execute(sql)]
    conn = sqlite3.connect(database)
    try:
        return [tuple(row) for row in conn.execute(sql)]
    finally:
        conn.close()


@pytest.fixture
async def storage(database):
    """A storage on a fresh database, closed after the test."""
    opened = await open_storage(database)
    yield opened
    await opened.close()
