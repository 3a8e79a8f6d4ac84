"""Outreach: who chose to hear about what, the audiences drawn from them, and sends through the outbox.

Every outreach message is an outbox row in lane 1, written by `broadcast`: the sender takes them only
when no appeal notice is due, outside quiet hours (bot/outbox_sender.py). Each row names its send
(`outreach_sends`), whose counts a trigger keeps as rows leave 'pending' (see the migration "outreach").
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from domain.geo import distance_m
from storage.db import Database
from storage.models import to_ts

TOPICS = ("surveys", "activities", "notices")
# Outbox templates every outreach message has: its kind, after this prefix (handlers/outreach.py renders them).
TEMPLATE_PREFIX = "outreach."
ASK_TEMPLATE = "outreach.ask"
NOTICE_KIND = "notice"
# A row given up without trying: the person stopped this topic, or can no longer be reached.
NOT_LISTENING = "not listening"
UNREACHABLE = "unreachable"
_CHUNK = 500


@dataclass(frozen=True)
class Area:
    """Near a station, or near any of a unit's stations."""

    kind: Literal["station", "unit"]
    id: str


@dataclass(frozen=True)
class SendCounts:
    """One send to an audience and how its delivery went so far."""

    id: int
    kind: str
    ref: str
    topic: str
    created_at: int
    audience: int
    sent: int
    dead: int
    blocked: int
    stopped: int
    starts_at: int | None = None
    cancelled_at: int | None = None

    @property
    def pending(self) -> int:
        """Messages not yet sent, nor given up (none once the send is cancelled)."""
        if self.cancelled_at is not None:
            return 0
        return self.audience - self.sent - self.dead - self.blocked - self.stopped

    def scheduled(self, now: datetime) -> bool:
        """Whether the send waits for a start still to come."""
        return self.cancelled_at is None and self.starts_at is not None and self.starts_at > to_ts(now)

    @property
    def cancellable(self) -> bool:
        """Whether it may still be cancelled: nothing of it has reached anyone yet (scheduled for later, or
        sent now but held by quiet hours or by appeals' notices going first)."""
        return self.cancelled_at is None and self.sent == 0 and self.pending > 0


@dataclass(frozen=True)
class NoticeRecord:
    """A coordinator's notice: its words, an optional photo, an optional button to an activity or survey."""

    id: int
    text: str
    photo: str | None
    link_kind: str | None
    link_ref: str | None


def _topic(topic: str) -> str:
    if topic not in TOPICS:
        raise ValueError(f"not an outreach topic: {topic!r}")
    return topic


class Outreach:
    """Opt-in choices, audiences, sends and notices."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.near_m = 3000.0  # how near a station counts as "near" ([outreach] near_m)

    # Choices

    async def choices(self, telegram_id: int) -> dict[str, bool] | None:
        """The topics this person hears about, each on or off; None if they were never asked and never chose."""
        row = await self._db.fetchone(
            "SELECT surveys, activities, notices FROM outreach_choices WHERE telegram_id = ?", (telegram_id,)
        )
        return None if row is None else {topic: bool(row[topic]) for topic in TOPICS}

    async def choose(self, telegram_id: int, topics: Iterable[str], on: bool, now: datetime) -> None:
        """Turn these topics on or off for this person (recording that they chose)."""
        chosen = [_topic(t) for t in topics]
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO outreach_choices (telegram_id, asked_at, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (telegram_id, ts, ts),
            )
            for topic in chosen:  # a name from TOPICS, never from a caller's text
                conn.execute(
                    f"UPDATE outreach_choices SET {topic} = ?, updated_at = ? WHERE telegram_id = ?",
                    (int(on), ts, telegram_id),
                )

        await self._db.write(work)

    # Audiences

    async def audience(self, topic: str, *, language: str | None = None, near: Area | None = None) -> list[int]:
        """The Telegram ids of the people who chose `topic` and can be reached, in id order; optionally only
        those who read `language`, and those near `near` (the stations they filed at, or the last location
        they shared, as privacy keeps it)."""
        sql = (
            f"SELECT c.telegram_id FROM outreach_choices c JOIN people p ON p.telegram_id = c.telegram_id"
            f" WHERE c.{_topic(topic)} = 1 AND p.reachable = 1"
        )
        params: list[Any] = []
        if language is not None:
            sql += " AND p.language = ?"
            params.append(language)
        ids = [r[0] for r in await self._db.fetchall(sql + " ORDER BY c.telegram_id", tuple(params))]
        if near is None:
            return ids
        close = await self._near(near)
        return [i for i in ids if i in close]

    async def _near(self, area: Area) -> set[int]:
        """Who is near `area`: filed at a station within `near_m` of it, or last shared a location there."""
        where = "id = ?" if area.kind == "station" else "unit_id = ?"
        points = [
            (r[0], r[1]) for r in await self._db.fetchall(f"SELECT lat, lon FROM stations WHERE {where}", (area.id,))
        ]
        if not points:
            return set()
        radius = self.near_m
        stations = await self._db.fetchall("SELECT id, lat, lon FROM stations")
        near_stations = [
            s["id"] for s in stations if any(distance_m(s["lat"], s["lon"], lat, lon) <= radius for lat, lon in points)
        ]
        people: set[int] = set()
        for i in range(0, len(near_stations), _CHUNK):
            chunk = near_stations[i : i + _CHUNK]
            rows = await self._db.fetchall(
                f"SELECT DISTINCT courier_id FROM appeals WHERE courier_id IS NOT NULL"
                f" AND station_id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            people.update(r[0] for r in rows)
        for row in await self._db.fetchall("SELECT telegram_id, lat, lon FROM last_locations"):
            if any(distance_m(row["lat"], row["lon"], lat, lon) <= radius for lat, lon in points):
                people.add(row["telegram_id"])
        return people

    # Sends

    async def broadcast(
        self,
        *,
        kind: str,
        ref: str,
        topic: str,
        recipients: Iterable[int],
        now: datetime,
        params: dict[str, Any] | None = None,
        created_by: int | None = None,
        at: datetime | None = None,
    ) -> int:
        """Queue one outreach message of `kind` (about `ref`: a notice's, a survey's or an activity's id)
        for each recipient, in the outbox's outreach lane; returns the send's id, whose counts `send` reads.

        The message is rendered at delivery by the renderer registered for `kind` (handlers/outreach.py).
        `at`: when its messages may start going (a scheduled send), now if not given.
        """
        _topic(topic)
        chats = list(dict.fromkeys(recipients))
        ts = to_ts(now)
        start = max(ts, to_ts(at)) if at is not None else ts
        template = f"{TEMPLATE_PREFIX}{kind}"
        body = json.dumps({"ref": ref, "topic": topic, **(params or {})}, ensure_ascii=False)

        def work(conn: sqlite3.Connection) -> int:
            send_id = conn.execute(
                "INSERT INTO outreach_sends (kind, ref, topic, created_by, created_at, audience, starts_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (kind, ref, topic, created_by, ts, len(chats), start),
            ).fetchone()[0]
            conn.executemany(
                "INSERT INTO outbox (chat_id, template, params, not_before, created_at, lane, send_id)"
                " VALUES (?, ?, ?, ?, ?, 1, ?)",
                ((chat, template, body, start, ts, send_id) for chat in chats),
            )
            return send_id

        return await self._db.write(work)

    async def send(self, send_id: int) -> SendCounts | None:
        """One send and its delivery counts."""
        row = await self._db.fetchone(f"SELECT {_SEND_COLUMNS} FROM outreach_sends WHERE id = ?", (send_id,))
        return None if row is None else SendCounts(**dict(row))

    async def sends(self, limit: int = 10) -> list[SendCounts]:
        """The newest sends, newest first."""
        rows = await self._db.fetchall(f"SELECT {_SEND_COLUMNS} FROM outreach_sends ORDER BY id DESC LIMIT ?", (limit,))
        return [SendCounts(**dict(r)) for r in rows]

    async def cancel_send(self, send_id: int, now: datetime) -> bool:
        """Cancel a send none of whose messages has gone yet: its pending messages are deleted, the send marked
        cancelled; whether it was cancelled now (False if one went, or it was cancelled, before)."""
        ts = to_ts(now)

        def work(conn: sqlite3.Connection) -> bool:
            marked = conn.execute(
                "UPDATE outreach_sends SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL AND sent = 0",
                (ts, send_id),
            ).rowcount
            if marked:
                conn.execute("DELETE FROM outbox WHERE send_id = ? AND status = 'pending'", (send_id,))
            return bool(marked)

        return await self._db.write(work)

    async def not_listening(self, rows: list[tuple[int, int, int | None]]) -> dict[int, str]:
        """Of these outbox rows (id, chat, send), those whose person no longer hears the send's topic, or
        cannot be reached: the row's id and why, to give it up without sending."""
        sends = [s for _, _, s in rows if s is not None]
        if not sends:
            return {}
        marks = ",".join("?" * len(set(sends)))
        topics = {
            r[0]: r[1]
            for r in await self._db.fetchall(
                f"SELECT id, topic FROM outreach_sends WHERE id IN ({marks})", tuple(set(sends))
            )
        }
        chats = sorted({chat for _, chat, _ in rows})
        cmarks = ",".join("?" * len(chats))
        listening = {
            r["telegram_id"]: r
            for r in await self._db.fetchall(
                "SELECT c.telegram_id, c.surveys, c.activities, c.notices, p.reachable FROM outreach_choices c"
                f" LEFT JOIN people p ON p.telegram_id = c.telegram_id WHERE c.telegram_id IN ({cmarks})",
                tuple(chats),
            )
        }
        out: dict[int, str] = {}
        for row_id, chat, send in rows:
            if send is None:
                continue
            choice = listening.get(chat)
            if choice is None or not choice[topics.get(send, "notices")]:
                out[row_id] = NOT_LISTENING
            elif not choice["reachable"]:
                out[row_id] = UNREACHABLE
        return out

    # Notices

    async def add_notice(
        self,
        text: str,
        now: datetime,
        *,
        photo: str | None = None,
        link: tuple[str, str] | None = None,
        created_by: int | None = None,
    ) -> int:
        """Keep a notice's words, photo and button; its id."""
        return await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO outreach_notices (text, photo, link_kind, link_ref, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (text, photo, link[0] if link else None, link[1] if link else None, created_by, to_ts(now)),
            ).fetchone()[0]
        )

    async def notice(self, notice_id: int) -> NoticeRecord | None:
        """One notice by id."""
        row = await self._db.fetchone(
            "SELECT id, text, photo, link_kind, link_ref FROM outreach_notices WHERE id = ?", (notice_id,)
        )
        return None if row is None else NoticeRecord(**dict(row))

    # The notice dialog's state

    async def draft(self, telegram_id: int) -> dict[str, Any] | None:
        """A coordinator's unfinished notice, if any."""
        row = await self._db.fetchone("SELECT data FROM outreach_drafts WHERE telegram_id = ?", (telegram_id,))
        return None if row is None else json.loads(row[0])

    async def save_draft(self, telegram_id: int, data: dict[str, Any], now: datetime) -> None:
        """Keep a coordinator's unfinished notice."""
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO outreach_drafts (telegram_id, data, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (telegram_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                (telegram_id, json.dumps(data, ensure_ascii=False), to_ts(now)),
            )
        )

    async def drop_draft(self, telegram_id: int) -> bool:
        """Forget a coordinator's unfinished notice; whether there was one."""
        return await self._db.write(
            lambda conn: conn.execute("DELETE FROM outreach_drafts WHERE telegram_id = ?", (telegram_id,)).rowcount == 1
        )


_SEND_COLUMNS = "id, kind, ref, topic, created_at, audience, sent, dead, blocked, stopped, starts_at, cancelled_at"
