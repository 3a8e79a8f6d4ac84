"""One object that opens the database and hands out the repositories."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from domain.calendar import WorkingCalendar
from domain.ladder import LadderPolicy
from storage.activities import Activities
from storage.answers import Answers
from storage.appeals import Appeals, SpansFor
from storage.canned_replies import CannedReplies
from storage.db import Database
from storage.desks import Desks
from storage.dialogs import Dialogs
from storage.filing_limits import FilingLimitsStore
from storage.health import Health
from storage.ledger import Ledger
from storage.locations import Location, parse_location
from storage.outbox import Outbox
from storage.outreach import Outreach
from storage.people import People
from storage.people_actions import PeopleActions
from storage.privacy import Privacy
from storage.reports import Reports
from storage.stations import Stations
from storage.surveys import Surveys
from storage.timers import Timers
from storage.updates import HandledUpdates
from storage.wishes import Wishes


async def open_database(where: str | Path | Location) -> Database:
    """Open and migrate the database `where` names, on the backend it names: a path is a SQLite file."""
    if isinstance(where, Path):
        where = Location("sqlite", str(where))
    elif isinstance(where, str):
        where = parse_location(where)
    if where.backend == "postgresql":
        from storage.postgres import PostgresDatabase  # psycopg is the postgresql extra's: only when asked

        return await PostgresDatabase.open(where.target)
    return await Database.open(where.target)


class Storage:
    """The open database and its repositories."""

    def __init__(
        self, db: Database, calendar: WorkingCalendar, spans_for: SpansFor, ladder: LadderPolicy = LadderPolicy()
    ) -> None:
        self.db = db
        self.appeals = Appeals(db, calendar, spans_for, ladder)
        self.cohandling = self.appeals.cohandling
        self.timers = Timers(db, self.appeals, calendar, ladder)
        self.reports = Reports(db, calendar.tz)
        self.updates = HandledUpdates(db)
        self.people = People(db)
        self.dialogs = Dialogs(db)
        self.stations = Stations(db)
        self.outbox = Outbox(db)
        self.ledger = Ledger(db)
        self.people_actions = PeopleActions(db)
        self.privacy = Privacy(db, self.appeals, erased=self.people_actions.forget_cache)
        self.filing_limits = FilingLimitsStore(db)
        self.canned_replies = CannedReplies(db)
        self.desks = Desks(db)
        self.answers = Answers(db)
        self.outreach = Outreach(db)
        self.activities = Activities(db)
        self.surveys = Surveys(db)
        self.wishes = Wishes(db)
        self.health = Health(db)

    @classmethod
    async def open(
        cls,
        where: str | Path | Location,
        calendar: WorkingCalendar,
        spans_for: SpansFor,
        ladder: LadderPolicy = LadderPolicy(),
    ) -> Storage:
        """Open and migrate the database `where` names: a SQLite file's path, a URL, or a Location."""
        return cls(await open_database(where), calendar, spans_for, ladder)

    def turn(self, keys: Iterable[str]) -> AbstractAsyncContextManager[None]:
        """Hold an update's ordering keys against other workers on this database while it is handled."""
        return self.db.turn(keys)

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()
