"""People and units: who is a courier, who is staff of which unit, who coordinates."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.appeals import tell_own_unit_in
from storage.db import Database
from storage.models import Person, Unit, from_ts, to_ts

ROLES = ("courier", "staff", "coordinator")


class PeopleError(Exception):
    """A change to people or units that cannot be made; the message says why."""


@dataclass(frozen=True)
class UnitSpec:
    """A unit as configured."""

    id: str
    kind: str
    name_zh: str
    name_en: str
    staff: tuple[int, ...] = ()


# The notice coordinators get when someone guessed too many wrong /join codes.
JOIN_BURST_NOTICE = "invites15.burst_coordinators"


@dataclass(frozen=True)
class Invite:
    """A one-time code that makes whoever redeems it staff of a unit."""

    code: str
    unit_id: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None


def _person(row: sqlite3.Row) -> Person:
    return Person.model_validate(dict(row))


def _revoke_orphaned(conn: sqlite3.Connection, now: datetime) -> int:
    """Revoke every live code whose maker is no longer a coordinator; how many were."""
    ts = to_ts(now)
    return conn.execute(
        "UPDATE invites SET revoked_at = ?, expires_at = min(expires_at, ? - 1)"
        " WHERE used_by IS NULL AND revoked_at IS NULL AND expires_at >= ?"
        " AND created_by NOT IN (SELECT telegram_id FROM people WHERE role = 'coordinator')",
        (ts, ts, ts),
    ).rowcount


class People:
    """The people and units repository."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int) -> Person | None:
        """One person by Telegram id."""
        row = await self._db.fetchone("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,))
        return None if row is None else _person(row)

    async def get_many(self, telegram_ids: set[int]) -> dict[int, Person]:
        """The people among `telegram_ids` who are known, by Telegram id."""
        ids = sorted(telegram_ids)
        rows = await self._db.fetchall(
            f"SELECT * FROM people WHERE telegram_id IN ({','.join('?' * len(ids))})", tuple(ids)
        )
        return {row["telegram_id"]: _person(row) for row in rows}

    async def seen(self, telegram_id: int, language: str | None, now: datetime) -> Person:
        """Record a person who wrote to the bot (a courier unless known otherwise); return them."""

        def work(conn: sqlite3.Connection) -> Person:
            conn.execute(
                "INSERT INTO people (telegram_id, language, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET reachable = 1",
                (telegram_id, language, to_ts(now)),
            )
            return _person(conn.execute("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,)).fetchone())

        return await self._db.write(work)

    async def unit(self, unit_id: str) -> Unit | None:
        """One unit by id."""
        row = await self._db.fetchone("SELECT * FROM units WHERE id = ?", (unit_id,))
        return None if row is None else Unit.model_validate(dict(row))

    async def active_units(self) -> list[Unit]:
        """Units that can be assigned appeals, departments first."""
        rows = await self._db.fetchall("SELECT * FROM units WHERE active = 1 ORDER BY kind, id")
        return [Unit.model_validate(dict(r)) for r in rows]

    async def set_reachable(self, telegram_id: int, reachable: bool) -> bool:
        """Mark whether messages reach this person (False after they blocked the bot); True if it changed."""
        return await self._db.write(
            lambda conn: (
                conn.execute(
                    "UPDATE people SET reachable = ? WHERE telegram_id = ? AND reachable != ?",
                    (int(reachable), telegram_id, int(reachable)),
                ).rowcount
                == 1
            )
        )

    async def create_invite(
        self, code: str, unit_id: str, created_by: int, *, now: datetime, expires: datetime
    ) -> None:
        """Store a one-time code that makes whoever redeems it staff of `unit_id`."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO invites (code, unit_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (code, unit_id, created_by, to_ts(now), to_ts(expires)),
            )
        )

    async def redeem_invite(self, code: str, telegram_id: int, now: datetime) -> str | None:
        """Use a valid, unused, unexpired code: the person becomes staff; return the unit, else None."""

        def work(conn: sqlite3.Connection) -> str | None:
            ts = to_ts(now)
            row = conn.execute(
                "SELECT i.unit_id FROM invites i JOIN units u ON u.id = i.unit_id"
                " WHERE i.code = ? AND i.used_by IS NULL AND i.expires_at >= ? AND u.active = 1",
                (code, ts),
            ).fetchone()
            if row is None:
                return None
            # Taken only if still unused: of two people sending one code at the same moment, one joins.
            taken = conn.execute(
                "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
                (telegram_id, ts, code),
            ).rowcount
            if taken != 1:
                return None
            conn.execute(
                "INSERT INTO people (telegram_id, role, unit_id, source, created_at)"
                " VALUES (?, 'staff', ?, 'invite', ?) ON CONFLICT (telegram_id) DO UPDATE SET"
                " role = 'staff', unit_id = excluded.unit_id, source = 'invite'",
                (telegram_id, row["unit_id"], ts),
            )
            return row["unit_id"]

        return await self._db.write(work)

    async def live_invites(self, now: datetime) -> list[Invite]:
        """Codes not revoked and not yet expired, used or not, newest first."""
        rows = await self._db.fetchall(
            "SELECT code, unit_id, created_by, created_at, expires_at, used_by FROM invites"
            " WHERE revoked_at IS NULL AND expires_at >= ? ORDER BY created_at DESC, code",
            (to_ts(now),),
        )
        return [
            Invite(
                r["code"],
                r["unit_id"],
                r["created_by"],
                from_ts(r["created_at"]),
                from_ts(r["expires_at"]),
                r["used_by"],
            )
            for r in rows
        ]

    async def invite(self, code: str) -> Invite | None:
        """One code, whatever its state."""
        r = await self._db.fetchone(
            "SELECT code, unit_id, created_by, created_at, expires_at, used_by FROM invites WHERE code = ?", (code,)
        )
        if r is None:
            return None
        return Invite(
            r["code"], r["unit_id"], r["created_by"], from_ts(r["created_at"]), from_ts(r["expires_at"]), r["used_by"]
        )

    async def revoke_invite(self, code: str, by: int, now: datetime) -> bool:
        """Revoke an unused, unexpired code; False if it was no longer live (used, expired or revoked)."""
        ts = to_ts(now)
        return await self._db.write(
            lambda conn: (
                conn.execute(
                    "UPDATE invites SET revoked_at = ?, revoked_by = ?, expires_at = min(expires_at, ? - 1)"
                    " WHERE code = ? AND used_by IS NULL AND revoked_at IS NULL AND expires_at >= ?",
                    (ts, by, ts, code, ts),
                ).rowcount
                == 1
            )
        )

    async def join_blocked(self, telegram_id: int, now: datetime, limit: int, window: timedelta) -> bool:
        """Whether `telegram_id` made `limit` wrong /join guesses within `window` before `now`."""
        row = await self._db.fetchone(
            "SELECT count(*) FROM join_failures WHERE telegram_id = ? AND at > ?",
            (telegram_id, to_ts(now - window)),
        )
        return row[0] >= limit

    async def record_join_failure(
        self, telegram_id: int, now: datetime, limit: int, window: timedelta
    ) -> tuple[int, bool]:
        """Count one wrong /join guess; at the `limit`-th within `window` the coordinators are told, once a burst.

        Returns the guesses within the window and whether this one told the coordinators.
        """
        ts, since = to_ts(now), to_ts(now - window)

        def work(conn: sqlite3.Connection) -> tuple[int, bool]:
            conn.execute("DELETE FROM join_failures WHERE at <= ?", (since,))
            conn.execute("INSERT INTO join_failures (telegram_id, at) VALUES (?, ?)", (telegram_id, ts))
            count = conn.execute("SELECT count(*) FROM join_failures WHERE telegram_id = ?", (telegram_id,)).fetchone()[
                0
            ]
            if count < limit:
                return count, False
            told = conn.execute("SELECT noticed_at FROM join_bursts WHERE telegram_id = ?", (telegram_id,)).fetchone()
            if told is not None and told["noticed_at"] > since:
                return count, False  # this burst was already reported
            conn.execute(
                "INSERT INTO join_bursts (telegram_id, noticed_at) VALUES (?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET noticed_at = excluded.noticed_at",
                (telegram_id, ts),
            )
            params = json.dumps({"person": telegram_id, "count": count})
            conn.execute(
                "INSERT INTO outbox (chat_id, template, params, not_before, created_at)"
                " SELECT telegram_id, ?, ?, ?, ? FROM people WHERE role = 'coordinator' AND reachable = 1"
                " ORDER BY telegram_id",
                (JOIN_BURST_NOTICE, params, ts, ts),
            )
            return count, True

        return await self._db.write(work)

    async def set_language(self, telegram_id: int, language: str) -> None:
        """Remember the language a person chose."""
        await self._db.write(
            lambda conn: conn.execute("UPDATE people SET language = ? WHERE telegram_id = ?", (language, telegram_id))
        )

    async def add(
        self, telegram_id: int, role: str, unit_id: str | None, *, now: datetime, source: str = "cli"
    ) -> Person:
        """Make someone staff of a unit or a coordinator (or back to courier)."""
        if role not in ROLES:
            raise PeopleError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        if (role == "staff") != (unit_id is not None):
            raise PeopleError("staff need --unit; coordinators and couriers have none")

        def work(conn: sqlite3.Connection) -> Person:
            if unit_id is not None and conn.execute("SELECT 1 FROM units WHERE id = ?", (unit_id,)).fetchone() is None:
                raise PeopleError(f"no unit has the id {unit_id!r} (see `units list`)")
            conn.execute(
                "INSERT INTO people (telegram_id, role, unit_id, source, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET role = excluded.role,"
                " unit_id = excluded.unit_id, source = excluded.source",
                (telegram_id, role, unit_id, source, to_ts(now)),
            )
            # A former coordinator's codes go with the role; a new worker's own appeals leave their unit.
            _revoke_orphaned(conn, now)
            if role == "staff":
                tell_own_unit_in(conn, telegram_id, now)
            row = conn.execute("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,)).fetchone()
            return _person(row)

        return await self._db.write(work)

    async def remove(self, telegram_id: int, now: datetime) -> bool:
        """Take someone's staff or coordinator role away (and the codes they made); they stay a courier.
        False if not found."""

        def work(conn: sqlite3.Connection) -> bool:
            removed = (
                conn.execute(
                    "UPDATE people SET role = 'courier', unit_id = NULL WHERE telegram_id = ? AND role != 'courier'",
                    (telegram_id,),
                ).rowcount
                == 1
            )
            _revoke_orphaned(conn, now)
            return removed

        return await self._db.write(work)

    async def staff_and_coordinators(self) -> list[Person]:
        """Everyone with a role beyond courier, coordinators first."""
        rows = await self._db.fetchall(
            "SELECT * FROM people WHERE role != 'courier' ORDER BY role = 'staff', unit_id, telegram_id"
        )
        return [_person(r) for r in rows]

    async def units(self) -> list[tuple[Unit, int]]:
        """Every unit with its number of staff."""
        rows = await self._db.fetchall(
            "SELECT u.*, (SELECT count(*) FROM people p WHERE p.role = 'staff' AND p.unit_id = u.id)"
            " AS staff_count FROM units u ORDER BY u.kind, u.id"
        )
        return [
            (Unit.model_validate({k: r[k] for k in r.keys() if k != "staff_count"}), r["staff_count"]) for r in rows
        ]

    async def sync_config(self, units: Iterable[UnitSpec], coordinators: Iterable[int], now: datetime) -> None:
        """Make the database agree with the config's units, staff and coordinators.

        People added by config but no longer listed there become couriers again; people added
        with the command line or by invite are left alone. Units missing from the config are
        kept (appeals point at them) but marked inactive.
        """
        units = list(units)
        coordinators = list(coordinators)
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE units SET active = 0")
            conn.executemany(
                "INSERT INTO units (id, kind, name_zh, name_en, active) VALUES (?, ?, ?, ?, 1)"
                " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name_zh = excluded.name_zh,"
                " name_en = excluded.name_en, active = 1",
                [(u.id, u.kind, u.name_zh, u.name_en) for u in units],
            )
            conn.execute("UPDATE people SET role = 'courier', unit_id = NULL WHERE source = 'config'")
            rows = [(person, "staff", u.id) for u in units for person in u.staff]
            rows += [(person, "coordinator", None) for person in coordinators]
            conn.executemany(
                "INSERT INTO people (telegram_id, role, unit_id, source, created_at)"
                " VALUES (?, ?, ?, 'config', ?) ON CONFLICT (telegram_id) DO UPDATE SET"
                " role = excluded.role, unit_id = excluded.unit_id, source = 'config'",
                [(*r, ts) for r in rows],
            )
            _revoke_orphaned(conn, now)

        await self._db.write(work)
