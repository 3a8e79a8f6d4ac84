"""The invariant checker: silent on databases the bot made, and loud on each kind of damage planted by hand."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from handlers import callbacks
from storage.invariants import check_database, check_invariants
from tests.every_state import (
    COORDINATOR,
    COURIER,
    HR_STAFF,
    OTHER_COURIER,
    Appeals,
    act,
    every_state,
    greet_everyone,
    press_data,
)
from tests.harness import running_bot


async def _build(path: Path) -> Appeals:
    async with running_bot(path) as bot:
        await greet_everyone(bot)
        return await every_state(bot)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Appeals]:
    """One database with an appeal in every state, made through the bot, shared read-only."""
    path = tmp_path_factory.mktemp("invariants") / "base.sqlite3"
    appeals = asyncio.run(_build(path))
    return path, appeals


def test_every_state_made_through_the_bot_passes(base) -> None:
    """Every state, flag and outcome the loop produces is consistent with its ledger and timers."""
    path, appeals = base
    assert check_invariants(path) == []
    conn = sqlite3.connect(path)
    states = {row[0] for row in conn.execute("SELECT state || '/' || ifnull(outcome, '') FROM appeals")}
    conn.close()
    assert states == {
        "assessing/",
        "handling/",
        "feedback/",
        "closed/resolved",
        "closed/rejected",
        "closed/merged",
        "closed/withdrawn",
    }


async def test_each_applied_appeal_is_the_row_as_stored(tmp_path, monkeypatch) -> None:
    """apply_in builds the appeal it returns without reading it back: it must equal the row it wrote."""
    from storage.appeals import Appeals as Repository
    from storage.models import Appeal

    real = Repository.apply_in
    checked: list[str] = []

    def apply_and_compare(self, conn, command, **kwargs):
        applied = real(self, conn, command, **kwargs)
        stored = Appeal.from_row(conn.execute("SELECT * FROM appeals WHERE id = ?", (command.appeal_id,)).fetchone())
        assert applied.appeal == stored
        checked.append(applied.transition.event.value)
        return applied

    monkeypatch.setattr(Repository, "apply_in", apply_and_compare)
    async with running_bot(tmp_path / "applied.sqlite3") as bot:
        await greet_everyone(bot)
        await every_state(bot)
    assert {"submit", "assign", "accept", "resolve", "merge", "reject", "withdraw", "rate_unsatisfied"} <= set(checked)


async def test_time_follow_ups_and_erasure_keep_the_invariants(tmp_path) -> None:
    """Reminders, auto-close, a follow-up answered "not solved" and a courier's erasure: still consistent."""
    async with running_bot(tmp_path / "later.sqlite3") as bot:
        await greet_everyone(bot)
        appeals = await every_state(bot)
        db = bot.services.storage.db
        assert await check_database(db) == []
        for _ in range(12):  # two weeks, a day at a time: every ladder step, auto-close, follow-ups
            bot.clock.advance(days=1)
            await bot.tick()
            assert await check_database(db) == []
        auto_closed = await bot.services.storage.appeals.get(appeals.feedback)
        assert auto_closed.outcome == "auto_closed"
        await act(bot, OTHER_COURIER, appeals.resolved, "fun")  # "not solved again": a new, linked appeal
        links = await db.fetchall("SELECT kind FROM appeal_links")
        assert [r["kind"] for r in links] == ["followup"]
        assert await check_database(db) == []
        await press_data(bot, COURIER, callbacks.encode(callbacks.Family.PRIVACY, callbacks.PrivacyVerb.YES))
        assert await bot.services.storage.people.get(COURIER) is None
        assert await check_database(db) == []


@pytest.fixture
def planted(base, tmp_path) -> Callable[[str], list[str]]:
    """Run SQL on a copy of the base database (constraints and foreign keys off), then check it."""
    path, _ = base

    def plant(sql: str) -> list[str]:
        copy = tmp_path / "planted.sqlite3"
        shutil.copy(path, copy)
        conn = sqlite3.connect(copy)
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.executescript(sql)
        conn.commit()
        conn.close()
        return check_invariants(copy)

    return plant


# (what is planted, SQL with {names} of Appeals fields, a fragment the report must contain)
PLANTED = [
    (
        "a corrupted state",
        "UPDATE appeals SET state = 'feedback' WHERE id = {handling}",
        "ledger: appeal #{handling} has state = 'feedback' but its ledger says 'handling'",
    ),
    (
        "a wrong outcome",
        "UPDATE appeals SET outcome = 'rejected' WHERE id = {withdrawn}",
        "ledger: appeal #{withdrawn} has outcome = 'rejected' but its ledger says 'withdrawn'",
    ),
    (
        "a lost accepted flag",
        "UPDATE appeals SET accepted = 0 WHERE id = {accepted}",
        "ledger: appeal #{accepted} has accepted = 0 but its ledger says 1",
    ),
    (
        "a lost awaiting flag",
        "UPDATE appeals SET awaiting_courier = 0 WHERE id = {awaiting}",
        "ledger: appeal #{awaiting} has awaiting_courier = 0 but its ledger says 1",
    ),
    (
        "a wrong send-back count",
        "UPDATE appeals SET send_backs = 3 WHERE id = {sent_back}",
        "ledger: appeal #{sent_back} has send_backs = 3 but its ledger says 1",
    ),
    (
        "a lost reopen",
        "UPDATE appeals SET reopens = 0 WHERE id = {reopened}",
        "ledger: appeal #{reopened} has reopens = 0 but its ledger says 1",
    ),
    (
        "a unit the ledger never assigned",
        "UPDATE appeals SET unit_id = 'st1' WHERE id = {handling}",
        "ledger: appeal #{handling} has unit_id = 'st1' but its ledger says 'hr'",
    ),
    (
        "a version that skips",
        "UPDATE appeals SET version = version + 1 WHERE id = {feedback}",
        "ledger: appeal #{feedback} has version",
    ),
    (
        "an event the lifecycle refuses",
        "INSERT INTO events (appeal_id, event, actor_id, actor_role, from_state, to_state, unit_id, at)"
        " VALUES ({handling}, 'resolve', 1002, 'courier', 'handling', 'feedback', 'hr', 0);"
        " UPDATE appeals SET version = version + 1 WHERE id = {handling}",
        "the lifecycle refuses it in handling: not_permitted",
    ),
    (
        "an event from the wrong state",
        "INSERT INTO events (appeal_id, event, actor_id, actor_role, from_state, to_state, unit_id, at)"
        " VALUES ({accepted}, 'note', 600, 'staff', 'feedback', 'handling', 'hr', 0);"
        " UPDATE appeals SET version = version + 1 WHERE id = {accepted}",
        "recorded from feedback but the appeal was handling",
    ),
    (
        "an event to the wrong state",
        "INSERT INTO events (appeal_id, event, actor_id, actor_role, from_state, to_state, unit_id, at)"
        " VALUES ({accepted}, 'note', 600, 'staff', 'handling', 'closed', 'hr', 0);"
        " UPDATE appeals SET version = version + 1 WHERE id = {accepted}",
        "recorded to closed but the table goes to handling",
    ),
    (
        "a courier event by someone else",
        "INSERT INTO events (appeal_id, event, actor_id, actor_role, from_state, to_state, unit_id, at)"
        " VALUES ({awaiting}, 'answer', 4242, 'courier', 'handling', 'handling', 'hr', 0);"
        " UPDATE appeals SET version = version + 1, awaiting_courier = 0 WHERE id = {awaiting}",
        "actor 4242 is not the appeal's courier",
    ),
    (
        "a still-collecting appeal",
        "INSERT INTO appeals (courier_id, category, state, description, language, created_at, updated_at)"
        " VALUES (1001, 'work', 'collecting', 'x', 'en', 0, 0)",
        "is still collecting",
    ),
    (
        "a missing triage timer",
        "DELETE FROM timers WHERE appeal_id = {unrouted}",
        "timers: appeal #{unrouted} (assessing) has no triage timer",
    ),
    (
        "a missing accept timer",
        "DELETE FROM timers WHERE appeal_id = {handling} AND kind = 'accept'",
        "timers: appeal #{handling} (handling) has no accept timer",
    ),
    (
        "an accept timer after acceptance",
        "INSERT INTO timers (appeal_id, kind, due_at, set_at) VALUES ({accepted}, 'accept', 1, 0)",
        "timers: appeal #{accepted} (handling, open) has a accept timer it should not have",
    ),
    (
        "a missing feedback timer",
        "DELETE FROM timers WHERE appeal_id = {feedback}",
        "timers: appeal #{feedback} (feedback) has no feedback timer",
    ),
    (
        "a running clock while the unit waits for the courier",
        "UPDATE timers SET due_at = 1, remaining_s = NULL WHERE appeal_id = {awaiting} AND kind = 'handle'",
        "timers: appeal #{awaiting}'s handle timer is running while the unit is waiting for the courier",
    ),
    (
        "a paused clock nobody waits on",
        "UPDATE timers SET due_at = NULL, remaining_s = 60, fire_at = NULL WHERE appeal_id = {accepted} AND kind = 'handle'",
        "timers: appeal #{accepted}'s handle timer is paused while the unit is not waiting for the courier",
    ),
    (
        "a stale nearest deadline",
        "UPDATE appeals SET next_due = 5 WHERE id = {handling}",
        "timers: appeal #{handling}'s next_due is 5, its nearest deadline",
    ),
    (
        "a deadline on a closed appeal",
        "INSERT INTO timers (appeal_id, kind, due_at, set_at) VALUES ({resolved}, 'handle', 1, 0)",
        "timers: appeal #{resolved} (closed, resolved) has a handle timer it should not have",
    ),
    (
        "a follow-up after a rejection",
        "INSERT INTO timers (appeal_id, kind, due_at, set_at) VALUES ({rejected}, 'followup', 1, 0)",
        "timers: appeal #{rejected} (closed, rejected) has a followup timer it should not have",
    ),
    (
        "an orphan event",
        "INSERT INTO events (appeal_id, event, actor_role, from_state, to_state, at)"
        " VALUES (9999, 'submit', 'courier', 'collecting', 'assessing', 0)",
        "orphan: events.appeal_id = 9999 has no appeals row",
    ),
    (
        "an orphan timer",
        "INSERT INTO timers (appeal_id, kind, due_at, set_at) VALUES (9999, 'triage', 1, 0)",
        "orphan: timers.appeal_id = 9999 has no appeals row",
    ),
    (
        "an orphan notice",
        "INSERT INTO outbox (chat_id, appeal_id, template, not_before, created_at) VALUES (1, 9999, 'x', 0, 0)",
        "orphan: outbox.appeal_id = 9999 has no appeals row",
    ),
    (
        "a notice of a missing event",
        "INSERT INTO outbox (chat_id, appeal_id, event_id, template, not_before, created_at) VALUES (1, {handling}, 99999, 'x', 0, 0)",
        "orphan: outbox.event_id = 99999 has no events row",
    ),
    (
        "an orphan attachment",
        "INSERT INTO attachments (appeal_id, kind, file_id, file_unique_id, created_at) VALUES (9999, 'photo', 'f', 'u', 0)",
        "orphan: attachments.appeal_id = 9999 has no appeals row",
    ),
    (
        "a link to a missing appeal",
        "INSERT INTO appeal_links (parent_id, child_id, kind) VALUES ({resolved}, 9999, 'followup')",
        "orphan: appeal_links.child_id = 9999 has no appeals row",
    ),
    (
        "a prompt about a missing appeal",
        "INSERT INTO prompts (telegram_id, appeal_id, verb, created_at) VALUES (900, 9999, 'note', 0)",
        "orphan: prompts.appeal_id = 9999 has no appeals row",
    ),
    (
        "a prompt of a missing person",
        "INSERT INTO prompts (telegram_id, appeal_id, verb, created_at) VALUES (4242, {handling}, 'note', 0)",
        "orphan: prompts.telegram_id = 4242 has no people row",
    ),
    (
        "an appeal of a missing courier",
        "UPDATE appeals SET courier_id = 4242 WHERE id = {handling}",
        "orphan: appeals.courier_id = 4242 has no people row",
    ),
    (
        "a notice with an unknown status",
        "INSERT INTO outbox (chat_id, template, status, not_before, created_at) VALUES (1, 'x', 'lost', 0, 0)",
        "has status 'lost'",
    ),
    (
        "a sent notice with no time",
        "INSERT INTO outbox (chat_id, template, status, not_before, created_at) VALUES (1, 'x', 'sent', 0, 0)",
        "is sent with sent_at None",
    ),
    (
        "a dead letter with no reason",
        "INSERT INTO outbox (chat_id, template, status, not_before, created_at) VALUES (1, 'x', 'dead', 0, 0)",
        "is dead with no reason",
    ),
    (
        "a merge into a missing appeal",
        "UPDATE appeals SET merged_into = 9999 WHERE id = {merged}",
        "merge: appeal #{merged} is merged into #9999, which does not exist",
    ),
    (
        "a merge into itself",
        "UPDATE appeals SET merged_into = {merged} WHERE id = {merged}",
        "merge: appeal #{merged} is merged into itself",
    ),
    (
        "a chain of merges",
        "UPDATE appeals SET state = 'closed', outcome = 'merged', merged_into = {handling} WHERE id = {unrouted}",
        "merge: appeal #{merged} is merged into #{unrouted}, which is itself merged into #{handling}",
    ),
]


@pytest.mark.parametrize(("sql", "expected"), [p[1:] for p in PLANTED], ids=[p[0] for p in PLANTED])
def test_each_planted_violation_is_reported(base, planted, sql, expected) -> None:
    """The checker names what was damaged, and where."""
    _, appeals = base
    names = vars(appeals)
    problems = planted(sql.format(**names))
    assert any(expected.format(**names) in p for p in problems), problems


def test_a_connection_works_as_well_as_a_path(base) -> None:
    """Tests holding an open connection can check through it; its row factory is left alone."""
    path, _ = base
    conn = sqlite3.connect(path)
    assert check_invariants(conn) == []
    assert conn.row_factory is None
    conn.close()


def test_a_database_without_the_schema_is_reported(tmp_path) -> None:
    """An empty file is not silently "consistent"."""
    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    assert check_invariants(tmp_path / "empty.sqlite3")[0].startswith("schema: tables missing: appeals")


def test_the_coordinator_and_unit_helpers_are_the_test_district() -> None:
    """every_state's people are the harness district's (a guard against the two drifting apart)."""
    from tests.harness import district_config

    config = district_config(Path("unused.sqlite3"))
    assert config.coordinators == [COORDINATOR]
    assert HR_STAFF in next(u.staff for u in config.units if u.id == "hr")
