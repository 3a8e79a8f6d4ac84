"""Statements deferred to the next transaction: the handled-update records ride along with real writes."""

from __future__ import annotations

import pytest

from storage.store import Storage
from tests.storage.conftest import MONDAY_10, open_storage, seen_by_another_connection


def _on_disk(database) -> set[int]:
    """The handled update ids another connection sees (what a restarted bot would find)."""
    return {row[0] for row in seen_by_another_connection(database, "SELECT update_id FROM handled_updates")}


@pytest.fixture
async def opened(database):
    storage: Storage = await open_storage(database)
    yield storage, database
    await storage.close()


async def test_a_record_is_written_with_the_next_transaction(opened) -> None:
    storage, path = opened
    await storage.updates.record(5, "m:1:1:1", MONDAY_10)
    assert _on_disk(path) == set()
    assert await storage.updates.seen(5, "m:1:1:1")  # remembered meanwhile
    await storage.people.set_language(11, "en")
    assert _on_disk(path) == {5}


async def test_persist_writes_the_records_on_their_own(opened) -> None:
    storage, path = opened
    await storage.updates.record(6, "m:1:2:1", MONDAY_10)
    await storage.updates.persist()
    assert _on_disk(path) == {6}
    await storage.updates.persist()  # nothing left: no empty transaction either way
    assert _on_disk(path) == {6}


async def test_a_failed_transaction_keeps_the_records_for_the_next(opened) -> None:
    storage, path = opened
    await storage.updates.record(7, "m:1:3:1", MONDAY_10)

    def fails(conn) -> None:
        conn.execute("INSERT INTO handled_updates (update_id, digest, handled_at) VALUES (99, 'x', 0)")
        raise RuntimeError("the handler's work failed")

    with pytest.raises(RuntimeError):
        await storage.db.write(fails)
    assert _on_disk(path) == set()  # the failed work and the record rolled back together
    await storage.updates.persist()
    assert _on_disk(path) == {7}


async def test_closing_writes_what_is_deferred(database) -> None:
    path = database
    storage = await open_storage(path)
    await storage.updates.record(8, "m:1:4:1", MONDAY_10)
    await storage.close()
    assert _on_disk(path) == {8}


async def test_a_redelivery_after_a_restart_is_found_in_the_file(database) -> None:
    path = database
    storage = await open_storage(path)
    await storage.updates.record(9, "m:1:5:1", MONDAY_10)
    await storage.close()
    reopened = await open_storage(path)
    try:
        assert await reopened.updates.seen(9, "m:1:5:1")
        assert not await reopened.updates.seen(9, "m:1:5:2")  # same id, other content: a new update
    finally:
        await reopened.close()
