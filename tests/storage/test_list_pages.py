"""Lists a page at a time: every appeal exactly once, in the order of the whole list, whatever the page size."""

from datetime import timedelta

import pytest

from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event
from storage.appeals import ListPosition
from tests.storage.conftest import COURIER, MONDAY_10, STAFF


def new_appeal() -> NewAppeal:
    return NewAppeal(courier_id=COURIER, category="work", description="Unpaid wages", language="en")


async def whole_and_paged(fetch, page: int) -> tuple[list, list]:
    """The list in one go, and the same list read `page` rows at a time from where each page ended."""
    whole = await fetch(1000, None)
    paged, after = [], None
    while rows := await fetch(page, after):
        paged += rows
        after = ListPosition.of(*rows[-1])
    return whole, paged


@pytest.mark.parametrize("page", [1, 3, 10])
async def test_a_queue_pages_through_its_deadlines_then_the_appeals_without_one(storage, page) -> None:
    for index in range(25):  # four at a time share a deadline: ties go by number
        await storage.appeals.submit(new_appeal(), "st1", MONDAY_10 + timedelta(minutes=index // 4))
    for number in (5, 10, 15, 20, 25):  # waiting for the courier: no deadline runs
        await storage.appeals.apply(ActOnAppeal(number, Event.ACCEPT, STAFF), MONDAY_10 + timedelta(hours=1))
        await storage.appeals.apply(
            ActOnAppeal(number, Event.ASK, STAFF, EventArgs(note="Which month?")), MONDAY_10 + timedelta(hours=1)
        )
    whole, paged = await whole_and_paged(lambda limit, after: storage.appeals.queue("st1", limit, after), page)
    assert [a.id for a, _ in paged] == [a.id for a, _ in whole]
    dues = [due for _, due in whole]
    assert len(whole) == 25 and dues.count(None) == 5 and len(set(dues)) < 20  # both halves, and ties
    expected = sorted(whole, key=lambda row: (row[1] is None, row[1] or MONDAY_10, row[0].id))
    assert [a.id for a, _ in whole] == [a.id for a, _ in expected]


@pytest.mark.parametrize("page", [1, 4])
async def test_triage_and_a_couriers_own_list_page_the_same_way(storage, page) -> None:
    for index in range(9):
        await storage.appeals.submit(new_appeal(), None, MONDAY_10 + timedelta(minutes=index))
    whole, paged = await whole_and_paged(lambda limit, after: storage.appeals.awaiting_triage(limit, after), page)
    assert [a.id for a, _ in paged] == [a.id for a, _ in whole] == list(range(1, 10))
    whole, paged = await whole_and_paged(lambda limit, after: storage.appeals.of_courier(COURIER, limit, after), page)
    assert [a.id for a, _ in paged] == [a.id for a, _ in whole] == list(range(9, 0, -1))
