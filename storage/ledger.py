"""The ledger (台账) export: one row per appeal filed in a period, with its timestamps, in one query."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.events import Event
from domain.lifecycle import State
from domain.rates import RATINGS
from storage.db import Database
from storage.dialect import byte_length, json_rows
from storage.literals import literal, literals
from storage.models import from_ts, to_ts

_RATINGS = f"({literals(RATINGS)})"
_SUBMIT, _ACCEPT, _SEND_BACK, _RESOLVE = (
    literal(e) for e in (Event.SUBMIT, Event.ACCEPT, Event.SEND_BACK, Event.RESOLVE)
)
_CLOSED = literal(State.CLOSED)

# Events are folded per appeal in one pass; the last rating comes from the events_appeal index.
# {results} and {cohandlers} are JSON aggregates, spelled per backend (_query).
_QUERY = f"""
WITH chosen AS (SELECT * FROM appeals WHERE created_at >= :start AND created_at < :end),
folded AS (
    SELECT appeal_id,
        min(CASE WHEN event = {_SUBMIT} THEN at END) AS submitted,
        min(CASE WHEN event = {_ACCEPT} THEN at END) AS accepted_at,
        group_concat(CASE WHEN event = {_SEND_BACK} THEN at END) AS send_backs,
        max(CASE WHEN event = {_RESOLVE} THEN at END) AS resolved,
        max(CASE WHEN event IN {_RATINGS} THEN at END) AS rated,
        max(CASE WHEN to_state = {_CLOSED} THEN at END) AS closed,
        min(CASE WHEN event = {_ACCEPT} THEN on_time END) AS accept_on_time,
        min(CASE WHEN event = {_RESOLVE} THEN on_time END) AS resolve_on_time
    FROM events WHERE appeal_id IN (SELECT id FROM chosen)
    GROUP BY appeal_id
)
SELECT c.id, c.category, c.unit_id, u.name_zh AS unit_zh, u.name_en AS unit_en, c.station_id,
    s.name AS station_name, s.name_en AS station_name_en, c.priority, c.state, c.outcome, c.accepted, c.awaiting_courier, c.reopens, c.extensions,
    c.created_at, f.submitted, f.accepted_at, f.send_backs, f.resolved, f.rated, f.closed,
    f.accept_on_time, f.resolve_on_time,
    (SELECT r.event FROM events r WHERE r.appeal_id = c.id AND r.event IN {_RATINGS}
        ORDER BY r.id DESC LIMIT 1) AS rating,
    c.description, c.place,
    (SELECT {{results}} FROM (
        SELECT at, note FROM events WHERE appeal_id = c.id AND event = {_RESOLVE} AND note IS NOT NULL ORDER BY id
    ) r) AS results,
    (SELECT {{cohandlers}} FROM (
        SELECT unit_id, state FROM cohandlers WHERE appeal_id = c.id ORDER BY added_id
    ) x LEFT JOIN units cu ON cu.id = x.unit_id) AS cohandlers
FROM chosen c
LEFT JOIN folded f ON f.appeal_id = c.id
LEFT JOIN units u ON u.id = c.unit_id
LEFT JOIN stations s ON s.id = c.station_id
ORDER BY c.id
"""


def _query(conn: Any) -> str:
    return _QUERY.format(
        results=json_rows(conn, "r.at", "r.note"),
        cohandlers=json_rows(conn, "x.unit_id", "cu.name_zh", "cu.name_en", "x.state"),
    )


# What sizes an export before it is built: how many appeals, and the bytes of their people's texts
# ({description}, {place} and {note}: each text's length in bytes, spelled per backend).
_SIZE = f"""
WITH chosen AS (SELECT id, description, place FROM appeals WHERE created_at >= :start AND created_at < :end)
SELECT count(*) AS appeals,
    coalesce(sum({{description}} + coalesce({{place}}, 0)), 0)
    + coalesce((SELECT sum({{note}}) FROM events
        WHERE event = {_RESOLVE} AND note IS NOT NULL AND appeal_id IN (SELECT id FROM chosen)), 0) AS text_bytes
FROM chosen
"""


@dataclass(frozen=True)
class LedgerSize:
    """How large a period's ledger is before it is read: appeals, and bytes of their descriptions and results."""

    appeals: int
    text_bytes: int


# A plain dataclass, not a pydantic row: an export may hold a million of them.
@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One appeal in the ledger export."""

    number: int
    category: str
    unit_id: str | None
    unit_zh: str | None
    unit_en: str | None
    station_id: str | None
    station_name: str | None
    station_name_en: str | None
    priority: str
    state: str
    outcome: str | None
    accepted: bool
    awaiting_courier: bool
    reopens: int
    submitted: datetime
    accepted_at: datetime | None
    send_backs: tuple[datetime, ...]
    resolved: datetime | None
    rated: datetime | None
    closed: datetime | None
    accept_on_time: bool | None
    resolve_on_time: bool | None
    rating: str | None
    description: str = ""
    place: str | None = None  # typed by the courier when no station was picked
    results: tuple[tuple[datetime, str], ...] = ()  # every result text a unit gave, with when, oldest first
    extensions: int = 0  # extensions a coordinator approved (延期)
    # Its co-handling units (协办), in the order added: (unit id, Chinese name, English name, its part's state).
    cohandlers: tuple[tuple[str, str | None, str | None, str], ...] = ()


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _line(row: sqlite3.Row) -> LedgerLine:
    send_backs = sorted(int(t) for t in row["send_backs"].split(",")) if row["send_backs"] else []
    return LedgerLine(
        number=row["id"],
        category=row["category"],
        unit_id=row["unit_id"],
        unit_zh=row["unit_zh"],
        unit_en=row["unit_en"],
        station_id=row["station_id"],
        station_name=row["station_name"],
        station_name_en=row["station_name_en"],
        priority=row["priority"],
        state=row["state"],
        outcome=row["outcome"],
        accepted=bool(row["accepted"]),
        awaiting_courier=bool(row["awaiting_courier"]),
        reopens=row["reopens"],
        submitted=from_ts(row["submitted"] or row["created_at"]),
        accepted_at=from_ts(row["accepted_at"]),
        send_backs=tuple(from_ts(t) for t in send_backs),
        resolved=from_ts(row["resolved"]),
        rated=from_ts(row["rated"]),
        closed=from_ts(row["closed"]),
        accept_on_time=_flag(row["accept_on_time"]),
        resolve_on_time=_flag(row["resolve_on_time"]),
        rating=row["rating"],
        description=row["description"],
        place=row["place"],
        results=tuple((from_ts(at), note) for at, note in json.loads(row["results"] or "[]")),
        extensions=row["extensions"],
        cohandlers=tuple(tuple(part) for part in json.loads(row["cohandlers"] or "[]")),
    )


def _size(conn: Any) -> str:
    return _SIZE.format(**{column: byte_length(conn, column) for column in ("description", "place", "note")})


class Ledger:
    """Read-only queries over appeals and their events for exports."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def lines(self, start: datetime, end: datetime) -> list[LedgerLine]:
        """Every appeal filed in [start, end), oldest number first; read on a reader's thread, beside the writer."""
        params = {"start": to_ts(start), "end": to_ts(end)}
        (lines,) = await self._db.read_side_by_side(
            [lambda conn: [_line(r) for r in conn.execute(_query(conn), params)]]
        )
        return lines

    async def size(self, start: datetime, end: datetime) -> LedgerSize:
        """How many appeals were filed in [start, end) and how many bytes their texts take."""
        params = {"start": to_ts(start), "end": to_ts(end)}
        (row,) = await self._db.read_side_by_side([lambda conn: conn.execute(_size(conn), params).fetchone()])
        return LedgerSize(row["appeals"], row["text_bytes"])
