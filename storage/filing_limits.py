"""Filing limits in the database: how often each person filed lately, and whom a coordinator exempted."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime

from domain.filing_limits import LONGEST, FilingLimited, FilingLimits, Refusal, refusal
from storage.db import Database
from storage.models import from_ts, to_ts
from storage.people_actions import PeopleAction, record_in


def _filed(conn: sqlite3.Connection, courier_id: int, now: datetime) -> list[datetime]:
    since = to_ts(now - LONGEST)
    rows = conn.execute(
        "SELECT created_at FROM appeals WHERE courier_id = ? AND created_at > ?", (courier_id, since)
    ).fetchall()
    return [from_ts(row[0]) for row in rows]


def _exempt(conn: sqlite3.Connection, courier_id: int) -> bool:
    row = conn.execute("SELECT filing_unlimited_by FROM people WHERE telegram_id = ?", (courier_id,)).fetchone()
    return row is not None and row[0] is not None


def refusal_in(conn: sqlite3.Connection, courier_id: int, now: datetime, limits: FilingLimits) -> Refusal | None:
    """Whether the limits refuse one more filing by `courier_id` now, read inside the caller's transaction."""
    if _exempt(conn, courier_id):
        return None
    return refusal(_filed(conn, courier_id, now), now, limits)


def check_in(conn: sqlite3.Connection, courier_id: int, now: datetime, limits: FilingLimits) -> None:
    """Raise FilingLimited if the limits refuse one more filing now (inside the submission's transaction,
    so two submissions at once are counted one after the other)."""
    refused = refusal_in(conn, courier_id, now, limits)
    if refused is not None:
        raise FilingLimited(refused)


@dataclass(frozen=True)
class Standing:
    """A person a coordinator may lift the limits for (or has): their latest appeal, and how many they filed."""

    courier_id: int
    latest_appeal: int
    filed_today: int  # in the last 24 hours
    lifted: bool
    refused_until: datetime | None = None  # when a limit that refuses them now lets them file again


class FilingLimitsStore:
    """Reads and changes of the filing limits."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def refusal(self, courier_id: int, now: datetime, limits: FilingLimits) -> Refusal | None:
        """Whether the limits would refuse a filing by `courier_id` now (asked before a draft is begun)."""
        return await self._db.run(lambda conn: refusal_in(conn, courier_id, now, limits))

    async def courier_of(self, appeal_id: int, now: datetime) -> Standing | None:
        """The person who filed appeal `appeal_id`, with their standing; None if there is no such appeal."""
        row = await self._db.fetchone(
            "SELECT courier_id FROM appeals WHERE id = ? AND courier_id IS NOT NULL", (appeal_id,)
        )
        if row is None:
            return None
        found = await self._standings(now, "a.courier_id = ?", (row[0],))
        return found[0] if found else None

    async def listed(self, now: datetime, limits: FilingLimits) -> list[Standing]:
        """The people a limit refuses now, and those whose limits are lifted; the latest filers first."""
        rows = await self._db.fetchall(
            "SELECT courier_id, created_at FROM appeals WHERE courier_id IS NOT NULL AND created_at > ?",
            (to_ts(now - LONGEST),),
        )
        filed: dict[int, list[datetime]] = {}
        for row in rows:
            filed.setdefault(row[0], []).append(from_ts(row[1]))
        standings = await self._standings(now, "1 = 1", ())
        refused = {s.courier_id: refusal(filed.get(s.courier_id, []), now, limits) for s in standings}
        return [
            replace(s, refused_until=None if s.lifted or refused[s.courier_id] is None else refused[s.courier_id].until)
            for s in standings
            if s.lifted or refused[s.courier_id] is not None
        ]

    async def _standings(self, now: datetime, where: str, params: tuple[int, ...]) -> list[Standing]:
        rows = await self._db.fetchall(
            "SELECT a.courier_id, max(a.id) AS latest, count(*) FILTER (WHERE a.created_at > ?) AS today,"
            " p.filing_unlimited_by IS NOT NULL AS lifted"
            " FROM appeals a LEFT JOIN people p ON p.telegram_id = a.courier_id"
            f" WHERE a.courier_id IS NOT NULL AND ({where})"
            " AND (a.created_at > ? OR p.filing_unlimited_by IS NOT NULL)"
            " GROUP BY a.courier_id, p.filing_unlimited_by ORDER BY latest DESC",
            (to_ts(now - LONGEST), *params, to_ts(now - LONGEST)),
        )
        return [Standing(r["courier_id"], r["latest"], r["today"] or 0, bool(r["lifted"])) for r in rows]

    async def set_lifted(
        self,
        courier_id: int,
        coordinator_id: int | None,
        now: datetime,
        *,
        actor_id: int | None = None,
        appeal_id: int | None = None,
    ) -> bool:
        """Lift the limits for `courier_id` (by `coordinator_id`), or apply them again (None, by `actor_id`);
        whether that changed anything. A change goes into the ledger of people actions, with the appeal
        that named the person."""

        def work(conn: sqlite3.Connection) -> bool:
            if coordinator_id is None:
                changed = conn.execute(
                    "UPDATE people SET filing_unlimited_by = NULL, filing_unlimited_at = NULL"
                    " WHERE telegram_id = ? AND filing_unlimited_by IS NOT NULL",
                    (courier_id,),
                )
            else:
                changed = conn.execute(
                    "UPDATE people SET filing_unlimited_by = ?, filing_unlimited_at = ?"
                    " WHERE telegram_id = ? AND filing_unlimited_by IS NULL",
                    (coordinator_id, to_ts(now), courier_id),
                )
            if changed.rowcount != 1:
                return False
            action = PeopleAction.RESTORE if coordinator_id is None else PeopleAction.LIFT
            record_in(conn, action, courier_id, actor_id=coordinator_id or actor_id, now=now, appeal_id=appeal_id)
            return True

        return await self._db.write(work)

    async def lifted_by(self, courier_id: int) -> tuple[int, datetime] | None:
        """Who lifted the limits for `courier_id`, and when; None while they apply."""
        row = await self._db.fetchone(
            "SELECT filing_unlimited_by, filing_unlimited_at FROM people WHERE telegram_id = ?", (courier_id,)
        )
        if row is None or row[0] is None:
            return None
        return row[0], from_ts(row[1])
