"""The invariant checker (storage/invariants.py) on either backend: silent on what the storage wrote, and
loud on damage the schema lets through, through each of its ways in (a Database, a path or URL)."""

from domain.commands import NewAppeal
from storage.invariants import check_database, check_invariants
from tests.storage.conftest import COURIER, MONDAY_10, OTHER_COURIER


async def two_appeals(storage) -> tuple[int, int]:
    """Two appeals waiting for triage, each with its ledger, timer and outbox rows."""
    numbers = []
    for courier in (COURIER, OTHER_COURIER):
        new = NewAppeal(courier_id=courier, category="work", description="Unpaid wages", language="en")
        numbers.append((await storage.appeals.submit(new, None, MONDAY_10)).appeal.id)
    return numbers[0], numbers[1]


async def plant(storage, *statements: str) -> list[str]:
    """Run the statements in one transaction, then check the database."""

    def work(conn) -> None:
        for sql in statements:
            conn.execute(sql)

    await storage.db.write(work)
    return await check_database(storage.db)


async def test_what_the_storage_wrote_passes_by_every_way_in(storage, database) -> None:
    await two_appeals(storage)
    assert await check_database(storage.db) == []
    assert check_invariants(database) == []  # a path or a postgresql:// URL, on a connection of its own


async def test_a_ledger_that_disagrees_with_its_appeal(storage) -> None:
    first, _ = await two_appeals(storage)
    found = await plant(storage, f"UPDATE appeals SET send_backs = 3 WHERE id = {first}")
    assert found == [f"ledger: appeal #{first} has send_backs = 3 but its ledger says 0"]


async def test_a_missing_timer(storage) -> None:
    first, _ = await two_appeals(storage)
    found = await plant(storage, f"DELETE FROM timers WHERE appeal_id = {first}")
    assert f"timers: appeal #{first} (assessing) has no triage timer" in found


async def test_an_outbox_row_about_another_appeal_than_its_event(storage) -> None:
    first, second = await two_appeals(storage)
    found = await plant(storage, f"UPDATE outbox SET appeal_id = {second} WHERE appeal_id = {first}")
    assert found and all(
        line.endswith(f"is about appeal {second} but its event is of appeal {first}") for line in found
    )


async def test_someone_waiting_while_a_place_is_free(storage) -> None:
    found = await plant(
        storage,
        "INSERT INTO activities (id, title, address, starts_at, places, signup_until, created_at)"
        " VALUES (7, 'Childcare class', 'Changning Road 1', 0, 2, 0, 0)",
        "INSERT INTO activity_signups (activity_id, person_id, state, at) VALUES (7, 1, 'in', 0)",
        "INSERT INTO activity_signups (activity_id, person_id, state, at) VALUES (7, 2, 'waiting', 0)",
    )
    assert found == ["activity 7: 1 waiting with 1 places free"]
