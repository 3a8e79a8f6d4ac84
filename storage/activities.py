"""Activities with sign-up: publish, sign up or wait, cancel (the first waiting moves up), remind, attendance.

Every sign-up and cancellation is one transaction on the single writer, and two triggers of the
schema refuse a place past the activity's count whatever the code does: capacity is never exceeded.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.activities import ActivityRecord, in_language
from storage.db import Database
from storage.models import from_ts, to_ts

# Outbox templates (catalog keys) of the notices this module queues; handlers/activities.py renders them.
PROMOTED = "activities.notice_promoted"
REMINDER = "activities.notice_reminder"
# The reminder goes this long before the activity starts (or at once, for one published later than that).
REMIND_BEFORE = timedelta(hours=24)


@dataclass(frozen=True)
class Activity:
    """A published activity and how many have signed up and are waiting."""

    id: int
    title: str
    details: str
    starts_at: datetime
    station_id: str | None
    address: str
    lat: float | None
    lon: float | None
    places: int
    audience: str
    language: str | None
    signup_until: datetime
    taken: int = 0
    waiting: int = 0
    title_en: str = ""
    details_en: str = ""
    address_en: str = ""

    def title_for(self, lang: str) -> str:
        """The title a reader of `lang` sees: the English one for English readers where there is one."""
        return in_language(self.title, self.title_en, lang)

    def details_for(self, lang: str) -> str:
        """The details a reader of `lang` sees, the English ones where there are some."""
        return in_language(self.details, self.details_en, lang)

    def address_for(self, lang: str) -> str:
        """The address a reader of `lang` sees, the English one where there is one."""
        return in_language(self.address, self.address_en, lang)

    @property
    def free(self) -> int:
        """Places still free."""
        return max(0, self.places - self.taken)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Activity:
        """Build from an `activities` row with its `taken` and `waiting` counts."""
        keys = row.keys()
        return cls(
            id=row["id"],
            title=row["title"],
            details=row["details"],
            starts_at=from_ts(row["starts_at"]),
            station_id=row["station_id"],
            address=row["address"],
            lat=row["lat"],
            lon=row["lon"],
            places=row["places"],
            audience=row["audience"],
            language=row["language"],
            signup_until=from_ts(row["signup_until"]),
            taken=row["taken"] if "taken" in keys else 0,
            waiting=row["waiting"] if "waiting" in keys else 0,
            title_en=row["title_en"],
            details_en=row["details_en"],
            address_en=row["address_en"],
        )


@dataclass(frozen=True)
class Signup:
    """One person's place or place in the queue."""

    id: int
    person_id: int
    name: str  # the Telegram first name they had when they signed up (for the coordinator's list)
    state: str  # "in" or "waiting"
    attended: bool | None


@dataclass(frozen=True)
class Joined:
    """What a sign-up tap did: "in", "waiting", "already_in", "already_waiting", "too_late", "gone"."""

    outcome: str
    position: int = 0  # on the waiting list, counted from 1


@dataclass(frozen=True)
class Left:
    """What a cancellation did: whether there was a sign-up (and which: "in" or "waiting"), and who moved up."""

    removed: bool
    promoted: int | None = None
    was: str | None = None


_COUNTS = (
    "SELECT a.*, (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.state = 'in') AS taken,"
    " (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.state = 'waiting') AS waiting"
    " FROM activities a"
)


def _insert(conn: sqlite3.Connection, record: ActivityRecord, by: int | None, ts: int) -> int:
    return conn.execute(
        "INSERT INTO activities (title, title_en, details, details_en, starts_at, station_id, address, address_en,"
        " lat, lon, places, audience, language, signup_until, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            record.title,
            record.title_en,
            record.details,
            record.details_en,
            to_ts(record.starts),
            record.station_id,
            record.address,
            record.address_en,
            record.lat,
            record.lon,
            record.places,
            record.audience,
            record.language,
            to_ts(record.signup_until),
            by,
            ts,
        ),
    ).fetchone()[0]


def _notice(conn: sqlite3.Connection, chat_id: int, template: str, *, activity_id: int, ts: int) -> None:
    conn.execute(
        "INSERT INTO outbox (chat_id, appeal_id, event_id, template, params, not_before, created_at)"
        " VALUES (?, NULL, NULL, ?, ?, ?, ?)",
        (chat_id, template, json.dumps({"activity": activity_id}), ts, ts),
    )


def _position(conn: sqlite3.Connection, activity_id: int, signup_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM activity_signups WHERE activity_id = ? AND state = 'waiting' AND id <= ?",
        (activity_id, signup_id),
    ).fetchone()[0]


def fill_free_places_in(conn: sqlite3.Connection, now: datetime) -> int:
    """Give places freed without a cancel (a courier who erased their data) to the first waiting; how many moved up."""
    ts = to_ts(now)
    short = conn.execute(
        "SELECT a.id, a.places - (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.state = 'in')"
        " FROM activities a WHERE a.starts_at > ? AND EXISTS"
        " (SELECT 1 FROM activity_signups s WHERE s.activity_id = a.id AND s.state = 'waiting')",
        (ts,),
    ).fetchall()
    moved = 0
    for activity_id, free in short:
        for _ in range(max(0, free)):
            if _promote(conn, activity_id, ts) is None:
                break
            moved += 1
    return moved


def remind_due_in(conn: sqlite3.Connection, now: datetime) -> int:
    """Queue the day-before reminder to everyone with a place, once per activity; the activities reminded."""
    ts = to_ts(now)
    due = conn.execute(
        "SELECT id FROM activities WHERE reminded = 0 AND starts_at > ? AND starts_at <= ?",
        (ts, to_ts(now + REMIND_BEFORE)),
    ).fetchall()
    for (activity_id,) in due:
        for (person_id,) in conn.execute(
            "SELECT person_id FROM activity_signups WHERE activity_id = ? AND state = 'in' ORDER BY id", (activity_id,)
        ).fetchall():
            _notice(conn, person_id, REMINDER, activity_id=activity_id, ts=ts)
        conn.execute("UPDATE activities SET reminded = 1 WHERE id = ?", (activity_id,))
    return len(due)


class Activities:
    """The activities and their sign-ups."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def publish(self, records: list[ActivityRecord], by: int | None, now: datetime) -> list[int]:
        """Publish every record in one transaction; their ids."""
        ts = to_ts(now)
        return await self._db.write(lambda conn: [_insert(conn, r, by, ts) for r in records])

    async def get(self, activity_id: int) -> Activity | None:
        """One activity with its counts."""
        row = await self._db.fetchone(_COUNTS + " WHERE a.id = ?", (activity_id,))
        return Activity.from_row(row) if row else None

    async def upcoming(self, now: datetime, limit: int = 20) -> list[Activity]:
        """Activities not yet started, soonest first."""
        rows = await self._db.fetchall(
            _COUNTS + " WHERE a.starts_at > ? ORDER BY a.starts_at, a.id LIMIT ?", (to_ts(now), limit)
        )
        return [Activity.from_row(r) for r in rows]

    async def recent(self, now: datetime, days: int = 7, limit: int = 20) -> list[Activity]:
        """Activities started within the last `days` days (their attendance is still being marked), newest first."""
        rows = await self._db.fetchall(
            _COUNTS + " WHERE a.starts_at <= ? AND a.starts_at > ? ORDER BY a.starts_at DESC, a.id LIMIT ?",
            (to_ts(now), to_ts(now - timedelta(days=days)), limit),
        )
        return [Activity.from_row(r) for r in rows]

    async def signup_of(self, activity_id: int, person_id: int) -> tuple[Signup, int] | None:
        """A person's sign-up and, when waiting, their place in the queue (from 1)."""

        def work(conn: sqlite3.Connection) -> tuple[Signup, int] | None:
            row = conn.execute(
                "SELECT * FROM activity_signups WHERE activity_id = ? AND person_id = ?", (activity_id, person_id)
            ).fetchone()
            if row is None:
                return None
            position = _position(conn, activity_id, row["id"]) if row["state"] == "waiting" else 0
            return _signup(row), position

        return await self._db.run(work)

    async def join(self, activity_id: int, person_id: int, name: str, now: datetime) -> Joined:
        """Take a place, or a place on the waiting list when all are taken; in one transaction."""
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> Joined:
            activity = conn.execute(
                "SELECT places, signup_until, starts_at FROM activities WHERE id = ?", (activity_id,)
            ).fetchone()
            if activity is None:
                return Joined("gone")
            row = conn.execute(
                "SELECT id, state FROM activity_signups WHERE activity_id = ? AND person_id = ?",
                (activity_id, person_id),
            ).fetchone()
            if row is not None:
                waiting = row["state"] == "waiting"
                return Joined(
                    "already_waiting" if waiting else "already_in",
                    _position(conn, activity_id, row["id"]) if waiting else 0,
                )
            if ts > activity["signup_until"] or ts >= activity["starts_at"]:
                return Joined("too_late")
            taken = conn.execute(
                "SELECT count(*) FROM activity_signups WHERE activity_id = ? AND state = 'in'", (activity_id,)
            ).fetchone()[0]
            state = "in" if taken < activity["places"] else "waiting"
            signup_id = conn.execute(
                "INSERT INTO activity_signups (activity_id, person_id, name, state, at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (activity_id, person_id, name, state, ts),
            ).fetchone()[0]
            return Joined(state, _position(conn, activity_id, signup_id) if state == "waiting" else 0)

        return await self._db.write(work)

    async def leave(self, activity_id: int, person_id: int, now: datetime) -> Left:
        """Give up a place (the first waiting takes it, and is told) or a place in the queue; in one transaction."""
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> Left:
            row = conn.execute(
                "DELETE FROM activity_signups WHERE activity_id = ? AND person_id = ? RETURNING state",
                (activity_id, person_id),
            ).fetchone()
            if row is None:
                return Left(False)
            if row["state"] != "in":
                return Left(True, was=row["state"])
            return Left(True, _promote(conn, activity_id, ts), was="in")

        return await self._db.write(work)

    async def roster(self, activity_id: int) -> list[Signup]:
        """Everyone signed up, then the waiting list, each in the order they tapped."""
        rows = await self._db.fetchall(
            "SELECT * FROM activity_signups WHERE activity_id = ? ORDER BY state = 'waiting', id", (activity_id,)
        )
        return [_signup(r) for r in rows]

    async def mark(self, activity_id: int, signup_id: int, attended: bool) -> Signup | None:
        """Mark whether someone with a place came; the sign-up, or None if it is not one with a place."""

        def work(conn: sqlite3.Connection) -> Signup | None:
            row = conn.execute(
                "UPDATE activity_signups SET attended = ? WHERE id = ? AND activity_id = ? AND state = 'in' RETURNING *",
                (int(attended), signup_id, activity_id),
            ).fetchone()
            return _signup(row) if row else None

        return await self._db.write(work)

    async def remind_due(self, now: datetime) -> int:
        """Fill places freed without a cancel, then queue the reminders that are due (see `remind_due_in`)."""

        def work(conn: sqlite3.Connection) -> int:
            fill_free_places_in(conn, now)
            return remind_due_in(conn, now)

        return await self._db.write(work)

    async def draft(self, telegram_id: int) -> tuple[str, dict[str, Any]] | None:
        """The publishing dialog's step and what was typed so far, if one is open."""
        row = await self._db.fetchone("SELECT step, data FROM activity_drafts WHERE telegram_id = ?", (telegram_id,))
        return (row["step"], json.loads(row["data"])) if row else None

    async def save_draft(self, telegram_id: int, step: str, data: dict[str, Any], now: datetime) -> None:
        """Keep the dialog's step and answers."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO activity_drafts (telegram_id, step, data, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET step = excluded.step, data = excluded.data,"
                " updated_at = excluded.updated_at",
                (telegram_id, step, json.dumps(data, ensure_ascii=False), to_ts(now)),
            )
        )

    async def drop_draft(self, telegram_id: int) -> bool:
        """Close the dialog; whether one was open."""
        return await self._db.write(
            lambda conn: conn.execute("DELETE FROM activity_drafts WHERE telegram_id = ?", (telegram_id,)).rowcount > 0
        )

    async def publish_draft(self, telegram_id: int, record: ActivityRecord, now: datetime) -> int | None:
        """Publish the dialog's activity and close the dialog, once (a second Confirm finds none); its id."""
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> int | None:
            if conn.execute("DELETE FROM activity_drafts WHERE telegram_id = ?", (telegram_id,)).rowcount == 0:
                return None
            return _insert(conn, record, telegram_id, ts)

        return await self._db.write(work)

    async def export_rows(self) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
        """Every activity with its counts and its station's names, and every sign-up with its activity, for the export."""

        def work(conn: sqlite3.Connection) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
            activities = conn.execute(
                _COUNTS.replace(
                    "SELECT a.*",
                    "SELECT a.*, st.name AS station_name, st.name_en AS station_name_en,"
                    " (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.attended = 1) AS came",
                    1,
                )
                + " LEFT JOIN stations st ON st.id = a.station_id ORDER BY a.starts_at, a.id"
            ).fetchall()
            signups = conn.execute(
                "SELECT s.*, a.title, a.title_en FROM activity_signups s JOIN activities a ON a.id = s.activity_id"
                " ORDER BY a.starts_at, a.id, s.state = 'waiting', s.id"
            ).fetchall()
            return activities, signups

        return await self._db.run(work, long=True)


def _promote(conn: sqlite3.Connection, activity_id: int, ts: int) -> int | None:
    """Give a freed place to the first on the waiting list and queue their notice; who it was."""
    first = conn.execute(
        "SELECT id, person_id FROM activity_signups WHERE activity_id = ? AND state = 'waiting' ORDER BY id LIMIT 1",
        (activity_id,),
    ).fetchone()
    if first is None:
        return None
    conn.execute("UPDATE activity_signups SET state = 'in', at = ? WHERE id = ?", (ts, first["id"]))
    _notice(conn, first["person_id"], PROMOTED, activity_id=activity_id, ts=ts)
    return first["person_id"]


def _signup(row: sqlite3.Row) -> Signup:
    attended = row["attended"]
    return Signup(row["id"], row["person_id"], row["name"], row["state"], None if attended is None else bool(attended))
