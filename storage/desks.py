"""Unit desks: a unit's Telegram group that receives its cards instead of each worker privately.

A linked, working desk is where every notice for the unit's staff goes (`desk_chat`, read by
storage.appeals.audience_ids). A desk that stops working (the bot was removed, a topic deleted) is
marked broken: what was waiting for the group goes to each worker instead, so is every open appeal
the group held, and the coordinators are told. Individual delivery is the default: no row, no desk.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from domain.lifecycle import State
from storage.db import Database
from storage.literals import literal
from storage.models import Person, to_ts

# The notices of this module (catalog table [desk]).
LINKED_WORKERS = "desk.linked_workers"
UNLINKED_WORKERS = "desk.unlinked_workers"
BROKEN_WORKERS = "desk.broken_workers"
BROKEN_COORDINATORS = "desk.broken_coordinators"
# An open appeal's card, brought to a chat that has not had it (a desk just linked, or a worker after the desk stopped).
CARD = "desk.card"
# Who a desk's chat reads as: a worker of its unit, who is never shown the courier's phone.
SOURCE = "desk"

_HANDLING = literal(State.HANDLING)


@dataclass(frozen=True)
class Desk:
    """One unit's group, as linked."""

    unit_id: str
    chat_id: int
    title: str
    topics: bool
    language: str | None
    linked_by: int
    linked_at: int
    broken_at: int | None
    broken_reason: str | None

    @property
    def working(self) -> bool:
        """Whether cards go to the group now."""
        return self.broken_at is None

    def reader(self) -> Person:
        """The group as the card renderer sees it: a worker of the unit, marked as a shared chat."""
        return Person(
            telegram_id=self.chat_id,
            role="staff",
            unit_id=self.unit_id,
            language=self.language,
            source=SOURCE,
            reachable=True,
        )


def is_desk(person: Person | None) -> bool:
    """Whether `person` stands for a unit's group (never shown what only the worker may see)."""
    return person is not None and person.source == SOURCE


def desk_chat(conn: sqlite3.Connection, unit_id: str) -> int | None:
    """The chat of `unit_id`'s working desk, if it has one (inside a transaction)."""
    row = conn.execute("SELECT chat_id FROM unit_desks WHERE unit_id = ? AND broken_at IS NULL", (unit_id,)).fetchone()
    return None if row is None else row[0]


def _desk(row: sqlite3.Row | None) -> Desk | None:
    if row is None:
        return None
    return Desk(**{k: (bool(row[k]) if k == "topics" else row[k]) for k in row.keys()})


def _workers(conn: sqlite3.Connection, unit_id: str) -> list[int]:
    sql = "SELECT telegram_id FROM people WHERE role = 'staff' AND unit_id = ? ORDER BY telegram_id"
    return [r[0] for r in conn.execute(sql, (unit_id,))]


def _queue(
    conn: sqlite3.Connection, chat_id: int, template: str, *, params: dict, ts: int, appeal_id: int | None = None
) -> None:
    conn.execute(
        "INSERT INTO outbox (chat_id, appeal_id, template, params, not_before, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, appeal_id, template, json.dumps(params, ensure_ascii=False), ts, ts),
    )


def _open_appeals(conn: sqlite3.Connection, unit_id: str) -> list[sqlite3.Row]:
    return conn.execute(
        f"SELECT id, courier_id FROM appeals WHERE unit_id = ? AND state = {_HANDLING} ORDER BY id", (unit_id,)
    ).fetchall()


def _to_workers(conn: sqlite3.Connection, desk: Desk, ts: int, *, template: str, error: str) -> None:
    """Send to each worker what waited for the group, and the cards of the open appeals the group held;
    the group's pending rows are given up, with why."""
    workers = _workers(conn, desk.unit_id)
    pending = conn.execute(
        "SELECT id, appeal_id, event_id, template, params FROM outbox WHERE chat_id = ? AND status = 'pending'"
        " ORDER BY id",
        (desk.chat_id,),
    ).fetchall()
    carried: set[int] = set()
    for row in pending:
        courier = None
        if row["appeal_id"] is not None:
            carried.add(row["appeal_id"])
            found = conn.execute("SELECT courier_id FROM appeals WHERE id = ?", (row["appeal_id"],)).fetchone()
            courier = found[0] if found else None
        for worker in workers:
            if worker == courier:  # the filer hears of their appeal as its courier only
                continue
            conn.execute(
                "INSERT INTO outbox (chat_id, appeal_id, event_id, template, params, not_before, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (worker, row["appeal_id"], row["event_id"], row["template"], row["params"], ts, ts),
            )
    conn.execute(
        "UPDATE outbox SET status = 'dead', last_error = ? WHERE chat_id = ? AND status = 'pending'",
        (error, desk.chat_id),
    )
    for appeal in _open_appeals(conn, desk.unit_id):
        if appeal["id"] in carried:
            continue
        for worker in workers:
            if worker != appeal["courier_id"]:
                _queue(conn, worker, CARD, params={}, ts=ts, appeal_id=appeal["id"])
    for worker in workers:
        _queue(conn, worker, template, params={"group": desk.title}, ts=ts)
    # A group linked again starts with new topics: the old ones may be gone.
    conn.execute("DELETE FROM desk_topics WHERE chat_id = ?", (desk.chat_id,))


class Desks:
    """Unit desks and the topics their appeals have."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def by_chat(self, chat_id: int) -> Desk | None:
        """The desk a group is (working or broken), if any."""
        return _desk(await self._db.fetchone("SELECT * FROM unit_desks WHERE chat_id = ?", (chat_id,)))

    async def by_unit(self, unit_id: str) -> Desk | None:
        """The desk of a unit (working or broken), if any."""
        return _desk(await self._db.fetchone("SELECT * FROM unit_desks WHERE unit_id = ?", (unit_id,)))

    async def readers(self, chat_ids: set[int]) -> dict[int, Person]:
        """The groups among `chat_ids` that are desks, as the renderer reads them."""
        groups = sorted(c for c in chat_ids if c < 0)
        if not groups:
            return {}
        rows = await self._db.fetchall(
            f"SELECT * FROM unit_desks WHERE chat_id IN ({','.join('?' * len(groups))})", tuple(groups)
        )
        return {row["chat_id"]: _desk(row).reader() for row in rows}

    async def link(
        self, unit_id: str, chat_id: int, *, title: str, topics: bool, language: str, by: int, now: datetime
    ) -> Desk | None:
        """Make the group `chat_id` the desk of `unit_id` (replacing the unit's earlier group and the
        group's earlier unit); the workers are told, and the group gets the cards of the unit's open appeals.
        Returns the desk it replaced for this unit, if any."""
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> Desk | None:
            before = _desk(conn.execute("SELECT * FROM unit_desks WHERE unit_id = ?", (unit_id,)).fetchone())
            other = _desk(conn.execute("SELECT * FROM unit_desks WHERE chat_id = ?", (chat_id,)).fetchone())
            if other is not None and other.unit_id != unit_id and other.working:
                _to_workers(conn, other, ts, template=UNLINKED_WORKERS, error="desk unlinked")
            conn.execute("DELETE FROM unit_desks WHERE unit_id = ? OR chat_id = ?", (unit_id, chat_id))
            conn.execute("DELETE FROM desk_topics WHERE chat_id = ?", (chat_id,))
            conn.execute(
                "INSERT INTO unit_desks (unit_id, chat_id, title, topics, language, linked_by, linked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (unit_id, chat_id, title, int(topics), language, by, ts),
            )
            for worker in _workers(conn, unit_id):
                _queue(conn, worker, LINKED_WORKERS, params={"group": title}, ts=ts)
            for appeal in _open_appeals(conn, unit_id):
                _queue(conn, chat_id, CARD, params={}, ts=ts, appeal_id=appeal["id"])
            return before

        return await self._db.write(work)

    async def unlink(self, chat_id: int, now: datetime) -> Desk | None:
        """Undo a group's link: its unit's workers get the cards directly again. Returns the desk, if it was one."""
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> Desk | None:
            desk = _desk(conn.execute("SELECT * FROM unit_desks WHERE chat_id = ?", (chat_id,)).fetchone())
            if desk is None:
                return None
            if desk.working:
                _to_workers(conn, desk, ts, template=UNLINKED_WORKERS, error="desk unlinked")
            conn.execute("DELETE FROM unit_desks WHERE chat_id = ?", (chat_id,))
            conn.execute("DELETE FROM desk_topics WHERE chat_id = ?", (chat_id,))
            return desk

        return await self._db.write(work)

    async def mark_broken(self, chat_id: int, reason: str, now: datetime) -> Desk | None:
        """The group no longer takes the unit's cards (`reason`: removed, topic_deleted, no_rights, refused): it is
        marked broken, what waited for it goes to each worker with the open appeals' cards, and the
        coordinators are told. Returns the desk if this broke it (None if it was not a working desk)."""
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> Desk | None:
            desk = _desk(conn.execute("SELECT * FROM unit_desks WHERE chat_id = ?", (chat_id,)).fetchone())
            if desk is None or not desk.working:
                return None
            conn.execute(
                "UPDATE unit_desks SET broken_at = ?, broken_reason = ? WHERE chat_id = ?", (ts, reason, chat_id)
            )
            _to_workers(conn, desk, ts, template=BROKEN_WORKERS, error=f"desk broken: {reason}")
            params = json.dumps({"unit_id": desk.unit_id, "group": desk.title, "reason": reason}, ensure_ascii=False)
            conn.execute(
                "INSERT INTO outbox (chat_id, template, params, not_before, created_at)"
                " SELECT telegram_id, ?, ?, ?, ? FROM people WHERE role = 'coordinator' AND reachable = 1"
                " ORDER BY telegram_id",
                (BROKEN_COORDINATORS, params, ts, ts),
            )
            return desk

        return await self._db.write(work)

    async def forget_topics(self, chat_id: int) -> None:
        """Forget a group's topics (a fresh fake Telegram has none): each appeal gets a new one when it next has news."""
        await self._db.write(lambda conn: conn.execute("DELETE FROM desk_topics WHERE chat_id = ?", (chat_id,)))

    async def topic(self, chat_id: int, appeal_id: int) -> tuple[int, str] | None:
        """The topic (thread id, name) of an appeal in a group, if it has one."""
        row = await self._db.fetchone(
            "SELECT thread_id, name FROM desk_topics WHERE chat_id = ? AND appeal_id = ?", (chat_id, appeal_id)
        )
        return None if row is None else (row[0], row[1])

    async def topics_of(self, appeal_ids: set[int]) -> list[tuple[int, int, int, str]]:
        """(chat, appeal, thread id, name) of every topic these appeals have in working desks."""
        if not appeal_ids:
            return []
        ids = sorted(appeal_ids)
        rows = await self._db.fetchall(
            "SELECT t.chat_id, t.appeal_id, t.thread_id, t.name FROM desk_topics t"
            " JOIN unit_desks d ON d.chat_id = t.chat_id AND d.broken_at IS NULL"
            f" WHERE t.appeal_id IN ({','.join('?' * len(ids))}) ORDER BY t.chat_id, t.appeal_id",
            tuple(ids),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def keep_topic(self, chat_id: int, appeal_id: int, thread_id: int, name: str) -> None:
        """Record an appeal's topic in a group (or its new name)."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO desk_topics (chat_id, appeal_id, thread_id, name) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (chat_id, appeal_id) DO UPDATE SET thread_id = excluded.thread_id, name = excluded.name",
                (chat_id, appeal_id, thread_id, name),
            )
        )
