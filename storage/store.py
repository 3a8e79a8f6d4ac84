"""One object that opens the database and hands out the repositories."""

from __future__ import annotations

from pathlib import Path

from domain.calendar import WorkingCalendar
from storage.appeals import Appeals, SpansFor
from storage.db import Database
from storage.dialogs import Dialogs
from storage.outbox import Outbox
from storage.people import People
from storage.stations import Stations


class Storage:
    """The open database and its repositories."""

    def __init__(self, db: Database, calendar: WorkingCalendar, spans_for: SpansFor) -> None:
        self.db = db
        self.appeals = Appeals(db, calendar, spans_for)
        self.people = People(db)
        self.dialogs = Dialogs(db)
        self.stations = Stations(db)
        self.outbox = Outbox(db)

    @classmethod
    async def open(cls, path: str | Path, calendar: WorkingCalendar, spans_for: SpansFor) -> Storage:
        """Open and migrate the database file at `path`."""
        return cls(await Database.open(path), calendar, spans_for)

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()
