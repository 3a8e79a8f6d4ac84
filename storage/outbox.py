"""The notification outbox: rows written inside event transactions, sent afterwards, in order."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.models import AppealMessage, OutboxMessage, to_ts

_MESSAGE_COLUMNS = "chat_id, message_id, appeal_id, kind, template, version"
_ROW_COLUMNS = "id, chat_id, appeal_id, event_id, template, params, status, attempts, parts_sent, lane, send_id"


class Outbox:
    """Pending, sent and dead notifications."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(
        self, now: datetime, limit: int = 100, skip: set[int] = frozenset(), *, outreach: int = 0
    ) -> list[OutboxMessage]:
        """The oldest pending appeal notice of each chat (but those in `skip`), if its time has come, oldest
        first; then, up to `outreach` more, the oldest due outreach messages (lane 1), one per chat.

        A chat's later messages wait behind its first (each chat's order is kept, in each lane), and a chat
        with hundreds pending takes one place, not the whole batch. Outreach comes after every appeal
        notice due, so a broadcast never delays one.
        """
        # The heads come from the partial index of pending appeal notices by chat (see the migration "outreach").
        # Both lanes are read in one statement: `due` runs after every update, mostly to find nothing.
        ts = to_ts(now)
        marks = ",".join("?" * len(skip))
        heads = (
            f"SELECT {_ROW_COLUMNS} FROM outbox"
            " WHERE id IN (SELECT min(id) FROM outbox WHERE status = 'pending' AND lane = 0 GROUP BY chat_id)"
            f" AND not_before <= ?{f' AND chat_id NOT IN ({marks})' if skip else ''} ORDER BY id LIMIT ?"
        )
        params: tuple[Any, ...] = (ts, *sorted(skip), limit)
        if outreach > 0:
            # Enough of the oldest outreach heads that, after the chats already taken are left out, `outreach`
            # remain if there are that many. A message not yet tried whose time has not come (a scheduled
            # send) holds none behind it; one waiting to be tried again does.
            heads = (
                f"SELECT * FROM ({heads}) AS appeal_heads UNION ALL SELECT * FROM (SELECT {_ROW_COLUMNS} FROM outbox o"
                " WHERE status = 'pending' AND lane = 1 AND not_before <= ?"
                " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = 'pending' AND e.lane = 1"
                " AND e.chat_id = o.chat_id AND e.id < o.id AND NOT (e.attempts = 0 AND e.not_before > ?))"
                " ORDER BY id LIMIT ?) AS outreach_heads"
            )
            params += (ts, ts, outreach + limit + len(skip))
        rows = [OutboxMessage.model_validate(dict(r)) for r in await self._db.fetchall(heads, params)]
        found = [m for m in rows if m.lane == 0]
        if outreach > 0 and len(found) < limit:
            taken = {m.chat_id for m in found} | set(skip)
            more = [m for m in rows if m.lane == 1 and m.chat_id not in taken]
            found += more[: min(outreach, limit - len(found))]
        return found

    def wake_on_new_rows(self, wake: Callable[[], None]) -> None:
        """Call `wake` when another worker process commits outbox rows (this process's own kick the sender)."""
        self._db.wake_on_outbox_rows(wake)

    async def sender_lease(self) -> bool:
        """Whether this process is the one that sends the outbox now (one sender among processes)."""
        return await self._db.sender_lease()

    async def add(
        self,
        chat_id: int,
        template: str,
        now: datetime,
        params: dict[str, Any] | None = None,
        *,
        appeal_id: int | None = None,
    ) -> None:
        """Queue a notice that no lifecycle event caused (an alert to coordinators)."""
        ts = to_ts(now)
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO outbox (chat_id, appeal_id, template, params, not_before, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, appeal_id, template, json.dumps(params or {}, ensure_ascii=False), ts, ts),
            )
        )

    async def queue_digest(
        self,
        kind: str,
        slot: datetime,
        start: datetime,
        now: datetime,
        *,
        end: datetime | None = None,
        day: tuple[datetime, datetime] | None = None,
    ) -> int:
        """Queue the digest of [start, end) (end: the slot, unless given) for every reachable coordinator,
        once per calendar day `day` ([midnight, next midnight) of the slot's local date; the slot alone if not given).

        Whether a day's digest went out is asked of that day, not judged by the latest slot ever
        seen: a clock that ran ahead and came back does not silence the days in between. The first
        slot a database sees is only recorded, so a new install does not send a digest for a time
        before it started. Returns how many digests were queued.
        """
        ts = to_ts(now)
        params = json.dumps({"kind": kind, "start": to_ts(start), "end": to_ts(end or slot)})
        first, stop = (to_ts(day[0]), to_ts(day[1])) if day is not None else (to_ts(slot), to_ts(slot) + 1)

        def work(conn: sqlite3.Connection) -> int:
            done = conn.execute(
                "SELECT 1 FROM digest_slots WHERE kind = ? AND slot >= ? AND slot < ?", (kind, first, stop)
            ).fetchone()
            if done is not None:
                return 0
            new_install = conn.execute("SELECT 1 FROM digest_slots WHERE kind = ? LIMIT 1", (kind,)).fetchone() is None
            conn.execute(
                "INSERT INTO digest_slots (kind, slot, queued) VALUES (?, ?, ?)",
                (kind, to_ts(slot), int(not new_install)),
            )
            if new_install:
                return 0
            return conn.execute(
                "INSERT INTO outbox (chat_id, template, params, not_before, created_at)"
                " SELECT telegram_id, ?, ?, ?, ? FROM people WHERE role = 'coordinator' AND reachable = 1"
                " ORDER BY telegram_id",
                (f"digest.{kind}", params, ts, ts),
            ).rowcount

        return await self._db.write(work)

    async def release_future(self, now: datetime) -> int:
        """Make pending notices written "after" `now` due now: the clock went back since, and their
        wait (a retry's pause) was counted from a time that has not come; how many were released."""
        ts = to_ts(now)
        # Asked every tick: a read from the index of pending rows, and a write only when the clock went back.
        # An outreach message not yet tried waits for a time of day chosen for it (a scheduled send, the
        # question after a first appeal), not for a pause counted from when it was written: it keeps it.
        where = "status = 'pending' AND not_before > ? AND created_at > ? AND NOT (lane = 1 AND attempts = 0 AND not_before > created_at)"
        if await self._db.fetchone(f"SELECT 1 FROM outbox WHERE {where} LIMIT 1", (ts, ts)) is None:
            return 0
        return await self._db.write(
            lambda conn: conn.execute(f"UPDATE outbox SET not_before = ? WHERE {where}", (ts, ts, ts)).rowcount
        )

    async def mark_sent(
        self, accepted: list[tuple[int, datetime]], shown: list[tuple[AppealMessage, datetime]] = ()
    ) -> None:
        """Record that Telegram accepted these messages, each (id, when), and the messages that now
        show an appeal (see `remember`), in one transaction."""
        rows = [(to_ts(at), message_id) for message_id, at in accepted]
        statements = [statement for message, at in shown for statement in _remember(message, at)]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?", rows
            )
            for sql, params in statements:
                conn.execute(sql, params)

        await self._db.write(work)

    async def retry_later(
        self, message_id: int, not_before: datetime, error: str, *, count: bool = True, parts_sent: int = 0
    ) -> None:
        """Keep the message pending, to try again at `not_before` (flood control does not count as a try).

        `parts_sent`: how many of its parts Telegram already took; the retry starts after them.
        """
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET attempts = attempts + ?, not_before = ?, last_error = ?,"
                " parts_sent = max(parts_sent, ?) WHERE id = ?",
                (int(count), to_ts(not_before), error[:500], parts_sent, message_id),
            )
        )

    async def progress(self, message_id: int, parts_sent: int) -> None:
        """Record that Telegram took the first `parts_sent` parts of a message whose rest waits for pacing."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET parts_sent = max(parts_sent, ?) WHERE id = ?", (parts_sent, message_id)
            )
        )

    async def tell_coordinators_unreachable(self, chat_id: int, appeal_id: int | None, now: datetime) -> None:
        """Queue a notice to every coordinator that messages no longer reach `chat_id`."""
        ts = to_ts(now)
        params = json.dumps({"person": chat_id})
        await self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO outbox (chat_id, appeal_id, template, params, not_before, created_at)"
                " SELECT telegram_id, ?, 'notice.unreachable.coordinators', ?, ?, ? FROM people"
                " WHERE role = 'coordinator' AND telegram_id != ? AND reachable = 1",
                (appeal_id, params, ts, ts, chat_id),
            )
        )

    async def dead_letters(self, limit: int = 20) -> list[tuple[OutboxMessage, str]]:
        """The newest appeal notices given up on, with the reason (outreach is counted on its send instead)."""
        rows = await self._db.fetchall(
            f"SELECT {_ROW_COLUMNS}, last_error FROM outbox WHERE status = 'dead' AND lane = 0 ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            (OutboxMessage.model_validate({k: r[k] for k in r.keys() if k != "last_error"}), r["last_error"] or "")
            for r in rows
        ]

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Give up on a message Telegram refuses for good, keeping the reason."""
        await self._db.write(
            lambda conn: conn.execute(
                "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:500], message_id),
            )
        )

    # The messages that show an appeal in a chat (see migration "the messages that show an appeal").

    async def cards(self, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], AppealMessage]:
        """The card each (appeal, chat) of `pairs` holds, if any."""
        if not pairs:
            return {}
        appeals = sorted({appeal for appeal, _ in pairs})
        marks = ",".join("?" * len(appeals))
        rows = await self._db.fetchall(
            f"SELECT {_MESSAGE_COLUMNS} FROM appeal_messages WHERE kind = 'card' AND appeal_id IN ({marks})",
            tuple(appeals),
        )
        found = (AppealMessage.model_validate(dict(r)) for r in rows)
        return {(m.appeal_id, m.chat_id): m for m in found if (m.appeal_id, m.chat_id) in pairs}

    async def messages_about(self, appeal_id: int, chat_id: int | None = None) -> list[AppealMessage]:
        """The messages that show `appeal_id` (in one chat, or in all), oldest first."""
        where, params = (
            ("appeal_id = ?", (appeal_id,))
            if chat_id is None
            else ("appeal_id = ? AND chat_id = ?", (appeal_id, chat_id))
        )
        rows = await self._db.fetchall(
            f"SELECT {_MESSAGE_COLUMNS} FROM appeal_messages WHERE {where} ORDER BY sent_at, message_id", params
        )
        return [AppealMessage.model_validate(dict(r)) for r in rows]

    async def behind(self, appeal_ids: set[int]) -> list[tuple[AppealMessage, bool]]:
        """The messages about these appeals that show an older version than the appeal's own, each
        with whether a newer message of its kind replaced it in its chat."""
        if not appeal_ids:
            return []
        marks = ",".join("?" * len(appeal_ids))
        rows = await self._db.fetchall(
            f"SELECT m.chat_id, m.message_id, m.appeal_id, m.kind, m.template, m.version,"
            " EXISTS (SELECT 1 FROM appeal_messages n WHERE n.appeal_id = m.appeal_id AND n.chat_id = m.chat_id"
            " AND n.kind = m.kind AND n.message_id > m.message_id) AS replaced"
            f" FROM appeal_messages m JOIN appeals a ON a.id = m.appeal_id WHERE m.appeal_id IN ({marks})"
            " AND m.version < a.version ORDER BY m.chat_id, m.sent_at, m.message_id",
            tuple(sorted(appeal_ids)),
        )
        return [
            (AppealMessage.model_validate({k: r[k] for k in r.keys() if k != "replaced"}), bool(r["replaced"]))
            for r in rows
        ]

    async def remember(self, message: AppealMessage, now: datetime) -> None:
        """Record a message that shows an appeal now (a card replaces the chat's last card)."""
        statements = _remember(message, now)
        await self._db.write(lambda conn: [conn.execute(sql, params) for sql, params in statements])

    def forget_later(self, chat_id: int, message_id: int) -> None:
        """Stop keeping a message current (it has no buttons left, or Telegram no longer has it)."""
        self._db.defer("DELETE FROM appeal_messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id))

    async def write_later(self) -> None:
        """Write the records kept for the next write now, if nothing else wrote them."""
        await self._db.write_deferred()

    def shows_later(self, chat_id: int, message_id: int, version: int) -> None:
        """Record that a message now shows this version of its appeal, with the next write."""
        self._db.defer(
            "UPDATE appeal_messages SET version = max(version, ?) WHERE chat_id = ? AND message_id = ?",
            (version, chat_id, message_id),
        )


def _remember(message: AppealMessage, now: datetime) -> list[tuple[str, tuple[Any, ...]]]:
    statements: list[tuple[str, tuple[Any, ...]]] = []
    if message.kind == "card":
        statements.append(
            (
                "DELETE FROM appeal_messages WHERE kind = 'card' AND appeal_id = ? AND chat_id = ? AND message_id != ?",
                (message.appeal_id, message.chat_id, message.message_id),
            )
        )
    statements.append(
        (
            # The card's other rows went just above: only the message's own key can conflict.
            "INSERT INTO appeal_messages (chat_id, message_id, appeal_id, kind, template, version, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO UPDATE SET"
            " appeal_id = excluded.appeal_id, kind = excluded.kind, template = excluded.template,"
            " version = excluded.version, sent_at = excluded.sent_at",
            (
                message.chat_id,
                message.message_id,
                message.appeal_id,
                message.kind,
                message.template,
                message.version,
                to_ts(now),
            ),
        )
    )
    return statements
