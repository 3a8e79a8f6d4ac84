"""A PostgreSQL district dumped and restored with the lines docs/deploy.md §6 gives comes back whole."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from domain.commands import NewAppeal
from storage.invariants import check_invariants
from tests.storage.conftest import COURIER, MONDAY_10, open_storage, seen_by_another_connection
from tests.storage.test_stations import record

pytestmark = pytest.mark.slow  # a real PostgreSQL server


async def test_pg_dump_and_pg_restore_bring_the_district_back(postgres_server, tmp_path) -> None:
    source, target = postgres_server.create_database(migrated=True), postgres_server.create_database()
    try:
        storage = await open_storage(source)
        try:
            await storage.stations.import_records([record("a", 31.2, 121.5, ["water"]), record("b", 31.3, 121.6)])
            await storage.appeals.submit(
                NewAppeal(courier_id=COURIER, category="work", description="Wages unpaid", language="en"),
                None,
                MONDAY_10,
            )
        finally:
            await storage.close()
        dump = tmp_path / "district.dump"
        # As docs/deploy.md gives them (its file name aside).
        _run([_tool(postgres_server, "pg_dump"), "--format=custom", f"--file={dump}", source])
        _run(
            [
                _tool(postgres_server, "pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={target}",
                dump,
            ]
        )

        assert check_invariants(target) == []
        for table in ("appeals", "people", "stations", "events", "timers", "outbox"):
            sql = f"SELECT count(*) FROM {table}"
            assert seen_by_another_connection(target, sql) == seen_by_another_connection(source, sql), table
        restored = await open_storage(target)
        try:
            assert [station.id for station, _ in await restored.stations.nearest(31.2, 121.5, 5, "water")] == ["a"]
        finally:
            await restored.close()
    finally:
        postgres_server.drop_database(source)
        postgres_server.drop_database(target)


def _tool(server, name: str) -> str:
    """The server's own pg_dump or pg_restore (the same major version), else the one on PATH."""
    beside = server.bindir / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed"
    return found


def _run(command: list) -> None:
    completed = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
