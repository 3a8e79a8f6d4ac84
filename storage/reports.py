"""What coordinators read: counts, averages, the three rates, overdue and reopened lists, hot spots."""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain import rates
from domain.events import Event, events_where
from domain.hotspots import HotSpot, Located, find_hotspots
from domain.lifecycle import TABLE, State
from domain.names import Timer
from domain.rates import Counts
from storage.db import Database
from storage.literals import literal, literals
from storage.models import from_ts, to_ts


@dataclass(frozen=True)
class Overdue:
    """An appeal past a deadline."""

    appeal_id: int
    kind: str  # triage, accept or handle
    unit_id: str | None
    due_at: datetime


@dataclass
class DigestData:
    """Everything a digest shows, for the period [start, end)."""

    start: datetime
    end: datetime
    new: int = 0
    accepted: int = 0
    resolved: int = 0
    closed: int = 0
    reopened: list[int] = field(default_factory=list)  # appeals redone (重办) in the period
    redone_twice: list[int] = field(default_factory=list)  # ... of them, those redone twice or more in all
    extended: int = 0  # appeals given more time (延期) in the period
    parts_added: int = 0  # co-handling units (协办) added in the period
    parts_done: int = 0  # co-handling parts finished in the period
    direct_answers: int = 0  # drafts settled by the knowledge base before filing (直接答复): never appeals
    by_state: dict[str, int] = field(default_factory=dict)  # by DIGEST_STATES, in their order
    by_category: dict[str, int] = field(default_factory=dict)
    by_unit: dict[str, int] = field(default_factory=dict)
    by_station: dict[str, int] = field(default_factory=dict)
    avg_accept: timedelta | None = None
    avg_resolve: timedelta | None = None
    counts: Counts = field(default_factory=Counts)
    overdue: list[Overdue] = field(default_factory=list)  # the first OVERDUE_SHOWN, soonest due first
    overdue_total: int = 0
    hotspots: list[HotSpot] = field(default_factory=list)
    per_day: list[tuple[datetime, int, int]] = field(default_factory=list)  # (day, new, resolved)


OVERDUE_SHOWN = 50

# The statements' names, as SQL literals from the events' declarations and the rates' definitions.
# Literal IN lists of event names keep SQLite on the ledger's (event, at) index (bench/digest.py).
_RATINGS = literals(rates.RATINGS)
_SATISFIED = literals(rates.RATED_SATISFIED)
_FAIRLY_SATISFIED = literals(rates.RATED_FAIRLY_SATISFIED)
_SENT_TO_UNIT = literals(rates.SENT_TO_UNIT)
_ACCEPT = literal(rates.ACCEPTED)
_NOT_ASKED = literals(rates.NOT_ASKED)
_SOLVED = literals(rates.SOLVED)
_RESOLVE = literal(Event.RESOLVE)
_REOPENING = literals(events_where(lambda rule: rule.reopens))
_EXTENDING = literals(events_where(lambda rule: rule.grants_extension))
_CLOSED = literal(State.CLOSED)
_HANDLING = literal(State.HANDLING)
# The deadlines staff and coordinators must meet (the courier's rating is not theirs to miss).
OVERDUE_KINDS = literals((Timer.TRIAGE, Timer.ACCEPT, Timer.HANDLE))
_TIMER_ACCEPT = literal(Timer.ACCEPT)

# The events that close an appeal, from the lifecycle table. Naming them lets "closed in the period"
# use the ledger's (event, at) index; on to_state alone it read the whole ledger (bench/digest.py).
_CLOSING = literals({t.event for t in TABLE.values() if t.to is State.CLOSED})


class Standing(StrEnum):
    """Where an appeal stands in a digest: its state, a handling one split the way its card reads."""

    COLLECTING = State.COLLECTING.value
    ASSESSING = State.ASSESSING.value
    ASSIGNED = "assigned"  # handling, not yet accepted
    ACCEPTED = "accepted"
    AWAITING_COURIER = "awaiting_courier"  # handling, waiting for the courier's answer
    FEEDBACK = State.FEEDBACK.value
    CLOSED = State.CLOSED.value


# Where the period's new appeals stand now, in the loop's order.
DIGEST_STATES = tuple(Standing)
_DIGEST_STATE = (
    f"CASE WHEN state = {_HANDLING} AND awaiting_courier = 1 THEN {literal(Standing.AWAITING_COURIER)}"
    f" WHEN state = {_HANDLING} AND accepted = 1 THEN {literal(Standing.ACCEPTED)}"
    f" WHEN state = {_HANDLING} THEN {literal(Standing.ASSIGNED)} ELSE state END"
)


def _tuples(conn: sqlite3.Connection, sql: str, params: tuple) -> sqlite3.Cursor:
    """A query's rows as plain tuples: a reader's sqlite3.Row costs about a microsecond more a row,
    which thousands of rows turn into milliseconds of the digest (bench/digest.py)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


def _by_state(conn: sqlite3.Connection, start: int, end: int) -> dict[str, int]:
    counts = _grouped(conn, _DIGEST_STATE, start, end)
    return {state: counts[state] for state in DIGEST_STATES if state in counts}


def _grouped(conn: sqlite3.Connection, column: str, start: int, end: int) -> dict[str, int]:
    rows = conn.execute(
        f"SELECT coalesce({column}, '-') AS k, count(*) FROM appeals"
        " WHERE created_at >= ? AND created_at < ? GROUP BY k ORDER BY count(*) DESC, k",
        (start, end),
    )
    return {r[0]: r[1] for r in rows}


def _event_count(conn: sqlite3.Connection, events: tuple[str, ...], start: int, end: int) -> int:
    marks = ", ".join("?" * len(events))
    sql = f"SELECT count(DISTINCT appeal_id) FROM events WHERE event IN ({marks}) AND at >= ? AND at < ?"
    return conn.execute(sql, (*events, start, end)).fetchone()[0]


def _average(conn: sqlite3.Connection, sql: str, params: tuple) -> timedelta | None:
    value = conn.execute(sql, params).fetchone()[0]
    return None if value is None else timedelta(seconds=round(value))


def _counts(conn: sqlite3.Connection, start: int, end: int) -> Counts:
    # An accept after the period's end is not counted: a digest says the same whenever it is read.
    # The unary + keeps SQLite on the appeal's own index (events_appeal); offered `at < ?`, it
    # chose the (event, at) index and read every accept before the end for each appeal (270 ms
    # instead of 0.4 on bench/digest.py's quick fixture).
    # An appeal whose unit still has time to accept it is not judged yet: it is left out until it
    # is accepted or its acceptance deadline passes (an armed accept timer due after the end).
    assigned, in_time = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events x WHERE x.appeal_id = a.appeal_id"
        f" AND x.event = {_ACCEPT} AND x.on_time = 1 AND +x.at < ?))"
        f" FROM (SELECT DISTINCT appeal_id FROM events WHERE event IN ({_SENT_TO_UNIT})"
        " AND at >= ? AND at < ?) a"
        " WHERE NOT EXISTS (SELECT 1 FROM timers t WHERE t.appeal_id = a.appeal_id"
        f" AND t.kind = {_TIMER_ACCEPT} AND t.due_at >= ?)"
        f" OR EXISTS (SELECT 1 FROM events x WHERE x.appeal_id = a.appeal_id AND x.event = {_ACCEPT} AND +x.at < ?)",
        (end, start, end, end, end),
    ).fetchone()
    # Each co-handling unit (协办) signing for its part counts as a unit's acceptance too, judged alike:
    # once signed or once its signing deadline has passed.
    parts, parts_in_time = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE accept_on_time = 1 AND accepted_at < ?) FROM cohandlers"
        " WHERE added_at >= ? AND added_at < ? AND (accept_due < ? OR accepted_at < ?)",
        (end, start, end, end, end),
    ).fetchone()
    assigned, in_time = assigned + parts, in_time + parts_in_time
    asked, solved = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE a.outcome IN ({_SOLVED})) FROM events e"
        f" JOIN appeals a ON a.id = e.appeal_id WHERE e.event IN ({_CLOSING}) AND e.to_state = {_CLOSED}"
        " AND e.at >= ? AND e.at < ?"
        f" AND a.outcome NOT IN ({_NOT_ASKED})",
        (start, end),
    ).fetchone()
    # Each appeal rated in the period counts once, by its last rating by the period's end: "not
    # solved", then "satisfied" after the unit's second try, is one satisfied appeal.
    rated, satisfied, fair = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE last IN ({_SATISFIED})),"
        f" count(*) FILTER (WHERE last IN ({_FAIRLY_SATISFIED}))"
        " FROM (SELECT (SELECT y.event FROM events y WHERE y.appeal_id = r.appeal_id"
        f" AND y.event IN ({_RATINGS}) AND +y.at < ? ORDER BY y.id DESC LIMIT 1) AS last"
        f" FROM (SELECT DISTINCT appeal_id FROM events WHERE event IN ({_RATINGS}) AND at >= ? AND at < ?) r) lasts",
        (end, start, end),
    ).fetchone()
    return Counts(assigned, in_time, asked, solved, rated, satisfied, fair)


class Reports:
    """Read-only reporting queries, each on indexed columns."""

    def __init__(self, db: Database, zone, min_appeals: int = 3, radius_m: float = 500.0) -> None:
        self._db = db
        self._zone = zone
        self.min_appeals = min_appeals
        self.radius_m = radius_m

    async def digest(self, start: datetime, end: datetime, now: datetime, with_days: bool = True) -> DigestData:
        """The digest of [start, end), with overdue deadlines as of `now` and hot spots of the week to `end`.

        Its two halves (what the ledger says, what the appeals say) run side by side, each on a
        read-only connection of its own.
        """
        s, e = to_ts(start), to_ts(end)

        def from_the_ledger(conn: sqlite3.Connection) -> dict[str, Any]:
            # Each appeal resolved in the period once, at its last resolution in it (a reopened
            # appeal may be resolved twice): the count, the average and the chart's days agree.
            # A span is never below zero, even where a wall clock that went back dated an event
            # before the filing (the ledger's order is the truth): one such span would pull the
            # average down, or below zero.
            resolutions = _tuples(
                conn,
                "SELECT r.at, max(0, r.at - a.created_at) FROM (SELECT appeal_id, max(at) AS at FROM events"
                f" WHERE event = {_RESOLVE} AND at >= ? AND at < ? GROUP BY appeal_id) r"
                " JOIN appeals a ON a.id = r.appeal_id",
                (s, e),
            ).fetchall()
            return {
                "accepted": _event_count(conn, (rates.ACCEPTED.value,), s, e),
                "resolved": len(resolutions),
                "resolved_at": sorted(at for at, _ in resolutions),
                "avg_resolve": (
                    timedelta(seconds=round(sum(took for _, took in resolutions) / len(resolutions)))
                    if resolutions
                    else None
                ),
                "closed": conn.execute(
                    f"SELECT count(*) FROM events WHERE event IN ({_CLOSING}) AND to_state = {_CLOSED}"
                    " AND at >= ? AND at < ?",
                    (s, e),
                ).fetchone()[0],
                "reopened": [
                    r[0]
                    for r in conn.execute(
                        f"SELECT DISTINCT appeal_id FROM events WHERE event IN ({_REOPENING}) AND at >= ? AND at < ?"
                        " ORDER BY appeal_id",
                        (s, e),
                    )
                ],
                "redone_twice": [
                    r[0]
                    for r in conn.execute(
                        f"SELECT DISTINCT e.appeal_id FROM events e JOIN appeals a ON a.id = e.appeal_id"
                        f" WHERE e.event IN ({_REOPENING}) AND e.at >= ? AND e.at < ? AND a.reopens >= 2"
                        " ORDER BY e.appeal_id",
                        (s, e),
                    )
                ],
                "extended": conn.execute(
                    f"SELECT count(DISTINCT appeal_id) FROM events WHERE event IN ({_EXTENDING}) AND at >= ? AND at < ?",
                    (s, e),
                ).fetchone()[0],
                "parts_added": conn.execute(
                    "SELECT count(*) FROM cohandlers WHERE added_at >= ? AND added_at < ?", (s, e)
                ).fetchone()[0],
                "parts_done": conn.execute(
                    "SELECT count(*) FROM cohandlers WHERE done_at >= ? AND done_at < ?", (s, e)
                ).fetchone()[0],
                "avg_accept": _average(
                    conn,
                    "SELECT avg(max(0, x.at - (SELECT y.at FROM events y WHERE y.appeal_id = x.appeal_id"
                    f" AND y.event IN ({_SENT_TO_UNIT}) AND y.id < x.id ORDER BY y.id DESC LIMIT 1))) FROM events x"
                    f" WHERE x.event = {_ACCEPT} AND x.at >= ? AND x.at < ?",
                    (s, e),
                ),
                "counts": _counts(conn, s, e),
            }

        def from_the_appeals(conn: sqlite3.Connection) -> dict[str, Any]:
            return {
                "new": conn.execute(
                    "SELECT count(*) FROM appeals WHERE created_at >= ? AND created_at < ?", (s, e)
                ).fetchone()[0],
                "direct_answers": conn.execute(
                    "SELECT count(*) FROM direct_answers WHERE at >= ? AND at < ?", (s, e)
                ).fetchone()[0],
                "by_state": _by_state(conn, s, e),
                "by_category": _grouped(conn, "category", s, e),
                "by_unit": _grouped(conn, "unit_id", s, e),
                "by_station": {k: v for k, v in _grouped(conn, "station_id", s, e).items() if k != "-"},
                "overdue": [
                    Overdue(r["appeal_id"], r["kind"], r["unit_id"], from_ts(r["due_at"]))
                    for r in conn.execute(
                        "SELECT t.appeal_id, t.kind, t.due_at, a.unit_id FROM timers t JOIN appeals a ON a.id = t.appeal_id"
                        f" WHERE t.due_at < ? AND t.kind IN ({OVERDUE_KINDS}) ORDER BY t.due_at LIMIT ?",
                        (to_ts(now), OVERDUE_SHOWN),
                    )
                ],
                "overdue_total": conn.execute(
                    f"SELECT count(*) FROM timers WHERE due_at < ? AND kind IN ({OVERDUE_KINDS})",
                    (to_ts(now),),
                ).fetchone()[0],
                "located": self._located(conn, e),
                "per_day": self._per_day(conn, start, end) if with_days else [],
            }

        ledger, appeals = await self._db.read_side_by_side([from_the_ledger, from_the_appeals])
        # Clustered here, once both halves are done: Python holding the GIL on a reader thread made
        # each of the other half's statements wait for it on finishing (bench/digest.py).
        hotspots = find_hotspots(appeals.pop("located"), self.min_appeals, self.radius_m)
        resolved_at = ledger.pop("resolved_at")
        appeals["per_day"] = [
            (day, new, bisect_left(resolved_at, to_ts(following)) - bisect_left(resolved_at, to_ts(day)))
            for day, following, new in appeals["per_day"]
        ]
        return DigestData(start, end, **ledger, **appeals, hotspots=hotspots)

    def _located(self, conn: sqlite3.Connection, end: int) -> list[Located]:
        """The week's located appeals to `end` that no hot spot has taken yet."""
        week = end - 7 * 86400
        rows = _tuples(
            conn,
            "SELECT id, category, station_id, lat, lon FROM appeals WHERE created_at >= ? AND created_at < ?"
            " AND (station_id IS NOT NULL OR lat IS NOT NULL) AND courier_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM appeal_links l WHERE l.child_id = appeals.id AND l.kind = 'hotspot')",
            (week, end),
        )
        return list(map(Located._make, rows))

    async def hotspots(self, end: datetime) -> list[HotSpot]:
        """The hot spots of the week to `end`."""
        located = await self._db.run(lambda conn: self._located(conn, to_ts(end)), long=True)
        return find_hotspots(located, self.min_appeals, self.radius_m)

    def _per_day(
        self, conn: sqlite3.Connection, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, int]]:
        """Each local day of [start, end): its part of the period and the appeals filed in it."""
        days = []
        day = start.astimezone(self._zone).replace(hour=0, minute=0, second=0, microsecond=0)
        while day < end:
            # The next local midnight, across a change of UTC offset too.
            following = datetime.combine(day.date() + timedelta(days=1), day.time(), tzinfo=self._zone)
            s, e = max(day, start), min(following, end)
            new = conn.execute(
                "SELECT count(*) FROM appeals WHERE created_at >= ? AND created_at < ?", (to_ts(s), to_ts(e))
            ).fetchone()[0]
            days.append((s.astimezone(self._zone), e, new))
            day = following
        return days
