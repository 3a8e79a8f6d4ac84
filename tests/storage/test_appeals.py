"""Applying events: one transaction each, compare-and-set, ledger, outbox and timers."""

import asyncio
from datetime import datetime, timedelta

import pytest

from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event, IllegalEvent, NotPermitted, Outcome, StaleEvent, State
from storage.appeals import AppealNotFound, BadEventArguments
from tests.storage.conftest import (
    COORDINATOR,
    COURIER,
    INTEGRITY_ERRORS,
    MONDAY_10,
    OTHER_COURIER,
    OTHER_STAFF,
    STAFF,
    STAFF_2,
    TZ,
    open_storage,
)

E = Event


def new_appeal(courier: int = COURIER, **extra) -> NewAppeal:
    """A wage complaint from `courier`."""
    return NewAppeal(
        courier_id=courier, category="work", description="Unpaid wages for October", language="en", **extra
    )


async def counts(storage) -> tuple[int, int, int, int]:
    """Rows in appeals, events, outbox and timers."""
    row = await storage.db.fetchone(
        "SELECT (SELECT count(*) FROM appeals), (SELECT count(*) FROM events),"
        " (SELECT count(*) FROM outbox), (SELECT count(*) FROM timers)"
    )
    return tuple(row)


async def outbox(storage) -> list[tuple[int, str]]:
    """(chat, template) of every outbox row, in order."""
    rows = await storage.db.fetchall("SELECT chat_id, template FROM outbox ORDER BY id")
    return [tuple(r) for r in rows]


async def test_unrouted_submission_waits_for_triage_and_tells_coordinators(storage) -> None:
    """No rule: the appeal is assessing, a triage deadline is armed, coordinators are told."""
    applied = await storage.appeals.submit(new_appeal(), None, MONDAY_10)
    assert applied.appeal.state is State.ASSESSING
    assert [(t.kind, t.due_at) for t in await storage.appeals.timers(applied.appeal.id)] == [
        ("triage", datetime(2026, 11, 23, 15, 30, tzinfo=TZ))  # 2 h before lunch, 2 h after it
    ]
    assert await outbox(storage) == [(COORDINATOR, "notice.submit.coordinators")]


async def test_routed_submission_goes_to_the_unit_with_deadlines(storage) -> None:
    """A rule's unit gets it at once: acceptance due in 1 working day, handling in 3."""
    applied = await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)
    appeal = applied.appeal
    assert (appeal.state, appeal.unit_id, appeal.version) == (State.HANDLING, "st1", 2)
    timers = {t.kind: t.due_at for t in await storage.appeals.timers(appeal.id)}
    assert timers == {
        "accept": datetime(2026, 11, 24, 10, 0, tzinfo=TZ),
        "handle": datetime(2026, 11, 26, 10, 0, tzinfo=TZ),
    }
    # The courier is told by the confirmation itself, not by a second notice.
    assert await outbox(storage) == [(STAFF, "notice.assign.unit"), (STAFF_2, "notice.assign.unit")]
    ledger = await storage.appeals.ledger(appeal.id)
    assert [(e.event, e.actor_id, e.actor_role, e.from_state, e.to_state) for e in ledger] == [
        (E.SUBMIT, COURIER, "courier", State.COLLECTING, State.ASSESSING),
        (E.ASSIGN, None, "system", State.ASSESSING, State.HANDLING),
    ]


async def test_the_whole_loop_with_a_reopen(storage) -> None:
    """submit -> accept -> ask -> answer -> resolve -> unsatisfied -> resolve -> satisfied."""
    appeal_id = (await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)).appeal.id
    t = MONDAY_10
    steps = [
        (E.ACCEPT, STAFF, EventArgs()),
        (E.ASK, STAFF, EventArgs(note="Which platform?")),
        (E.ANSWER, COURIER, EventArgs(note="Meituan")),
        (E.RESOLVE, STAFF, EventArgs(note="Paid on Friday")),
        (E.RATE_UNSATISFIED, COURIER, EventArgs(note="Only half was paid")),
        (E.RESOLVE, STAFF_2, EventArgs(note="The rest is paid")),
        (E.RATE_SATISFIED, COURIER, EventArgs()),
    ]
    for event, actor, args in steps:
        t += timedelta(minutes=20)
        await storage.appeals.apply(ActOnAppeal(appeal_id, event, actor, args), t)
    appeal = await storage.appeals.get(appeal_id)
    assert (appeal.state, appeal.outcome, appeal.reopens) == (State.CLOSED, Outcome.RESOLVED, 1)
    ledger = await storage.appeals.ledger(appeal_id)
    assert [e.event for e in ledger][2:] == [s[0] for s in steps]
    assert [e.note for e in ledger][3:5] == ["Which platform?", "Meituan"]
    assert [e.at for e in ledger][2:] == [MONDAY_10 + timedelta(minutes=20 * i) for i in range(1, 8)]
    accept, resolve = ledger[2], ledger[5]
    assert (accept.on_time, resolve.on_time) == (True, True)
    # Closed as resolved at 12:20, in the lunch break: the follow-up check (回访) counts 5 working
    # days from 13:30, which ends at noon the Monday after.
    (followup,) = await storage.appeals.timers(appeal_id)
    assert (followup.kind, followup.due_at) == ("followup", datetime(2026, 11, 30, 12, 0, tzinfo=TZ))


async def test_asking_the_courier_pauses_the_handling_clock(storage) -> None:
    """Waiting for the courier does not count: the handling deadline moves by the pause."""
    appeal_id = (await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)).appeal.id
    await storage.appeals.apply(ActOnAppeal(appeal_id, E.ACCEPT, STAFF), MONDAY_10)
    await storage.appeals.apply(ActOnAppeal(appeal_id, E.ASK, STAFF, EventArgs(note="Which day?")), MONDAY_10)
    (paused,) = [t for t in await storage.appeals.timers(appeal_id) if t.kind == "handle"]
    assert (paused.due_at, paused.remaining_s) == (None, 3 * 7.5 * 3600)
    # The courier answers two weeks later, Monday 2026-12-07 at 16:00.
    answered = datetime(2026, 12, 7, 16, 0, tzinfo=TZ)
    await storage.appeals.apply(ActOnAppeal(appeal_id, E.ANSWER, COURIER, EventArgs(note="Tuesday")), answered)
    (resumed,) = [t for t in await storage.appeals.timers(appeal_id) if t.kind == "handle"]
    assert resumed.due_at == datetime(2026, 12, 10, 16, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    "event,actor,args,error",
    [
        (E.ACCEPT, OTHER_STAFF, EventArgs(), NotPermitted),  # another unit's staff
        (E.ACCEPT, COURIER, EventArgs(), NotPermitted),
        (E.WITHDRAW, OTHER_COURIER, EventArgs(), NotPermitted),  # another courier
        (E.RESOLVE, STAFF, EventArgs(note="done in full"), IllegalEvent),  # not accepted yet
        (E.RATE_SATISFIED, COURIER, EventArgs(), IllegalEvent),  # not in feedback
        (E.SEND_BACK, STAFF, EventArgs(), BadEventArguments),  # no reason
        (E.REASSIGN, COORDINATOR, EventArgs(unit="nowhere"), BadEventArguments),
        (E.REASSIGN, COORDINATOR, EventArgs(unit="st1"), BadEventArguments),
        (E.NOTE, 999, EventArgs(note="hi"), NotPermitted),  # a stranger
    ],
)
async def test_refused_events_change_nothing(storage, event, actor, args, error) -> None:
    """An illegal, forbidden or malformed event raises and leaves every table as it was."""
    appeal_id = (await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)).appeal.id
    before = (await counts(storage), await storage.appeals.get(appeal_id))
    with pytest.raises(error):
        await storage.appeals.apply(ActOnAppeal(appeal_id, event, actor, args), MONDAY_10)
    assert (await counts(storage), await storage.appeals.get(appeal_id)) == before


async def test_unknown_appeal_and_stale_version(storage) -> None:
    """A number that does not exist, and a button pressed on an old view, are refused."""
    with pytest.raises(AppealNotFound):
        await storage.appeals.apply(ActOnAppeal(404, E.ACCEPT, STAFF), MONDAY_10)
    applied = await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)
    await storage.appeals.apply(ActOnAppeal(applied.appeal.id, E.ACCEPT, STAFF, expected_version=2), MONDAY_10)
    with pytest.raises(StaleEvent):
        await storage.appeals.apply(
            ActOnAppeal(applied.appeal.id, E.NOTE, STAFF, EventArgs(note="x"), expected_version=2), MONDAY_10
        )


async def test_send_back_limit_and_window(storage) -> None:
    """After three send-backs the unit must handle it; a send-back after the window is refused."""
    appeal_id = (await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)).appeal.id
    for _ in range(3):
        await storage.appeals.apply(
            ActOnAppeal(appeal_id, E.SEND_BACK, STAFF, EventArgs(note="not ours to handle")), MONDAY_10
        )
        await storage.appeals.apply(ActOnAppeal(appeal_id, E.ASSIGN, COORDINATOR, EventArgs(unit="st1")), MONDAY_10)
    with pytest.raises(IllegalEvent):
        await storage.appeals.apply(
            ActOnAppeal(appeal_id, E.SEND_BACK, STAFF, EventArgs(note="sent back again")), MONDAY_10
        )
    late = (await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)).appeal.id
    with pytest.raises(IllegalEvent):
        await storage.appeals.apply(
            ActOnAppeal(late, E.SEND_BACK, STAFF, EventArgs(note="late")), MONDAY_10 + timedelta(days=1, minutes=1)
        )


async def test_two_connections_racing_one_appeal_exactly_one_wins(database) -> None:
    """Two writers, two connections, the same appeal: one accept lands, the other is refused."""
    first, second = await open_storage(database), await open_storage(database)
    try:
        for _ in range(20):
            appeal_id = (await first.appeals.submit(new_appeal(), "st1", MONDAY_10)).appeal.id
            results = await asyncio.gather(
                first.appeals.apply(ActOnAppeal(appeal_id, E.ACCEPT, STAFF), MONDAY_10),
                second.appeals.apply(ActOnAppeal(appeal_id, E.ACCEPT, STAFF_2), MONDAY_10),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, Exception)]
            assert len(errors) == 1 and isinstance(errors[0], IllegalEvent), results
            ledger = await first.appeals.ledger(appeal_id)
            assert [e.event for e in ledger].count(E.ACCEPT) == 1
    finally:
        await first.close()
        await second.close()


BROKEN_OUTBOX = {
    "sqlite": [
        "CREATE TEMP TRIGGER break_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION disk_on_fire() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " RAISE EXCEPTION 'disk on fire' USING ERRCODE = 'integrity_constraint_violation'; END; $$",
        "CREATE TRIGGER break_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION disk_on_fire()",
    ],
}


async def test_a_failure_between_statements_writes_nothing(storage, backend) -> None:
    """If the outbox insert fails mid-transaction, the state change and ledger row roll back."""
    appeal_id = (await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)).appeal.id
    before = (await counts(storage), await storage.appeals.get(appeal_id))
    for sql in BROKEN_OUTBOX[backend]:
        await storage.db.run(lambda conn, sql=sql: conn.execute(sql))
    with pytest.raises(INTEGRITY_ERRORS, match="disk on fire"):
        await storage.appeals.apply(ActOnAppeal(appeal_id, E.ACCEPT, STAFF), MONDAY_10)
    assert (await counts(storage), await storage.appeals.get(appeal_id)) == before


async def test_the_ledger_is_append_only(storage) -> None:
    """Rewriting or deleting history fails at the database itself."""
    await storage.appeals.submit(new_appeal(), "st1", MONDAY_10)
    for sql in ("UPDATE events SET event = 'reject'", "DELETE FROM events", "UPDATE events SET at = 0"):
        with pytest.raises(INTEGRITY_ERRORS, match="append-only"):
            await storage.db.write(lambda conn, sql=sql: conn.execute(sql))
    await storage.db.write(lambda conn: conn.execute("UPDATE events SET note = NULL, actor_id = NULL"))


async def test_merge_needs_a_real_other_appeal(storage) -> None:
    """A duplicate merges into an existing appeal, never into itself or a missing one."""
    original = (await storage.appeals.submit(new_appeal(), None, MONDAY_10)).appeal.id
    duplicate = (await storage.appeals.submit(new_appeal(OTHER_COURIER), None, MONDAY_10)).appeal.id
    for target in (duplicate, 999):
        with pytest.raises(BadEventArguments):
            await storage.appeals.apply(
                ActOnAppeal(duplicate, E.MERGE, COORDINATOR, EventArgs(merged_into=target)), MONDAY_10
            )
    applied = await storage.appeals.apply(
        ActOnAppeal(duplicate, E.MERGE, COORDINATOR, EventArgs(merged_into=original)), MONDAY_10
    )
    assert (applied.appeal.outcome, applied.appeal.merged_into) == (Outcome.MERGED, original)
    assert (await outbox(storage))[-1] == (OTHER_COURIER, "notice.merge.courier")
