"""What the bot holds about a courier, erasing it on request, and anonymising old data.

Anonymising an appeal removes its texts (the description and every ledger note), its photos and
voice notes, the courier's phone and location, and the link to the courier; it keeps the
category, unit, station, states, outcome and timestamps, so the rates stay true. The ledger
itself stays append-only: its triggers let only `note` and `actor_id` be blanked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import lifecycle
from domain.commands import ActOnAppeal
from domain.lifecycle import Event, Role, State
from domain.wishes import OPEN_STATES as OPEN_WISH_STATES
from storage.appeals import Appeals
from storage.db import Database
from storage.dialect import json_int, tables_this_transaction_touched
from storage.literals import literal, literals
from storage.models import to_ts
from storage.outreach import TOPICS
from storage.people import JOIN_BURST_NOTICE
from storage.updates import KEEP
from storage.wishes import expire as expire_wishes
from storage.wishes import withdraw_and_blank

# States a courier may still withdraw from (the lifecycle table decides; these are the candidates).
_WITHDRAWABLE = literals(t.state for t in lifecycle.TABLE.values() if t.event is Event.WITHDRAW)
_OPEN = literals(lifecycle.OPEN_STATES)
_CLOSED = literal(State.CLOSED)
_BY_COURIER = literal(Role.COURIER)
_OPEN_WISHES = literals(OPEN_WISH_STATES)


class PrivacyRefused(Exception):
    """Erasure that must not happen here (staff and coordinators keep a work record)."""


@dataclass(frozen=True)
class Holdings:
    """What the bot holds about one person."""

    known: bool
    role: str | None
    language: str | None
    appeals: int = 0
    open_appeals: int = 0
    texts: int = 0  # descriptions, and ledger notes they wrote or that were written to them
    wish_texts: int = 0  # the texts of their micro-wishes
    files: int = 0  # photos and voice notes
    phone: bool = False
    location: bool = False
    draft: bool = False
    wishes: int = 0  # micro-wishes they posted
    open_wishes: int = 0
    signups: int = 0  # places and waiting-list positions in activities
    topics: tuple[str, ...] = ()  # the outreach topics they chose to hear about


@dataclass(frozen=True)
class Erased:
    """What an erasure did."""

    withdrawn: tuple[int, ...]
    appeals: int
    # Whether anything was there to erase, judged in the erasing transaction: of two taps, one erases.
    found: bool = True
    signups: int = 0  # places and waiting-list positions given up in activities still to come
    wishes_withdrawn: int = 0  # open micro-wishes withdrawn


@dataclass(frozen=True)
class Expired:
    """What one retention run anonymised or deleted."""

    appeals: int
    people: int
    locations: int
    drafts: int
    notices: int


_CHUNK = 400  # people per statement: well inside SQLite's limit on parameters


def _placeholders(ids: Sequence[int]) -> str:
    return ",".join("?" * len(ids))


def anonymise_appeals(conn: sqlite3.Connection, ids: Sequence[int], now: datetime) -> None:
    """Remove the personal content of these appeals inside the caller's transaction."""
    if not ids:
        return
    marks = _placeholders(ids)
    conn.execute(
        "UPDATE appeals SET description = '', place = NULL, contact_phone = NULL, lat = NULL, lon = NULL,"
        f" courier_id = NULL, anonymised_at = ? WHERE id IN ({marks})",
        (to_ts(now), *ids),
    )
    conn.execute(
        f"UPDATE events SET note = NULL, actor_id = CASE WHEN actor_role = {_BY_COURIER} THEN NULL ELSE actor_id END"
        f" WHERE appeal_id IN ({marks}) AND (note IS NOT NULL OR actor_role = {_BY_COURIER})",
        tuple(ids),
    )
    conn.execute(f"DELETE FROM attachments WHERE appeal_id IN ({marks})", tuple(ids))
    # Notices quote notes and answers in their parameters.
    conn.execute(f"UPDATE outbox SET params = '{{}}' WHERE appeal_id IN ({marks})", tuple(ids))
    # A typed answer owed about the appeal holds the words typed so far.
    conn.execute(f"DELETE FROM prompts WHERE appeal_id IN ({marks})", tuple(ids))
    # The ledger of people actions named the person by this appeal: it would tie it to them again.
    conn.execute(f"UPDATE people_actions SET appeal_id = NULL WHERE appeal_id IN ({marks})", tuple(ids))


# Notices to coordinators whose parameters name another person.
_NAMING = ("notice.unreachable.coordinators", JOIN_BURST_NOTICE)


def forget_people(conn: sqlite3.Connection, telegram_ids: Sequence[int]) -> int:
    """Remove every trace of these people's Telegram identity inside the caller's transaction.

    Their appeals must be anonymised first (their rows name the courier). The ledger keeps its rows
    with no actor; staff work they once did is kept the same way, without their id. Each statement
    takes a chunk of people at once: the ledger and the outbox have no index on a person, and a
    retention run may forget thousands. Returns how many rows it changed or removed, their own
    `people` rows aside (every press makes a person's bare row again).
    """
    ids = list(telegram_ids)
    touched = 0
    for chunk in (ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)):
        marks = _placeholders(chunk)
        touched += conn.execute(f"UPDATE events SET actor_id = NULL WHERE actor_id IN ({marks})", chunk).rowcount
        touched += conn.execute(
            f"UPDATE people_actions SET actor_id = NULL WHERE actor_id IN ({marks})", chunk
        ).rowcount
        # Outreach not yet sent to them is given up first, so its send counts them as stopped (the
        # trigger of the migration "outreach") rather than waiting for ever for rows that are gone.
        conn.execute(
            f"UPDATE outbox SET status = 'dead', last_error = 'not listening: erased'"
            f" WHERE status = 'pending' AND send_id IS NOT NULL AND chat_id IN ({marks})",
            chunk,
        )
        for table, column in (
            ("outbox", "chat_id"),
            ("appeal_messages", "chat_id"),
            ("drafts", "courier_id"),
            ("prompts", "telegram_id"),
            ("last_locations", "telegram_id"),
            ("join_failures", "telegram_id"),
            ("join_bursts", "telegram_id"),
            ("people_actions", "person_id"),
            ("outreach_choices", "telegram_id"),
            ("outreach_drafts", "telegram_id"),
            ("activity_signups", "person_id"),
            ("activity_drafts", "telegram_id"),
            # Surveys: unfinished answers, who answered, and the answers given with their name (with their texts).
            ("survey_progress", "telegram_id"),
            ("survey_takers", "telegram_id"),
            ("survey_responses", "telegram_id"),
        ):
            touched += conn.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk).rowcount
        # Coordinators were told a chat could not be reached, or that it guessed codes: the notice names the person.
        conn.execute(
            f"DELETE FROM outbox WHERE template IN ({_placeholders(_NAMING)})"
            f" AND {json_int(conn, 'params', 'person')} IN ({marks})",
            [*_NAMING, *chunk],
        )
        for table in ("outreach_sends", "outreach_notices"):  # a send's counts stay, without who made it
            conn.execute(f"UPDATE {table} SET created_by = NULL WHERE created_by IN ({marks})", chunk)
        # A used invite keeps who used it; a dead code is no loss.
        touched += conn.execute(
            f"DELETE FROM invites WHERE used_by IN ({marks}) OR created_by IN ({marks})", chunk + chunk
        ).rowcount
        conn.execute(f"DELETE FROM people WHERE telegram_id IN ({marks})", chunk)
    _forget_updates(conn, set(ids))
    return touched


def digest_chat(digest: str) -> int | None:
    """The chat a handled update's digest names (bot.app._digest): "m:<chat>:…" for a message,
    "cq:<query>:<chat>:…" for a press; None for the rest (hashes, presses on inline messages)."""
    parts = digest.split(":", 3)
    field = parts[1] if parts[0] == "m" else parts[2] if parts[0] == "cq" and len(parts) > 2 else ""
    return int(field) if field.lstrip("-").isdigit() else None


def _forget_updates(conn: sqlite3.Connection, telegram_ids: set[int]) -> None:
    """Delete the records of handled updates sent from these people's chats: one pass, however many people."""
    if not telegram_ids:
        return
    rows = conn.execute("SELECT update_id, digest FROM handled_updates").fetchall()
    doomed = [(update_id, digest) for update_id, digest in rows if digest_chat(digest) in telegram_ids]
    conn.executemany("DELETE FROM handled_updates WHERE update_id = ? AND digest = ?", doomed)


class Privacy:
    """The privacy repository."""

    def __init__(self, db: Database, appeals: Appeals, erased: Callable[[], None] = lambda: None) -> None:
        self._db = db
        self._appeals = appeals
        self._erased = erased  # told after people are forgotten (the mutes kept in memory are read again)

    async def holdings(self, telegram_id: int) -> Holdings:
        """Counts of what is kept about this person, in one trip to the database."""

        def work(conn: sqlite3.Connection) -> Holdings:
            person = conn.execute("SELECT role, language FROM people WHERE telegram_id = ?", (telegram_id,)).fetchone()
            if person is None:
                return Holdings(False, None, None)
            appeals = conn.execute(
                f"SELECT count(*) AS n, count(*) FILTER (WHERE state IN ({_OPEN})) AS open,"
                " count(*) FILTER (WHERE description != '') AS texts,"
                " count(*) FILTER (WHERE contact_phone IS NOT NULL) AS phones"
                " FROM appeals WHERE courier_id = ?",
                (telegram_id,),
            ).fetchone()
            notes = conn.execute(
                "SELECT count(*) FROM events WHERE note IS NOT NULL AND appeal_id IN"
                " (SELECT id FROM appeals WHERE courier_id = ?)",
                (telegram_id,),
            ).fetchone()[0]
            files = conn.execute(
                "SELECT count(*) FROM attachments WHERE appeal_id IN (SELECT id FROM appeals WHERE courier_id = ?)",
                (telegram_id,),
            ).fetchone()[0]
            location = conn.execute("SELECT 1 FROM last_locations WHERE telegram_id = ?", (telegram_id,)).fetchone()
            draft = conn.execute("SELECT 1 FROM drafts WHERE courier_id = ?", (telegram_id,)).fetchone()
            wishes = conn.execute(
                "SELECT count(*) AS n, count(*) FILTER (WHERE text != '') AS texts,"
                f" count(*) FILTER (WHERE state IN ({_OPEN_WISHES})) AS open FROM wishes WHERE courier_id = ?",
                (telegram_id,),
            ).fetchone()
            signups = conn.execute(
                "SELECT count(*) FROM activity_signups WHERE person_id = ?", (telegram_id,)
            ).fetchone()[0]
            choices = conn.execute(
                "SELECT surveys, activities, notices FROM outreach_choices WHERE telegram_id = ?", (telegram_id,)
            ).fetchone()
            return Holdings(
                known=True,
                role=person["role"],
                language=person["language"],
                appeals=appeals["n"],
                open_appeals=appeals["open"],
                texts=appeals["texts"] + notes,
                wish_texts=wishes["texts"],
                files=files,
                phone=bool(appeals["phones"]),
                location=location is not None,
                draft=draft is not None,
                wishes=wishes["n"],
                open_wishes=wishes["open"],
                signups=signups,
                topics=tuple(topic for topic in TOPICS if choices is not None and choices[topic]),
            )

        return await self._db.run(work)

    async def erase(self, telegram_id: int, now: datetime) -> Erased:
        """Withdraw the courier's open appeals, then remove their texts, files, phone, location and identity."""
        person = await self._db.fetchone("SELECT role FROM people WHERE telegram_id = ?", (telegram_id,))
        if person is not None and person["role"] != "courier":
            raise PrivacyRefused(f"{telegram_id} is {person['role']}: remove the role first")
        rows = await self._db.fetchall(
            f"SELECT id FROM appeals WHERE courier_id = ? AND state IN ({_WITHDRAWABLE}) ORDER BY id", (telegram_id,)
        )
        withdrawn = []
        for row in rows:
            try:
                await self._appeals.apply(ActOnAppeal(row["id"], Event.WITHDRAW, telegram_id), now)
            except lifecycle.LifecycleError:
                continue  # it moved on meanwhile (to feedback, or closed): anonymised all the same
            withdrawn.append(row["id"])

        # Records of their earlier updates may still wait to ride along with a write: written first,
        # they are erased with the rest.
        await self._db.write_deferred()

        def work(conn: sqlite3.Connection) -> tuple[int, bool, int, int, list[str]]:
            ids = [r[0] for r in conn.execute("SELECT id FROM appeals WHERE courier_id = ?", (telegram_id,))]
            anonymise_appeals(conn, ids, now)
            # Micro-wishes: open ones withdrawn, texts gone.
            wishes_withdrawn, wishes = withdraw_and_blank(conn, telegram_id, now)
            signups = conn.execute(
                "SELECT count(*) FROM activity_signups g JOIN activities a ON a.id = g.activity_id"
                " WHERE g.person_id = ? AND a.starts_at > ?",
                (telegram_id, to_ts(now)),
            ).fetchone()[0]  # forget_people removes them; these are the ones given up rather than past
            # Decided in the erasing transaction: of two erasures handled side by side, one finds the data.
            found = forget_people(conn, [telegram_id]) > 0 or bool(ids) or wishes > 0
            # Every table it looked in, changed or not: an earlier version of a row (a draft as it was
            # typed, since deleted) may still be in one's files on PostgreSQL, until the night's
            # retention run rewrites them (a rewrite now would lock the appeals for seconds).
            for table in tables_this_transaction_touched(conn, read_too=True):
                conn.execute("INSERT INTO scrub_due (table_name) VALUES (?)", (table,))
            return len(ids), found, signups, wishes_withdrawn

        count, found, signups, wishes_withdrawn = await self._db.write(work, long=True)
        self._erased()
        # SQLite: the old versions of the pages just cleaned are still in the write-ahead log until a
        # checkpoint copies the new ones over them and empties it.
        await self._db.checkpoint_truncate()
        return Erased(tuple(withdrawn), count, found, signups, wishes_withdrawn)

    async def anonymise_expired(self, now: datetime, retention_days: int, batch: int = 500) -> Expired:
        """Anonymise what is older than the retention: closed appeals, locations, drafts, sent notices, idle couriers."""
        cutoff = to_ts(now - timedelta(days=retention_days))
        appeals = 0
        # The tables it looked in, for the scrub: rows deleted earlier (a prompt answered) are still in
        # their files on PostgreSQL.
        looked_in: set[str] = set()
        while True:

            def one_batch(conn: sqlite3.Connection) -> int:
                ids = [
                    r[0]
                    for r in conn.execute(
                        f"SELECT id FROM appeals WHERE anonymised_at IS NULL AND updated_at < ? AND state = {_CLOSED}"
                        " ORDER BY updated_at LIMIT ?",
                        (cutoff, batch),
                    )
                ]
                if not ids:
                    return 0
                anonymise_appeals(conn, ids, now)
                # The messages that showed them name the courier's chat; closed long ago, they are no
                # longer kept current.
                conn.execute(f"DELETE FROM appeal_messages WHERE appeal_id IN ({_placeholders(ids)})", ids)
                looked_in.update(tables_this_transaction_touched(conn, read_too=True))
                return len(ids)

            # Short transactions: the bot keeps answering between batches.
            done = await self._db.write(one_batch, long=True)
            appeals += done
            if done < batch:
                break

        def rest(conn: sqlite3.Connection) -> Expired:
            locations = conn.execute("DELETE FROM last_locations WHERE at < ?", (cutoff,)).rowcount
            drafts = conn.execute("DELETE FROM drafts WHERE updated_at < ?", (cutoff,)).rowcount
            expire_wishes(conn, cutoff)  # micro-wishes settled long ago: their texts and people
            notices = conn.execute(
                "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?", (cutoff,)
            ).rowcount
            # A survey begun and left, and a survey answer's name, are kept as long as a draft and an appeal are.
            conn.execute("DELETE FROM survey_progress WHERE updated_at < ?", (cutoff,))
            conn.execute(
                "UPDATE survey_responses SET telegram_id = NULL, submitted_at = NULL"
                " WHERE telegram_id IS NOT NULL AND submitted_at < ?",
                (cutoff,),
            )
            idle = [
                r[0]
                for r in conn.execute(
                    "SELECT telegram_id FROM people WHERE role = 'courier' AND created_at < ?"
                    " AND NOT EXISTS (SELECT 1 FROM appeals a WHERE a.courier_id = people.telegram_id)"
                    " AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.courier_id = people.telegram_id)"
                    " AND NOT EXISTS (SELECT 1 FROM prompts p WHERE p.telegram_id = people.telegram_id)"
                    " AND NOT EXISTS (SELECT 1 FROM last_locations l WHERE l.telegram_id = people.telegram_id)"
                    " AND NOT EXISTS (SELECT 1 FROM survey_progress s WHERE s.telegram_id = people.telegram_id)"
                    " AND NOT EXISTS (SELECT 1 FROM survey_responses r WHERE r.telegram_id = people.telegram_id)"
                    " AND NOT EXISTS (SELECT 1 FROM wishes w WHERE w.courier_id = people.telegram_id)"
                    # Still asking to hear from the district, and reachable: their yes is kept, not their idleness judged.
                    " AND NOT (people.reachable = 1 AND EXISTS (SELECT 1 FROM outreach_choices c"
                    " WHERE c.telegram_id = people.telegram_id AND (c.surveys = 1 OR c.activities = 1 OR c.notices = 1)))"
                    # A place (or a waiting-list position) in an activity not long past.
                    " AND NOT EXISTS (SELECT 1 FROM activity_signups g JOIN activities a ON a.id = g.activity_id"
                    " WHERE g.person_id = people.telegram_id AND a.starts_at >= ?)",
                    (cutoff, cutoff),
                )
            ]
            # Handled updates are needed for a week at most (storage.updates.KEEP); their digests name chats.
            conn.execute("DELETE FROM handled_updates WHERE handled_at < ?", (to_ts(now - KEEP),))
            # The ledger of people actions is kept as long as appeals are (a mute lasts a week at most).
            conn.execute("DELETE FROM people_actions WHERE at < ?", (cutoff,))
            forget_people(conn, idle)
            looked_in.update(tables_this_transaction_touched(conn, read_too=True))
            # And what erasures since the last run left: up to the newest now (one that comes during the
            # rewrite stays for the next night).
            nonlocal scrubbed_up_to
            scrubbed_up_to = conn.execute("SELECT coalesce(max(id), 0) FROM scrub_due").fetchone()[0]
            looked_in.update(r[0] for r in conn.execute("SELECT DISTINCT table_name FROM scrub_due"))
            return Expired(appeals, len(idle), locations, drafts, notices)

        scrubbed_up_to = 0
        expired = await self._db.write(rest, long=True)
        self._erased()
        if await self._db.scrub(looked_in) and scrubbed_up_to:
            await self._db.write(lambda conn: conn.execute("DELETE FROM scrub_due WHERE id <= ?", (scrubbed_up_to,)))
        return expired
