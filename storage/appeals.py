"""Appeals and their ledger: every change is one event applied in one transaction."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain import lifecycle
from domain.calendar import WorkingCalendar
from domain.commands import ActOnAppeal, AddToAnswer, AnswerFollowUp, EventArgs, NewAppeal, OpenHotSpot
from domain.deadlines import Arm, Clear, Pause, Priority, Resume, Spans, TimerChange, extensions_left, timer_changes
from domain.events import RULES
from domain.filing_limits import FilingLimits
from domain.ladder import LadderPolicy, first_step
from domain.lifecycle import Event, Role, State, Transition
from domain.merges import MergeSide, merge_refusal
from domain.names import Audience, Timer
from domain.notices import template
from domain.texts import has_real_words
from storage import cohandling
from storage.db import Database
from storage.desks import desk_chat
from storage.dialect import json_int
from storage.filing_limits import check_in
from storage.literals import literal
from storage.models import Appeal, LedgerEntry, TimerRow, appeal_facts, from_ts, to_ts

MAX_NOTE = 4000
# The most working days one extension may ask for or grant (the buttons offer fewer).
MAX_EXTENSION_DAYS = 10

SpansFor = Callable[[str, Priority], Spans]

# When a person holds several roles towards an appeal, the ledger records the first that may act.
_ROLE_ORDER = (Role.SYSTEM, Role.COURIER, Role.STAFF, Role.COHANDLER, Role.COORDINATOR)


@dataclass(frozen=True)
class ListPosition:
    """Where a page of a list ended: its last appeal, and that appeal's nearest deadline (as stored)."""

    id: int
    due: int | None = None

    @classmethod
    def of(cls, appeal: Appeal, due: datetime | None) -> ListPosition:
        """The position just after this row of a list."""
        return cls(appeal.id, to_ts(due) if due is not None else None)


class AppealNotFound(lifecycle.LifecycleError):
    """No appeal has that number."""

    def __init__(self, appeal_id: int) -> None:
        Exception.__init__(self, f"appeal {appeal_id} not found")
        self.reason = "not_found"
        self.appeal_id = appeal_id


class BadEventArguments(lifecycle.LifecycleError):
    """The event is allowed but what came with it is not (no reason given, unknown unit...)."""


def words_enough(event: Event, note: str | None) -> bool:
    """Whether `note` holds the real words `event` needs, not an emoji or a few characters (true for
    events that need none)."""
    rule = RULES[event].note
    return rule is None or not rule.weight or has_real_words(note, rule.weight)


class Applied:
    """The result of an applied event: the appeal as now stored, its ledger row, the transition taken."""

    def __init__(self, row: dict[str, Any], event_id: int, transition: Transition) -> None:
        self._row = row
        self.event_id = event_id
        self.transition = transition

    @functools.cached_property
    def appeal(self) -> Appeal:
        """The appeal as stored after the event (built on first use: the timers never look)."""
        return Appeal.from_row(self._row)


# State names as SQL literals. The unit queue's IN list is written as its partial index's condition
# is (storage/migrations.py), in the same order, so that SQLite sees the index applies.
_COLLECTING, _ASSESSING, _HANDLING = (literal(s) for s in (State.COLLECTING, State.ASSESSING, State.HANDLING))
_UNIT_QUEUE = f"state IN ({_HANDLING}, {literal(State.FEEDBACK)}) AND state = {_HANDLING}"
_FOLLOWUP = literal(Timer.FOLLOWUP)
_HANDLE = literal(Timer.HANDLE)

# An appeal's nearest deadline, kept on its row for the queues' index (run after its timers change).
_NEXT_DUE = "(SELECT min(t.due_at) FROM timers t WHERE t.appeal_id = ?)"

# The columns an event's UPDATE sets, in the order of its placeholders.
_UPDATED = (
    "state",
    "outcome",
    "unit_id",
    "priority",
    "accepted",
    "awaiting_courier",
    "send_backs",
    "reopens",
    "send_back_until",
    "merged_into",
    "extension_pending",
    "extensions",
    "co_units",
    "parts_open",
    "parts_unsigned",
    "parts_waived",
    "version",
    "updated_at",
)


def _person(conn: sqlite3.Connection, telegram_id: int) -> sqlite3.Row | None:
    return conn.execute("SELECT role, unit_id FROM people WHERE telegram_id = ?", (telegram_id,)).fetchone()


def _roles(conn: sqlite3.Connection, actor_id: int | None, row: sqlite3.Row) -> tuple[frozenset[Role], frozenset[Role]]:
    """The roles the actor holds towards the appeal in `row`, and those withheld because they filed it."""
    if actor_id is None:
        return frozenset({Role.SYSTEM}), frozenset()
    person = _person(conn, actor_id)
    position = lifecycle.Position(
        person_id=actor_id,
        person_role=person["role"] if person else None,
        person_unit=person["unit_id"] if person else None,
        courier_id=row["courier_id"],
        appeal_unit=row["unit_id"],
        co_units=frozenset(row["co_units"].split()),
    )
    return lifecycle.roles_of(position), lifecycle.withheld_roles(position)


def merge_side(row: sqlite3.Row | None) -> MergeSide | None:
    """What the merge rule needs to know of an `appeals` row."""
    return None if row is None else Appeal.from_row(row).merge_side()


def _check_args(conn: sqlite3.Connection, row: sqlite3.Row, event: Event, *, args: EventArgs, now: datetime) -> None:
    state = State(row["state"])

    def refuse(reason: str) -> None:
        raise BadEventArguments(reason, state, event)

    rule = RULES[event]
    has_note = bool(args.note and args.note.strip())
    if rule.note is not None and not has_note and not (rule.note.files_enough and args.attachments):
        refuse("note_required")
    if not words_enough(event, args.note):
        refuse("note_too_thin")
    if args.note is not None and len(args.note) > MAX_NOTE:
        refuse("note_too_long")
    if rule.takes_unit:
        if args.unit is None:
            refuse("unit_required")
        unit = conn.execute("SELECT active FROM units WHERE id = ?", (args.unit,)).fetchone()
        if unit is None or not unit["active"]:
            refuse("unknown_unit")
        if rule.another_unit and args.unit == row["unit_id"]:
            refuse("same_unit")
    if rule.merges:
        target = conn.execute("SELECT * FROM appeals WHERE id = ?", (args.merged_into,)).fetchone()
        refusal = merge_refusal(merge_side(row), merge_side(target), now)
        if refusal is not None:
            refuse(refusal.value)


def _on_time(conn: sqlite3.Connection, appeal_id: int, event: Event, now: int) -> bool | None:
    kind = RULES[event].on_time_by
    if kind is None:
        return None
    timer = conn.execute(
        "SELECT due_at, remaining_s FROM timers WHERE appeal_id = ? AND kind = ?", (appeal_id, kind)
    ).fetchone()
    if timer is None:
        return None
    if timer["due_at"] is None:
        return timer["remaining_s"] > 0
    return now <= timer["due_at"]


def arm(
    conn: sqlite3.Connection,
    appeal_id: int,
    timer: Timer,
    *,
    due: datetime,
    now: datetime,
    calendar: WorkingCalendar,
    policy: LadderPolicy,
) -> None:
    """(Re)arm a deadline at `due`, starting its ladder at the first step still ahead."""
    stage, fire_at = first_step(timer, due, now, calendar, policy)
    conn.execute(
        "INSERT INTO timers (appeal_id, kind, due_at, remaining_s, set_at, stage, fire_at)"
        " VALUES (?, ?, ?, NULL, ?, ?, ?) ON CONFLICT (appeal_id, kind) DO UPDATE SET due_at = excluded.due_at,"
        " remaining_s = NULL, set_at = excluded.set_at, stage = excluded.stage, fire_at = excluded.fire_at",
        (appeal_id, timer.value, to_ts(due), to_ts(now), stage.value, to_ts(fire_at) if fire_at else None),
    )


def _apply_timer(
    conn: sqlite3.Connection,
    appeal_id: int,
    change: TimerChange,
    *,
    calendar: WorkingCalendar,
    policy: LadderPolicy,
    now: datetime,
) -> None:
    key = (appeal_id, change.timer.value)
    match change:
        case Arm(timer, due):
            arm(conn, appeal_id, timer, due=due, now=now, calendar=calendar, policy=policy)
        case Clear():
            conn.execute("DELETE FROM timers WHERE appeal_id = ? AND kind = ?", key)
        case Pause():
            row = conn.execute(
                "SELECT due_at FROM timers WHERE appeal_id = ? AND kind = ? AND due_at IS NOT NULL", key
            ).fetchone()
            if row is not None:
                left = calendar.working_time_between(now, from_ts(row["due_at"]))
                conn.execute(
                    "UPDATE timers SET due_at = NULL, remaining_s = ?, fire_at = NULL WHERE appeal_id = ? AND kind = ?",
                    (int(left.total_seconds()), *key),
                )
        case Resume():
            row = conn.execute(
                "SELECT remaining_s FROM timers WHERE appeal_id = ? AND kind = ? AND due_at IS NULL", key
            ).fetchone()
            if row is not None:
                due = calendar.add(now, timedelta(seconds=row["remaining_s"]))
                arm(conn, appeal_id, change.timer, due=due, now=now, calendar=calendar, policy=policy)


def audience_ids(
    conn: sqlite3.Connection, audience: Audience, before: sqlite3.Row, after_unit: str | None
) -> list[int]:
    """The Telegram ids of everyone in `audience` for the appeal in row `before`."""
    match audience:
        case Audience.COURIER:
            return [before["courier_id"]] if before["courier_id"] is not None else []
        case Audience.UNIT | Audience.PREVIOUS_UNIT:
            unit = after_unit if audience is Audience.UNIT else before["unit_id"]
            if unit is None or (audience is Audience.PREVIOUS_UNIT and unit == after_unit):
                return []
            # A unit that works from its group (storage/desks.py) hears of it there, as one card.
            if (desk := desk_chat(conn, unit)) is not None:
                return [desk]
            # The courier who filed it hears of it as its courier, never as a worker who may handle it.
            sql = (
                "SELECT telegram_id FROM people WHERE role = 'staff' AND unit_id = ? AND telegram_id IS NOT ?"
                " ORDER BY telegram_id"
            )
            return [r[0] for r in conn.execute(sql, (unit, before["courier_id"]))]
        case Audience.COHANDLERS:
            units = before["co_units"].split()
            return [chat for unit in units for chat in cohandling.staff_ids(conn, unit, before["courier_id"])]
        case Audience.COORDINATORS:
            sql = "SELECT telegram_id FROM people WHERE role = 'coordinator' ORDER BY telegram_id"
            return [r[0] for r in conn.execute(sql)]
        case Audience.FOLLOWERS:
            # A UNION, not an OR: PostgreSQL scans every appeal for `merged_into = ? OR id IN (...)`.
            sql = (
                "SELECT courier_id FROM appeals WHERE merged_into = ? AND courier_id IS NOT NULL"
                " UNION SELECT a.courier_id FROM appeal_links l JOIN appeals a ON a.id = l.child_id"
                " WHERE l.parent_id = ? AND l.kind = 'hotspot' AND a.courier_id IS NOT NULL"
                " ORDER BY courier_id"
            )
            return [r[0] for r in conn.execute(sql, (before["id"], before["id"]))]


# The notice coordinators get when an appeal is with a unit its own filer works for.
OWN_UNIT_NOTICE = "selfhandling.landed"


def _filer_works_for(conn: sqlite3.Connection, courier_id: int | None, unit_id: str | None) -> bool:
    """Whether the courier who filed an appeal is staff of `unit_id`."""
    if courier_id is None or unit_id is None:
        return False
    sql = "SELECT 1 FROM people WHERE telegram_id = ? AND role = 'staff' AND unit_id = ?"
    return conn.execute(sql, (courier_id, unit_id)).fetchone() is not None


def _tell_coordinators_own_unit(conn: sqlite3.Connection, appeal_id: int, event_id: int | None, now: int) -> None:
    """Ask every coordinator to reassign an appeal that sits with its own filer's unit."""
    conn.execute(
        "INSERT INTO outbox (chat_id, appeal_id, event_id, template, params, not_before, created_at)"
        " SELECT telegram_id, ?, ?, ?, '{}', ?, ? FROM people WHERE role = 'coordinator' ORDER BY telegram_id",
        (appeal_id, event_id, OWN_UNIT_NOTICE, now, now),
    )


def tell_own_unit_in(conn: sqlite3.Connection, telegram_id: int, now: datetime) -> int:
    """Someone just became staff of a unit: ask the coordinators to reassign each of their own appeals it
    is handling. Returns how many there were."""
    rows = conn.execute(
        "SELECT a.id FROM appeals a JOIN people p ON p.telegram_id = a.courier_id AND p.role = 'staff'"
        f" AND p.unit_id = a.unit_id WHERE a.courier_id = ? AND a.state = {_HANDLING} ORDER BY a.id",
        (telegram_id,),
    ).fetchall()
    for row in rows:
        _tell_coordinators_own_unit(conn, row["id"], None, to_ts(now))
    return len(rows)


def _write_notices(
    conn: sqlite3.Connection,
    event: Event,
    event_id: int,
    *,
    before: sqlite3.Row,
    after_unit: str | None,
    actor_id: int | None,
    args: EventArgs,
    now: int,
    quiet: tuple[int, ...] = (),
    extra: dict[str, Any] | None = None,
) -> None:
    params = json.dumps(
        {
            **{k: v for k, v in (("note", args.note), ("merged_into", args.merged_into)) if v is not None},
            **(extra or {}),
        },
        ensure_ascii=False,
    )
    seen: set[int] = set(quiet) | ({actor_id} if actor_id is not None else set())
    rule = RULES[event]
    for audience in rule.tells:
        if audience is Audience.COHANDLER_ADDED:  # the co-handling unit (协办) the event adds
            chat_ids = cohandling.staff_ids(conn, (extra or {})["part_unit"], before["courier_id"])
        else:
            chat_ids = audience_ids(conn, audience, before, after_unit)
        for chat_id in chat_ids:
            if chat_id in seen:
                continue
            seen.add(chat_id)
            conn.execute(
                "INSERT INTO outbox (chat_id, appeal_id, event_id, template, params, not_before, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat_id, before["id"], event_id, template(event, audience), params, now, now),
            )
    if rule.takes_unit and _filer_works_for(conn, before["courier_id"], after_unit):
        _tell_coordinators_own_unit(conn, before["id"], event_id, now)


def extension_refusal(conn: sqlite3.Connection, row: sqlite3.Row, *, max_extensions: int, now: datetime) -> str | None:
    """Why the unit may not ask for more time on the appeal in `row` now (None: it may): the most
    extensions were approved already, or its handling deadline has passed."""
    if not extensions_left(row["extensions"], max_extensions):
        return "extension_limit"
    timer = conn.execute(
        f"SELECT due_at, remaining_s FROM timers WHERE appeal_id = ? AND kind = {_HANDLE}", (row["id"],)
    ).fetchone()
    if timer is None or (timer["due_at"] is not None and to_ts(now) > timer["due_at"]):
        return "extension_too_late"
    return None


def _pending_extension(conn: sqlite3.Connection, appeal_id: int) -> sqlite3.Row | None:
    """The unit's request for more time that waits for a coordinator, with its reason."""
    return conn.execute(
        "SELECT x.*, e.note FROM extensions x JOIN events e ON e.id = x.request_id"
        " WHERE x.appeal_id = ? AND x.state = 'pending' ORDER BY x.request_id DESC LIMIT 1",
        (appeal_id,),
    ).fetchone()


class Appeals:
    """The appeals repository: reads, submissions and lifecycle events."""

    def __init__(
        self, db: Database, calendar: WorkingCalendar, spans_for: SpansFor, ladder: LadderPolicy = LadderPolicy()
    ) -> None:
        self._db = db
        self._calendar = calendar
        self._ladder = ladder
        self._spans_for = spans_for
        self.max_extensions = 1  # deadlines.max_extensions: approved extensions per appeal
        self.max_redos = lifecycle.DEFAULT_MAX_REDOS  # feedback.max_redos: redos (重办) before a coordinator decides
        self.cohandling = cohandling.Cohandling(db, calendar)  # co-handling parts (协办) and their deadlines

    def _extend(
        self, conn: sqlite3.Connection, appeal_id: int, days: int, now: datetime
    ) -> tuple[int | None, int | None]:
        """Move the appeal's handling deadline by `days` working days, its ladder re-armed from the new due
        time (a paused deadline keeps that much more working time); the due times before and after."""
        timer = conn.execute(
            f"SELECT due_at, remaining_s FROM timers WHERE appeal_id = ? AND kind = {_HANDLE}", (appeal_id,)
        ).fetchone()
        if timer is None:
            return None, None
        if timer["due_at"] is None:  # paused while the courier is asked: it keeps that much more time
            left = timer["remaining_s"] + int(self._calendar.day_length().total_seconds()) * days
            conn.execute(
                f"UPDATE timers SET remaining_s = ? WHERE appeal_id = ? AND kind = {_HANDLE}", (left, appeal_id)
            )
            # Told as the deadline it would be were the courier to answer now.
            return None, to_ts(self._calendar.add(now, timedelta(seconds=left)))
        due = self._calendar.add_working_days(from_ts(timer["due_at"]), days)
        arm(conn, appeal_id, Timer.HANDLE, due=due, now=now, calendar=self._calendar, policy=self._ladder)
        return timer["due_at"], to_ts(due)

    def apply_in(
        self,
        conn: sqlite3.Connection,
        command: ActOnAppeal,
        *,
        now: datetime,
        notify: bool = True,
        quiet: tuple[int, ...] = (),
    ) -> Applied:
        """Apply one event inside the caller's transaction on `conn` (see `apply`)."""
        appeal_id, event, actor_id = command.appeal_id, command.event, command.actor_id
        args, expected_version = command.args, command.expected_version
        row = conn.execute("SELECT * FROM appeals WHERE id = ?", (appeal_id,)).fetchone()
        if row is None:
            raise AppealNotFound(appeal_id)
        state = State(row["state"])
        if expected_version is not None and row["version"] != expected_version:
            raise lifecycle.StaleEvent("stale", state, event)
        ts = to_ts(now)
        # Straight from the row: building the Appeal model here cost more than the rest of the rules.
        facts = appeal_facts(
            state,
            accepted=bool(row["accepted"]),
            awaiting_courier=bool(row["awaiting_courier"]),
            send_backs=row["send_backs"],
            send_back_until=from_ts(row["send_back_until"]),
            now=now,
            extension_pending=bool(row["extension_pending"]),
            redos=row["reopens"],
            max_redos=self.max_redos,
            parts=(row["parts_open"], row["parts_unsigned"], bool(row["parts_waived"])),
        )
        roles, withheld = _roles(conn, actor_id, row)
        transition = lifecycle.decide(facts, event, roles, withheld)
        _check_args(conn, row, event, args=args, now=now)
        rule = RULES[event]
        if rule.asks_extension or rule.grants_extension:
            if args.days is None or not 1 <= args.days <= MAX_EXTENSION_DAYS:
                raise BadEventArguments("extension_days", state, event)
        if rule.asks_extension:
            refusal = extension_refusal(conn, row, max_extensions=self.max_extensions, now=now)
            if refusal is not None:
                raise BadEventArguments(refusal, state, event)
        part = cohandling.part_unit(conn, rule, actor_id=actor_id, unit=args.unit)
        refusal = cohandling.part_refusal(conn, row, rule, part)
        if refusal is not None:
            raise BadEventArguments(refusal, state, event)
        if rule.takes_unit and args.unit in row["co_units"].split():
            raise BadEventArguments("cohandle_reassign", state, event)  # a co-handler cannot also lead
        new = lifecycle.after(facts, transition)
        role = next(r for r in _ROLE_ORDER if r in roles and r in transition.roles)

        unit = args.unit if rule.takes_unit else row["unit_id"]
        priority = Priority(args.priority or row["priority"])
        spans = self._spans_for(row["category"], priority)
        send_back_until = row["send_back_until"]
        if rule.opens_send_back_window:
            send_back_until = to_ts(spans.send_back_window.due_from(self._calendar, now))
        on_time = _on_time(conn, appeal_id, event, ts)
        if part is not None and not rule.adds_part:
            on_time = cohandling.on_time(conn, rule, appeal_id=appeal_id, unit=part, now=ts)

        # The row as it will be stored: written by the UPDATE, and what Applied.appeal is built from.
        written = dict(row)
        written.update(
            state=new.state.value,
            outcome=transition.outcome.value if transition.outcome else None,
            unit_id=unit,
            priority=priority.value,
            accepted=int(new.accepted),
            awaiting_courier=int(new.awaiting_courier),
            send_backs=new.send_backs,
            reopens=new.redos,
            send_back_until=send_back_until,
            merged_into=args.merged_into if rule.merges else row["merged_into"],
            extension_pending=int(new.extension_pending),
            extensions=row["extensions"] + int(rule.grants_extension),
            co_units=f"{row['co_units']} {part}".strip() if rule.adds_part else row["co_units"],
            parts_open=new.parts_open,
            parts_unsigned=new.parts_unsigned,
            parts_waived=int(new.parts_waived),
            version=row["version"] + 1,
            updated_at=ts,
        )
        for change in timer_changes(transition, spans, self._calendar, now):
            _apply_timer(conn, appeal_id, change, calendar=self._calendar, policy=self._ladder, now=now)
        # The request for more time this event answers, or leaves behind (it lapses with the unit's hands).
        answered = row["extension_pending"] and not new.extension_pending
        request = _pending_extension(conn, appeal_id) if answered else None
        due_before, due_after = (None, None)
        if rule.grants_extension:
            due_before, due_after = self._extend(conn, appeal_id, args.days, now)
        updated = conn.execute(
            "UPDATE appeals SET state = ?, outcome = ?, unit_id = ?, priority = ?, accepted = ?,"
            " awaiting_courier = ?, send_backs = ?, reopens = ?, send_back_until = ?,"
            " merged_into = ?, extension_pending = ?, extensions = ?, co_units = ?, parts_open = ?,"
            " parts_unsigned = ?, parts_waived = ?, version = ?, updated_at = ?, next_due = "
            + _NEXT_DUE
            + " WHERE id = ? AND state = ? AND version = ?",
            (*(written[column] for column in _UPDATED), appeal_id, appeal_id, state.value, row["version"]),
        ).rowcount
        if updated != 1:
            raise lifecycle.StaleEvent("stale", state, event)
        event_id = conn.execute(
            "INSERT INTO events (appeal_id, event, actor_id, actor_role, from_state, to_state,"
            " unit_id, note, on_time, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                appeal_id,
                event.value,
                actor_id,
                role.value,
                state.value,
                new.state.value,
                unit,
                args.note,
                None if on_time is None else int(on_time),
                ts,
            ),
        ).fetchone()[0]
        for attachment in args.attachments:
            conn.execute(
                "INSERT INTO attachments (appeal_id, event_id, kind, file_id, file_unique_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (appeal_id, event_id, *attachment, ts),
            )
        extra: dict[str, Any] = {}
        if part is not None:
            dues = self.cohandling.dues(now) if rule.adds_part else None
            cohandling.record(conn, rule, appeal_id=appeal_id, unit=part, event_id=event_id, now=now, dues=dues)
            extra["part_unit"] = part  # notices name the co-handling unit
            if dues is not None:
                extra["due"] = to_ts(dues[1])
        if rule.reopens:
            extra["redo"] = new.redos  # the unit is told which redo (重办) this is
        if rule.asks_extension:
            conn.execute(
                "INSERT INTO extensions (request_id, appeal_id, asked_days, asked_at) VALUES (?, ?, ?, ?)",
                (event_id, appeal_id, args.days, ts),
            )
            extra["days"] = args.days
        elif request is not None:
            decided = (
                "approved" if rule.grants_extension else "refused" if rule.extension_pending is False else "lapsed"
            )
            conn.execute(
                "UPDATE extensions SET state = ?, granted_days = ?, decision_id = ?, due_before = ?, due_after = ?,"
                " decided_at = ? WHERE request_id = ?",
                (
                    decided,
                    args.days if rule.grants_extension else None,
                    event_id,
                    due_before,
                    due_after,
                    ts,
                    request["request_id"],
                ),
            )
            if rule.grants_extension:
                # Told why: the unit's reason (the approval itself has no words), and the new deadline.
                extra.update(days=args.days, asked=request["asked_days"], note=request["note"])
                if due_after is not None:
                    extra["due"] = due_after
        if notify:
            _write_notices(
                conn,
                event,
                event_id,
                before=row,
                after_unit=unit,
                actor_id=actor_id,
                args=args,
                now=ts,
                quiet=quiet,
                extra=extra,
            )
        if rule.merges:
            # Couriers whose duplicates were merged into this appeal now follow the one it joins
            # (after the notices: they hear of this merge as followers of this appeal).
            conn.execute("UPDATE appeals SET merged_into = ? WHERE merged_into = ?", (args.merged_into, appeal_id))
        return Applied(written, event_id, transition)

    async def apply(self, command: ActOnAppeal, now: datetime) -> Applied:
        """Apply one event by one person (None: the system) in one transaction, or raise and change nothing."""
        return await self._db.write(lambda conn: self.apply_in(conn, command, now=now))

    def submit_in(self, conn: sqlite3.Connection, new: NewAppeal, unit: str | None, now: datetime) -> Applied:
        """File an appeal inside the caller's transaction (see `submit`)."""
        ts = to_ts(now)
        appeal_id = conn.execute(
            "INSERT INTO appeals (courier_id, category, priority, state, station_id, lat, lon,"
            " description, place, contact_phone, language, created_at, updated_at)"
            f" VALUES (?, ?, ?, {_COLLECTING}, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                new.courier_id,
                new.category,
                new.priority.value,
                new.station_id,
                new.lat,
                new.lon,
                new.description,
                new.place,
                new.contact_phone,
                new.language,
                ts,
                ts,
            ),
        ).fetchone()[0]
        submitted = self.apply_in(
            conn, ActOnAppeal(appeal_id, Event.SUBMIT, new.courier_id), now=now, notify=unit is None
        )
        conn.executemany(
            "INSERT INTO attachments (appeal_id, event_id, kind, file_id, file_unique_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(appeal_id, submitted.event_id, *a, ts) for a in new.attachments],
        )
        conn.execute("DELETE FROM drafts WHERE courier_id = ?", (new.courier_id,))
        if unit is None:
            return submitted
        # The courier learns the unit and deadline from the confirmation itself.
        return self.apply_in(
            conn, ActOnAppeal(appeal_id, Event.ASSIGN, None, EventArgs(unit=unit)), now=now, quiet=(new.courier_id,)
        )

    async def submit(
        self, new: NewAppeal, unit: str | None, now: datetime, limits: FilingLimits | None = None
    ) -> Applied:
        """File a courier's appeal, routed to `unit` when a rule chose one; the draft is consumed.

        With `limits`, raise FilingLimited (and change nothing, the draft kept) if they refuse it.
        """

        def work(conn: sqlite3.Connection) -> Applied:
            if limits is not None:
                check_in(conn, new.courier_id, now, limits)
            return self.submit_in(conn, new, unit, now)

        return await self._db.write(work)

    async def submit_draft(
        self, new: NewAppeal, *, started: int, unit: str | None, now: datetime, limits: FilingLimits | None = None
    ) -> Applied | None:
        """File the courier's draft begun at `started` if it is still there at review; None if it is not
        (a second tap of Confirm, even one handled side by side with the first, files nothing).

        With `limits`, raise FilingLimited (and change nothing, the draft kept) if they refuse it.
        """

        def work(conn: sqlite3.Connection) -> Applied | None:
            if limits is not None:
                check_in(conn, new.courier_id, now, limits)
            taken = conn.execute(
                "DELETE FROM drafts WHERE courier_id = ? AND step = 'review'"
                f" AND coalesce({json_int(conn, 'data', 'started')}, 0) = ?",
                (new.courier_id, started),
            ).rowcount
            return self.submit_in(conn, new, unit, now) if taken == 1 else None

        return await self._db.write(work)

    async def open_hotspot(self, command: OpenHotSpot, now: datetime) -> Applied | None:
        """One proactive appeal for a hot spot, linked to the appeals it gathers (waiting for routing);
        None if another already gathers one of them (two coordinators pressing at once make one)."""
        spot, description, language = command.spot, command.description, command.language

        def work(conn: sqlite3.Connection) -> Applied | None:
            marks = ",".join("?" * len(spot.appeal_ids))
            if conn.execute(
                f"SELECT 1 FROM appeal_links WHERE kind = 'hotspot' AND child_id IN ({marks}) LIMIT 1",
                tuple(spot.appeal_ids),
            ).fetchone():
                return None
            ts = to_ts(now)
            appeal_id = conn.execute(
                "INSERT INTO appeals (courier_id, category, state, station_id, lat, lon, description, language,"
                f" created_at, updated_at) VALUES (NULL, ?, {_COLLECTING}, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (spot.category, spot.station_id, spot.lat, spot.lon, description, language, ts, ts),
            ).fetchone()[0]
            conn.executemany(
                "INSERT INTO appeal_links (parent_id, child_id, kind) VALUES (?, ?, 'hotspot')",
                [(appeal_id, child) for child in spot.appeal_ids],
            )
            return self.apply_in(conn, ActOnAppeal(appeal_id, Event.SUBMIT, command.coordinator_id), now=now)

        return await self._db.write(work)

    async def answer_followup(self, command: AnswerFollowUp, now: datetime) -> Applied | bool:
        """The courier's answer to "still solved?": True if recorded, a new linked appeal if not solved.

        Returns False when there is no follow-up to answer (already answered, or not theirs).
        """
        appeal_id, courier_id, solved, description = (
            command.appeal_id,
            command.courier_id,
            command.solved,
            command.description,
        )

        def work(conn: sqlite3.Connection) -> Applied | bool:
            row = conn.execute(
                f"SELECT a.* FROM appeals a JOIN timers t ON t.appeal_id = a.id AND t.kind = {_FOLLOWUP}"
                " WHERE a.id = ? AND a.courier_id = ?",
                (appeal_id, courier_id),
            ).fetchone()
            if row is None:
                return False
            conn.execute(f"DELETE FROM timers WHERE appeal_id = ? AND kind = {_FOLLOWUP}", (appeal_id,))
            conn.execute(f"UPDATE appeals SET next_due = {_NEXT_DUE} WHERE id = ?", (appeal_id, appeal_id))
            if solved:
                return True
            original = Appeal.from_row(row)
            new = NewAppeal(
                courier_id=courier_id,
                category=original.category,
                description=description,
                language=original.language,
                station_id=original.station_id,
                lat=original.lat,
                lon=original.lon,
                place=original.place,
                contact_phone=original.contact_phone,
            )
            unit = conn.execute("SELECT id FROM units WHERE id = ? AND active = 1", (original.unit_id,)).fetchone()
            applied = self.submit_in(conn, new, unit["id"] if unit else None, now)
            conn.execute(
                "INSERT INTO appeal_links (parent_id, child_id, kind) VALUES (?, ?, 'followup')",
                (appeal_id, applied.appeal.id),
            )
            return applied

        return await self._db.write(work)

    async def extension_refusal(self, appeal_id: int, now: datetime) -> str | None:
        """Why the appeal's unit may not ask for more time now (see `extension_refusal`); None: it may."""

        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT * FROM appeals WHERE id = ?", (appeal_id,)).fetchone()
            return None if row is None else extension_refusal(conn, row, max_extensions=self.max_extensions, now=now)

        return await self._db.run(read)

    async def pending_extension(self, appeal_id: int) -> int | None:
        """The working days the appeal's unit asked for, while its request waits for a coordinator."""
        row = await self._db.fetchone(
            "SELECT asked_days FROM extensions WHERE appeal_id = ? AND state = 'pending' ORDER BY request_id DESC",
            (appeal_id,),
        )
        return None if row is None else row["asked_days"]

    async def tell_own_unit(self, telegram_id: int, now: datetime) -> int:
        """Someone just became staff: the coordinators are asked to reassign their own appeals their unit has."""
        return await self._db.write(lambda conn: tell_own_unit_in(conn, telegram_id, now))

    async def get(self, appeal_id: int) -> Appeal | None:
        """One appeal by number."""
        row = await self._db.fetchone("SELECT * FROM appeals WHERE id = ?", (appeal_id,))
        return None if row is None else Appeal.from_row(row)

    async def ledger(self, appeal_id: int) -> list[LedgerEntry]:
        """The appeal's events, oldest first."""
        rows = await self._db.fetchall("SELECT * FROM events WHERE appeal_id = ? ORDER BY id", (appeal_id,))
        return [LedgerEntry.from_row(r) for r in rows]

    async def notes(self, appeal_id: int) -> list[str | None]:
        """The note of each of the appeal's events, oldest first (None where an event has none)."""
        rows = await self._db.fetchall("SELECT note FROM events WHERE appeal_id = ? ORDER BY id", (appeal_id,))
        return [r["note"] for r in rows]

    async def timers(self, appeal_id: int) -> list[TimerRow]:
        """The appeal's armed and paused deadlines."""
        rows = await self._db.fetchall("SELECT * FROM timers WHERE appeal_id = ? ORDER BY kind", (appeal_id,))
        return [TimerRow.from_row(r) for r in rows]

    async def timers_of(self, appeal_ids: list[int]) -> dict[int, list[TimerRow]]:
        """The armed and paused deadlines of several appeals at once (a list's page), by appeal."""
        found: dict[int, list[TimerRow]] = {i: [] for i in appeal_ids}
        if not appeal_ids:
            return found
        marks = ", ".join("?" * len(appeal_ids))
        rows = await self._db.fetchall(
            f"SELECT * FROM timers WHERE appeal_id IN ({marks}) ORDER BY kind", tuple(appeal_ids)
        )
        for row in rows:
            found[row["appeal_id"]].append(TimerRow.from_row(row))
        return found

    async def _with_due(
        self, where: str, params: tuple, *, order: str, limit: int, source: str = "appeals"
    ) -> list[tuple[Appeal, datetime | None]]:
        rows = await self._db.fetchall(
            f"SELECT * FROM {source} WHERE {where} ORDER BY {order} LIMIT ?", (*params, limit)
        )
        return [(Appeal.from_row(r), from_ts(r["next_due"])) for r in rows]

    async def _by_deadline(
        self, index: str, where: str, params: tuple, *, limit: int, after: ListPosition | None
    ) -> list[tuple[Appeal, datetime | None]]:
        """Appeals matching `where` (the condition of `index`), nearest deadline first, then those without one.

        Each half is the start of a range of `index`, so a page costs the same whatever the backlog;
        `after` is the last appeal of the page before, where the next one starts.
        """
        source = f"appeals INDEXED BY {index}"
        first: list[tuple[Appeal, datetime | None]] = []
        if after is None or after.due is not None:
            since, values = ("", ()) if after is None else (" AND (next_due, id) > (?, ?)", (after.due, after.id))
            first = await self._with_due(
                f"{where} AND next_due IS NOT NULL{since}",
                (*params, *values),
                order="next_due, id",
                limit=limit,
                source=source,
            )
            if len(first) == limit:
                return first
        since, values = (" AND id > ?", (after.id,)) if after is not None and after.due is None else ("", ())
        rest = await self._with_due(
            f"{where} AND next_due IS NULL{since}",
            (*params, *values),
            order="id",
            limit=limit - len(first),
            source=source,
        )
        return first + rest

    async def of_courier(
        self, courier_id: int, limit: int = 10, after: ListPosition | None = None
    ) -> list[tuple[Appeal, datetime | None]]:
        """The courier's appeals, newest first, each with its nearest deadline (those older than `after`)."""
        since, values = ("", ()) if after is None else (" AND id < ?", (after.id,))
        return await self._with_due(f"courier_id = ?{since}", (courier_id, *values), order="id DESC", limit=limit)

    async def queue(
        self, unit_id: str, limit: int = 10, after: ListPosition | None = None
    ) -> list[tuple[Appeal, datetime | None]]:
        """The unit's open appeals, nearest deadline first (waiting-for-courier ones last); resolved ones
        waiting only for the courier's rating are no longer the unit's work."""
        # The IN term stays so that the partial index's condition is implied.
        where = f"unit_id = ? AND {_UNIT_QUEUE}"
        return await self._by_deadline("appeals_unit_queue", where, (unit_id,), limit=limit, after=after)

    async def queue_count(self, unit_id: str, at_most: int | None = None) -> int:
        """How many appeals `queue` holds for the unit; counting stops at `at_most` (a menu's badge needs no more)."""
        return await self._count(
            f"appeals INDEXED BY appeals_unit_queue WHERE unit_id = ? AND {_UNIT_QUEUE}", (unit_id,), at_most
        )

    async def triage_count(self, at_most: int | None = None) -> int:
        """How many appeals wait for a coordinator to route them; counting stops at `at_most`."""
        return await self._count(f"appeals INDEXED BY appeals_triage_queue WHERE state = {_ASSESSING}", (), at_most)

    async def _count(self, source: str, params: tuple, at_most: int | None) -> int:
        # Counting walks every entry of the index's range: 11-17 ms for a unit with 14,000 open appeals,
        # paid on every staff menu, where a capped count walks at most `at_most` (performance.md §2).
        if at_most is None:
            row = await self._db.fetchone(f"SELECT count(*) FROM {source}", params)
        else:
            row = await self._db.fetchone(
                f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT ?) AS capped", (*params, at_most)
            )
        return row[0]

    async def awaiting_triage(
        self, limit: int = 10, after: ListPosition | None = None
    ) -> list[tuple[Appeal, datetime | None]]:
        """Appeals no rule routed (or sent back), oldest deadline first."""
        return await self._by_deadline("appeals_triage_queue", f"state = {_ASSESSING}", (), limit=limit, after=after)

    async def with_own_unit(self, limit: int = 10) -> list[tuple[Appeal, datetime | None]]:
        """Appeals a unit is handling whose filer works there: a coordinator must reassign them (oldest first)."""
        where = (
            "id IN (SELECT a.id FROM people p JOIN appeals a ON a.courier_id = p.telegram_id AND a.unit_id = p.unit_id"
            f" WHERE p.role = 'staff' AND a.state = {_HANDLING})"
        )
        return await self._with_due(where, (), order="id", limit=limit)

    async def latest_answer(self, courier_id: int) -> LedgerEntry | None:
        """The courier's newest answer to a unit's question, on any appeal."""
        row = await self._db.fetchone(
            "SELECT * FROM events WHERE actor_id = ? AND event = ? ORDER BY id DESC LIMIT 1",
            (courier_id, Event.ANSWER.value),
        )
        return None if row is None else LedgerEntry.from_row(row)

    async def add_to_answer(self, command: AddToAnswer, *, template: str, now: datetime) -> None:
        """Files sent just after an answer: stored with it, and the unit holding the appeal told by `template` (they follow)."""
        appeal_id, answer_id, files = command.appeal_id, command.answer_id, command.files

        def work(conn: sqlite3.Connection) -> None:
            ts = to_ts(now)
            conn.executemany(
                "INSERT INTO attachments (appeal_id, event_id, kind, file_id, file_unique_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(appeal_id, answer_id, *f, ts) for f in files],
            )
            row = conn.execute("SELECT * FROM appeals WHERE id = ?", (appeal_id,)).fetchone()
            params = json.dumps({"count": len(files)})
            for chat_id in audience_ids(conn, Audience.UNIT, row, row["unit_id"]):
                conn.execute(
                    "INSERT INTO outbox (chat_id, appeal_id, event_id, template, params, not_before, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (chat_id, appeal_id, answer_id, template, params, ts, ts),
                )

        await self._db.write(work)

    async def add_words_to_answer(self, command: AddToAnswer, *, template: str, now: datetime) -> bool:
        """Words sent just after an answer of files alone: they become its words, and the unit is told by `template`.

        Only an answer with no words takes them (False otherwise): nothing written is ever replaced. The
        ledger's note is the one column it lets be written after the fact (the erasure trigger allows it);
        a second ANSWER event would claim a second answer to a question asked once.
        """

        appeal_id, answer_id, words = command.appeal_id, command.answer_id, command.words

        def work(conn: sqlite3.Connection) -> bool:
            ts = to_ts(now)
            if (
                conn.execute("UPDATE events SET note = ? WHERE id = ? AND note IS NULL", (words, answer_id)).rowcount
                != 1
            ):
                return False
            row = conn.execute("SELECT * FROM appeals WHERE id = ?", (appeal_id,)).fetchone()
            params = json.dumps({"note": words})
            # No event id: the answer's files went with its first notice and do not follow again.
            for chat_id in audience_ids(conn, Audience.UNIT, row, row["unit_id"]):
                conn.execute(
                    "INSERT INTO outbox (chat_id, appeal_id, template, params, not_before, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (chat_id, appeal_id, template, params, ts, ts),
                )
            return True

        return await self._db.write(work)

    async def attachments(self, appeal_id: int, event_id: int | None = None) -> list[tuple[str, str]]:
        """(kind, Telegram file id) of the appeal's files in order (only those one event brought, if given)."""
        where, params = (
            ("appeal_id = ?", (appeal_id,))
            if event_id is None
            else ("appeal_id = ? AND event_id = ?", (appeal_id, event_id))
        )
        rows = await self._db.fetchall(f"SELECT kind, file_id FROM attachments WHERE {where} ORDER BY id", params)
        return [(r["kind"], r["file_id"]) for r in rows]
