"""Micro-wishes (微心愿): the wishes, each step in the wish_events ledger, and the text a person is typing for one.

A step is taken only as domain/wishes.py's RULES allow, judged inside the transaction that writes it: of
two units claiming one wish in the same second, one claims it and the other is refused.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.wishes import (
    DIGEST_STEPS,
    OPEN_STATES,
    RULES,
    WishAudience,
    WishRefusal,
    WishState,
    WishStep,
    refusal,
    roles_of,
)
from storage.db import Database
from storage.literals import literals
from storage.models import Person, from_ts, to_ts
from storage.outreach import TEMPLATE_PREFIX

_OPEN = literals(OPEN_STATES)
_WITHDRAWABLE = literals(s for s in RULES[WishStep.WITHDRAW].sources if s is not None)
_DIGEST_STEPS = literals(DIGEST_STEPS)
# A wish's notices to staff: lane 0, as an appeal's, rendered at delivery by handlers/wishes.py
# ("wishnotice.<step>", params {"wish": id}).
STAFF_NOTICES = "wishnotice."
# The courier's own notices: outreach (lane 1: paced behind appeals' notices, never in quiet hours), rendered
# by the renderer handlers/wishes.py registers for this kind. They name no send and no topic: the courier
# asked for them by posting, so no topic's choice holds them back and no "Stop" goes under them.
COURIER_KIND = "wish"


@dataclass(frozen=True)
class Wish:
    """One wish as stored."""

    id: int
    courier_id: int | None
    category: str
    text: str
    language: str
    state: WishState
    unit_id: str | None  # the unit that claimed it
    place: str | None  # where to collect it, once granted
    reason: str | None  # why it was declined
    created_at: datetime

    @classmethod
    def of(cls, row: sqlite3.Row) -> Wish:
        """A wish from its row."""
        return cls(
            row["id"],
            row["courier_id"],
            row["category"],
            row["text"],
            row["language"],
            WishState(row["state"]),
            row["unit_id"],
            row["place"],
            row["reason"],
            from_ts(row["created_at"]),
        )


@dataclass(frozen=True)
class Taken:
    """A step taken: the wish as it now stands."""

    wish: Wish


@dataclass(frozen=True)
class Refused:
    """A step refused, and why (the wish as it stands, if there is one)."""

    why: WishRefusal | str  # a WishRefusal, or "missing", or "limit" (too many open wishes)
    wish: Wish | None = None


@dataclass(frozen=True)
class WishDialog:
    """What a person is typing for a wish: its text (step "text"), a decline's reason or a grant's place."""

    step: str  # "text", "review", "decline" or "grant"
    data: dict[str, Any]
    at: datetime | None = None  # when it was asked (or the text shown back)


def _get(conn: sqlite3.Connection, wish_id: int) -> Wish | None:
    row = conn.execute("SELECT * FROM wishes WHERE id = ?", (wish_id,)).fetchone()
    return None if row is None else Wish.of(row)


def _event(
    conn: sqlite3.Connection,
    wish_id: int,
    step: WishStep,
    *,
    before: WishState | None,
    actor: Person | None,
    role: str,
    note: str | None,
    now: datetime,
) -> None:
    conn.execute(
        "INSERT INTO wish_events (wish_id, step, from_state, to_state, actor_id, actor_role, unit_id, note, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            wish_id,
            step.value,
            before.value if before else None,
            RULES[step].to.value,
            actor.telegram_id if actor else None,
            role,
            actor.unit_id if actor and actor.role == "staff" else None,
            note,
            to_ts(now),
        ),
    )


def _queue_notices(
    conn: sqlite3.Connection, wish: Wish, step: WishStep, *, actor_id: int | None, now: datetime
) -> None:
    """Queue the notices RULES say `step` brings, in the step's transaction (never to whoever took it)."""
    ts, tells = to_ts(now), RULES[step].tells
    staff = json.dumps({"wish": wish.id})
    actor = actor_id if actor_id is not None else 0
    if WishAudience.COORDINATORS in tells:
        conn.execute(
            "INSERT INTO outbox (chat_id, template, params, not_before, created_at) SELECT telegram_id, ?, ?, ?, ?"
            " FROM people WHERE role = 'coordinator' AND reachable = 1 AND telegram_id != ? ORDER BY telegram_id",
            (f"{STAFF_NOTICES}{step}", staff, ts, ts, actor),
        )
    if WishAudience.CLAIMER in tells and wish.unit_id is not None:
        conn.execute(
            "INSERT INTO outbox (chat_id, template, params, not_before, created_at) SELECT telegram_id, ?, ?, ?, ?"
            " FROM people WHERE role = 'staff' AND unit_id = ? AND reachable = 1 AND telegram_id != ?"
            " ORDER BY telegram_id",
            (f"{STAFF_NOTICES}{step}", staff, ts, ts, wish.unit_id, actor),
        )
    if WishAudience.COURIER in tells and wish.courier_id is not None and wish.courier_id != actor_id:
        conn.execute(
            "INSERT INTO outbox (chat_id, template, params, not_before, created_at, lane) VALUES (?, ?, ?, ?, ?, 1)",
            (
                wish.courier_id,
                f"{TEMPLATE_PREFIX}{COURIER_KIND}",
                json.dumps({"ref": str(wish.id), "step": step.value}),
                ts,
                ts,
            ),
        )


def withdraw_and_blank(conn: sqlite3.Connection, courier_id: int, now: datetime) -> tuple[int, int]:
    """Inside an erasure's transaction: withdraw the courier's open wishes (a ledger row each, with no
    actor), blank every wish's text and forget the courier; (wishes withdrawn, wishes held)."""
    ids = [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM wishes WHERE courier_id = ? AND state IN ({_WITHDRAWABLE}) ORDER BY id", (courier_id,)
        )
    ]
    for wish_id in ids:
        before = _get(conn, wish_id)
        _event(conn, wish_id, WishStep.WITHDRAW, before=before.state, actor=None, role="erasure", note=None, now=now)
        _queue_notices(conn, before, WishStep.WITHDRAW, actor_id=courier_id, now=now)  # a unit arranging it hears
    marks = ",".join("?" * len(ids))
    if ids:
        conn.execute(
            f"UPDATE wishes SET state = ?, updated_at = ? WHERE id IN ({marks})",
            (WishState.WITHDRAWN.value, to_ts(now), *ids),
        )
    held = conn.execute("UPDATE wishes SET text = '', courier_id = NULL WHERE courier_id = ?", (courier_id,)).rowcount
    conn.execute("UPDATE wish_events SET actor_id = NULL WHERE actor_id = ?", (courier_id,))
    conn.execute("DELETE FROM wish_dialogs WHERE telegram_id = ?", (courier_id,))
    return len(ids), held


def expire(conn: sqlite3.Connection, cutoff: int) -> int:
    """Inside a retention run: blank the texts of wishes settled before `cutoff` and forget who posted and acted on
    them (their steps stay, as the appeals' ledger does); drop wish dialogs left since; how many wishes were blanked."""
    ids = [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM wishes WHERE updated_at < ? AND state NOT IN ({_OPEN}) AND courier_id IS NOT NULL",
            (cutoff,),
        )
    ]
    for chunk in (ids[i : i + 400] for i in range(0, len(ids), 400)):
        marks = ",".join("?" * len(chunk))
        conn.execute(f"UPDATE wishes SET text = '', courier_id = NULL WHERE id IN ({marks})", chunk)
        conn.execute(f"UPDATE wish_events SET actor_id = NULL WHERE wish_id IN ({marks})", chunk)
    conn.execute("DELETE FROM wish_dialogs WHERE updated_at < ?", (cutoff,))
    return len(ids)


class Wishes:
    """The wishes repository."""

    def __init__(self, db: Database, max_open: int = 3) -> None:
        self._db = db
        self.max_open = max_open  # open wishes one courier may have at once

    async def get(self, wish_id: int) -> Wish | None:
        """One wish, if there is such a wish."""
        row = await self._db.fetchone("SELECT * FROM wishes WHERE id = ?", (wish_id,))
        return None if row is None else Wish.of(row)

    async def open_count(self, courier_id: int) -> int:
        """How many of the courier's wishes are not yet settled."""
        row = await self._db.fetchone(
            f"SELECT count(*) FROM wishes WHERE courier_id = ? AND state IN ({_OPEN})", (courier_id,)
        )
        return row[0]

    async def of_courier(self, courier_id: int, limit: int = 10) -> list[Wish]:
        """The courier's newest wishes."""
        rows = await self._db.fetchall(
            "SELECT * FROM wishes WHERE courier_id = ? ORDER BY id DESC LIMIT ?", (courier_id, limit)
        )
        return [Wish.of(r) for r in rows]

    async def poster_station(self, courier_id: int) -> str | None:
        """The station of the courier's newest appeal that names one (where a coordinator may place them)."""
        row = await self._db.fetchone(
            "SELECT station_id FROM appeals WHERE courier_id = ? AND station_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            (courier_id,),
        )
        return None if row is None else row[0]

    async def in_state(self, states: tuple[WishState, ...], limit: int = 20, unit_id: str | None = None) -> list[Wish]:
        """The oldest wishes in these states (claimed by `unit_id`, if given)."""
        sql = f"SELECT * FROM wishes WHERE state IN ({literals(states)})"
        params: tuple[Any, ...] = ()
        if unit_id is not None:
            sql += " AND unit_id = ?"
            params = (unit_id,)
        rows = await self._db.fetchall(sql + " ORDER BY id LIMIT ?", (*params, limit))
        return [Wish.of(r) for r in rows]

    async def post(self, courier: Person, *, category: str, text: str, language: str, now: datetime) -> Taken | Refused:
        """Post a courier's wish, unless they already have `max_open` open ones (judged in the same transaction)."""

        def work(conn: sqlite3.Connection) -> Taken | Refused:
            open_now = conn.execute(
                f"SELECT count(*) FROM wishes WHERE courier_id = ? AND state IN ({_OPEN})", (courier.telegram_id,)
            ).fetchone()[0]
            if open_now >= self.max_open:
                return Refused("limit")
            wish_id = conn.execute(
                "INSERT INTO wishes (courier_id, category, text, language, state, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (courier.telegram_id, category, text, language, WishState.POSTED.value, to_ts(now), to_ts(now)),
            ).fetchone()[0]
            _event(conn, wish_id, WishStep.POST, before=None, actor=courier, role=courier.role, note=None, now=now)
            wish = _get(conn, wish_id)
            _queue_notices(conn, wish, WishStep.POST, actor_id=courier.telegram_id, now=now)
            return Taken(wish)

        return await self._db.write(work)

    async def take(
        self, wish_id: int, step: WishStep, actor: Person, *, now: datetime, note: str | None = None
    ) -> Taken | Refused:
        """Take `step` on a wish as `actor` (their role and unit read by the caller from the database), if
        RULES allow it from the state the wish is in when the transaction begins."""
        if step is WishStep.POST:
            raise ValueError("a wish is posted with post()")
        rule = RULES[step]
        if rule.needs_text and not note:
            raise ValueError(f"{step} needs its text")

        def work(conn: sqlite3.Connection) -> Taken | Refused:
            wish = _get(conn, wish_id)
            if wish is None:
                return Refused("missing")
            roles = roles_of(actor.telegram_id, actor.role, actor.unit_id, wish.courier_id, wish.unit_id)
            why = refusal(step, wish.state, roles)
            if why is not None:
                return Refused(why, wish)
            fields: dict[str, Any] = {"state": rule.to.value, "updated_at": to_ts(now)}
            if step is WishStep.CLAIM:
                fields["unit_id"] = actor.unit_id
            elif step is WishStep.GRANT:
                fields["place"] = note
            elif step is WishStep.DECLINE:
                fields["reason"] = note
            sets = ", ".join(f"{k} = ?" for k in fields)
            changed = conn.execute(
                f"UPDATE wishes SET {sets} WHERE id = ? AND state = ?", (*fields.values(), wish_id, wish.state.value)
            ).rowcount
            if changed != 1:  # cannot happen inside BEGIN IMMEDIATE; kept so a change of isolation fails safe
                return Refused(WishRefusal.STATE, wish)
            _event(conn, wish_id, step, before=wish.state, actor=actor, role=actor.role, note=note, now=now)
            after = _get(conn, wish_id)
            _queue_notices(conn, after, step, actor_id=actor.telegram_id, now=now)
            return Taken(after)

        return await self._db.write(work)

    async def history(self, wish_id: int) -> list[sqlite3.Row]:
        """The wish's ledger rows, oldest first."""
        return await self._db.fetchall(
            "SELECT step, from_state, to_state, actor_role, unit_id, note, at FROM wish_events"
            " WHERE wish_id = ? ORDER BY id",
            (wish_id,),
        )

    async def counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """How many wishes were posted, claimed, granted and collected in [start, end)."""
        rows = await self._db.fetchall(
            f"SELECT step, count(*) AS n FROM wish_events WHERE step IN ({_DIGEST_STEPS}) AND at >= ? AND at < ?"
            " GROUP BY step",
            (to_ts(start), to_ts(end)),
        )
        found = {r["step"]: r["n"] for r in rows}
        return {step.value: found.get(step.value, 0) for step in DIGEST_STEPS}

    async def dialog(self, telegram_id: int) -> WishDialog | None:
        """What this person is typing for a wish, if anything."""
        row = await self._db.fetchone(
            "SELECT step, data, updated_at FROM wish_dialogs WHERE telegram_id = ?", (telegram_id,)
        )
        return None if row is None else WishDialog(row["step"], json.loads(row["data"]), from_ts(row["updated_at"]))

    async def set_dialog(self, telegram_id: int, dialog: WishDialog, now: datetime) -> None:
        """Wait for this person's next text for a wish (replacing what was awaited before)."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO wish_dialogs (telegram_id, step, data, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET step = excluded.step, data = excluded.data,"
                " updated_at = excluded.updated_at",
                (telegram_id, dialog.step, json.dumps(dialog.data, ensure_ascii=False), to_ts(now)),
            )
        )

    async def drop_dialog(self, telegram_id: int) -> bool:
        """Stop waiting for wish text from this person; False if nothing was awaited."""
        return await self._db.write(
            lambda conn: conn.execute("DELETE FROM wish_dialogs WHERE telegram_id = ?", (telegram_id,)).rowcount == 1
        )
