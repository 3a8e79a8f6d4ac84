"""The ledger export query, a courier's erasure, and the retention run, on a real database."""

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event, Outcome, State
from storage.privacy import PrivacyRefused, digest_chat
from tests.storage.conftest import COORDINATOR, COURIER, MONDAY_10, OTHER_COURIER, STAFF

E = Event
H = timedelta(hours=1)
PHONE = "+8613800138000"


async def full_loop(storage) -> int:
    """A charger complaint: sent back, assigned again, accepted, resolved, reopened, resolved, satisfied."""
    new = NewAppeal(
        courier_id=COURIER,
        category="facilities",
        description="The charger is broken",
        language="en",
        contact_phone=PHONE,
        lat=31.2,
        lon=121.4,
        attachments=(("photo", "AgAD-photo", "AQAD-photo"),),
    )
    appeal_id = (await storage.appeals.submit(new, "st1", MONDAY_10)).appeal.id
    steps = [
        (E.SEND_BACK, STAFF, EventArgs(note="Not our station")),
        (E.ASSIGN, COORDINATOR, EventArgs(unit="st1")),
        (E.ACCEPT, STAFF, EventArgs()),
        (E.RESOLVE, STAFF, EventArgs(note="Replaced the charger")),
        (E.RATE_UNSATISFIED, COURIER, EventArgs(note="Still broken")),
        (E.RESOLVE, STAFF, EventArgs(note="Rewired it")),
        (E.RATE_SATISFIED, COURIER, EventArgs()),
    ]
    for hours, (event, actor, args) in enumerate(steps, 1):
        await storage.appeals.apply(ActOnAppeal(appeal_id, event, actor, args), MONDAY_10 + hours * H)
    return appeal_id


async def open_appeal(storage, courier: int = COURIER) -> int:
    """A wage appeal waiting for a coordinator."""
    new = NewAppeal(courier_id=courier, category="work", description="Unpaid wages", language="en", contact_phone=PHONE)
    return (await storage.appeals.submit(new, None, MONDAY_10 + 9 * H)).appeal.id


async def test_ledger_lines_fold_every_event(storage) -> None:
    """Timestamps of submission, acceptance, each send-back, resolution, rating and closing; in-time flags."""
    first = await full_loop(storage)
    second = await open_appeal(storage)
    lines = await storage.ledger.lines(MONDAY_10 - H, MONDAY_10 + 24 * H)
    assert [line.number for line in lines] == [first, second]
    line = lines[0]
    assert (line.category, line.unit_id, line.unit_en, line.state, line.outcome) == (
        "facilities",
        "st1",
        "Station 1",
        State.CLOSED,
        Outcome.RESOLVED,
    )
    assert line.submitted == MONDAY_10
    assert line.send_backs == (MONDAY_10 + H,)
    assert (line.accepted_at, line.resolved, line.rated, line.closed) == (
        MONDAY_10 + 3 * H,
        MONDAY_10 + 6 * H,
        MONDAY_10 + 7 * H,
        MONDAY_10 + 7 * H,
    )
    assert (line.accept_on_time, line.resolve_on_time, line.rating, line.reopens) == (True, True, "rate_satisfied", 1)
    waiting = lines[1]
    assert (waiting.state, waiting.accepted_at, waiting.rating, waiting.send_backs) == (State.ASSESSING, None, None, ())
    assert await storage.ledger.lines(MONDAY_10 + 24 * H, MONDAY_10 + 48 * H) == []


async def test_what_is_held_about_a_courier(storage) -> None:
    """Counts of appeals, texts, files, phone and location."""
    await full_loop(storage)
    await open_appeal(storage)
    await storage.stations.remember_location(COURIER, lat=31.2, lon=121.4, accuracy_m=None, now=MONDAY_10)
    held = await storage.privacy.holdings(COURIER)
    assert (held.appeals, held.open_appeals, held.files, held.phone, held.location, held.language) == (
        2,
        1,
        1,
        True,
        True,
        "en",
    )
    assert held.texts == 2 + 4  # two descriptions; four notes (send-back, two results, the complaint)
    assert (await storage.privacy.holdings(424242)).known is False


async def test_erasure_withdraws_then_removes_everything_personal(storage) -> None:
    """Open appeals are withdrawn through the lifecycle; texts, files, phone, place and identity go; states stay."""
    closed = await full_loop(storage)
    waiting = await open_appeal(storage)
    await storage.stations.remember_location(COURIER, lat=31.2, lon=121.4, accuracy_m=None, now=MONDAY_10)
    events_before = await storage.db.fetchone("SELECT count(*) FROM events")
    lines_before = await storage.ledger.lines(MONDAY_10 - H, MONDAY_10 + 48 * H)

    erased = await storage.privacy.erase(COURIER, MONDAY_10 + 10 * H)

    assert (erased.withdrawn, erased.appeals) == ((waiting,), 2)
    assert await storage.people.get(COURIER) is None
    assert await storage.stations.last_location(COURIER) is None
    for number in (closed, waiting):
        appeal = await storage.appeals.get(number)
        assert (appeal.courier_id, appeal.description, appeal.contact_phone, appeal.lat) == (None, "", None, None)
        assert await storage.appeals.attachments(number) == []
        assert all(e.note is None for e in await storage.appeals.ledger(number))
    assert (await storage.appeals.get(waiting)).outcome is Outcome.WITHDRAWN
    # The ledger keeps every row (one more: the withdrawal), with no trace of the courier.
    assert (await storage.db.fetchone("SELECT count(*) FROM events"))[0] == events_before[0] + 1
    assert (await storage.db.fetchone("SELECT count(*) FROM events WHERE actor_id = ?", (COURIER,)))[0] == 0
    assert (await storage.db.fetchone("SELECT count(*) FROM outbox WHERE chat_id = ?", (COURIER,)))[0] == 0
    assert (
        await storage.db.fetchone(
            "SELECT count(*) FROM outbox WHERE params != '{}' AND appeal_id IN (?, ?)", (closed, waiting)
        )
    )[0] == 0
    # What the rates are made of is unchanged; the texts are gone from the export too.
    lines_after = await storage.ledger.lines(MONDAY_10 - H, MONDAY_10 + 48 * H)
    assert (lines_after[0].description, lines_after[0].results) == ("", ())
    assert replace(lines_after[0], description="", results=()) == replace(lines_before[0], description="", results=())
    assert holdings_after_are_empty(await storage.privacy.holdings(COURIER))


def holdings_after_are_empty(held) -> bool:
    """Nothing is known about the person any more."""
    return not held.known and held.appeals == 0


async def test_staff_are_not_erased(storage) -> None:
    """Staff notes are the unit's work record: their role must go first."""
    with pytest.raises(PrivacyRefused):
        await storage.privacy.erase(STAFF, MONDAY_10)
    assert await storage.people.get(STAFF) is not None


async def test_retention_anonymises_only_what_is_old_and_closed(storage) -> None:
    """After the retention, closed appeals lose personal data; open ones, and recent data, stay."""
    closed = await full_loop(storage)
    waiting = await open_appeal(storage)
    await storage.stations.remember_location(COURIER, lat=31.2, lon=121.4, accuracy_m=None, now=MONDAY_10)
    later = MONDAY_10 + timedelta(days=800)
    await storage.people.seen(777, "zh", later)  # a courier who just arrived is kept

    expired = await storage.privacy.anonymise_expired(later, retention_days=730)

    assert (expired.appeals, expired.locations) == (1, 1)
    assert expired.people == 1  # OTHER_COURIER: idle, no appeals, seen only long ago
    assert await storage.people.get(OTHER_COURIER) is None
    assert await storage.people.get(777) is not None
    old = await storage.appeals.get(closed)
    assert (old.courier_id, old.description, old.contact_phone, old.state) == (None, "", None, State.CLOSED)
    assert all(e.note is None for e in await storage.appeals.ledger(closed))
    assert all(e.actor_id is None for e in await storage.appeals.ledger(closed) if e.actor_role == "courier")
    assert any(e.actor_id == STAFF for e in await storage.appeals.ledger(closed))
    still_open = await storage.appeals.get(waiting)
    assert (still_open.courier_id, still_open.description) == (COURIER, "Unpaid wages")
    assert await storage.people.get(COURIER) is not None  # an open appeal still needs them
    again = await storage.privacy.anonymise_expired(later, retention_days=730)
    assert (again.appeals, again.people, again.locations) == (0, 0, 0)


async def test_nothing_is_anonymised_before_its_time(storage) -> None:
    """A day short of the retention, everything stays."""
    closed = await full_loop(storage)
    expired = await storage.privacy.anonymise_expired(MONDAY_10 + timedelta(days=729), retention_days=730)
    assert (expired.appeals, expired.people) == (0, 0)
    assert (await storage.appeals.get(closed)).description == "The charger is broken"


def test_the_chat_a_handled_update_names() -> None:
    """Messages, presses (also in groups), presses on inline messages and hashed digests."""
    assert digest_chat("m:7318264905:12:1796000000") == 7318264905
    assert digest_chat("cq:4000000000001:1001:5:ap:1001:acc") == 1001
    assert digest_chat("cq:4000000000001:-100123:5:x") == -100123
    assert digest_chat("cq:4000000000001::ap:1001:acc") is None
    assert digest_chat("0123456789abcdef0123456789abcdef") is None


async def test_retention_forgets_thousands_of_idle_couriers_in_one_run(storage) -> None:
    """More couriers than one statement takes: each loses their row, the notices to their chat and the
    records of their updates; a courier seen lately keeps theirs."""
    idle = list(range(100_000, 101_500))
    for person in idle:
        await storage.people.seen(person, "en", MONDAY_10)
    await storage.people.seen(777, "en", MONDAY_10 + timedelta(days=799))
    later = MONDAY_10 + timedelta(days=800)

    def traces(conn) -> None:
        for person in [*idle, 777]:
            conn.execute(
                "INSERT INTO outbox (chat_id, template, params, status, not_before, created_at, sent_at)"
                " VALUES (?, 'start.greeting', '{}', 'sent', ?, ?, ?)",
                (person, *[int(later.timestamp())] * 3),
            )
            conn.execute(
                "INSERT INTO handled_updates (update_id, digest, handled_at) VALUES (?, ?, ?)",
                (person, f"m:{person}:1:{int(later.timestamp())}", int(later.timestamp())),
            )

    await storage.db.write(traces)
    expired = await storage.privacy.anonymise_expired(later, retention_days=730)
    assert expired.people == len(idle) + 2  # and the fixture's two couriers, idle too
    left = await storage.db.fetchone(
        "SELECT (SELECT count(*) FROM people WHERE telegram_id >= 100000),"
        " (SELECT group_concat(chat_id) FROM outbox WHERE template = 'start.greeting'),"
        " (SELECT group_concat(digest) FROM handled_updates)"
    )
    assert tuple(left) == (0, "777", f"m:777:1:{int(later.timestamp())}")
