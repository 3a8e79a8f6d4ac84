"""Stations: the R*Tree lookup against brute force worldwide, the index kept by triggers, imports by id."""

import dataclasses
import math
import random

import pytest

from domain.commands import NewAppeal
from domain.geo import distance_m
from domain.stations_file import AMENITIES, StationRecord
from storage.stations import ENTRY_SHIFT, amenity_bits, search_box
from tests.storage.conftest import COURIER, MONDAY_10


def record(station_id: str, lat: float, lon: float, amenities=(), **extra) -> StationRecord:
    """A grade-B station."""
    return StationRecord(station_id, f"Station {station_id}", lat, lon, "B", "", tuple(amenities), **extra)


def random_point(rnd: random.Random) -> tuple[float, float]:
    """Uniform on the sphere, or crowded where boxes are hard: the poles, the antimeridian, a city."""
    kind = rnd.random()
    if kind < 0.4:
        return math.degrees(math.asin(rnd.uniform(-1, 1))), rnd.uniform(-180, 180)
    if kind < 0.6:
        return rnd.choice((1, -1)) * rnd.uniform(84, 90), rnd.uniform(-180, 180)
    if kind < 0.8:
        return rnd.uniform(-60, 60), rnd.choice((rnd.uniform(179, 180), rnd.uniform(-180, -179)))
    return 31.23 + rnd.gauss(0, 0.05), 121.47 + rnd.gauss(0, 0.05)


def brute_force(stations: list[StationRecord], lat: float, lon: float, amenity: str | None, limit: int = 5):
    """Distances of the `limit` nearest open stations, by checking every one."""
    distances = sorted(
        distance_m(lat, lon, s.lat, s.lon)
        for s in stations
        if s.active is not False and (amenity is None or amenity in s.amenities)
    )
    return distances[:limit]


def test_rtree_is_compiled_in(storage) -> None:
    """The lookup needs SQLite's R*Tree module."""
    import sqlite3

    assert sqlite3.connect(":memory:").execute("SELECT sqlite_compileoption_used('ENABLE_RTREE')").fetchone()[0] == 1


async def test_lookup_matches_brute_force_worldwide(storage) -> None:
    """Random stations and points everywhere, with and without an amenity: the same five as checking all."""
    rnd = random.Random(20261123)
    stations = []
    for i in range(3000):
        lat, lon = random_point(rnd)
        amenities = [a for a in AMENITIES if rnd.random() < 0.3]
        stations.append(record(f"s{i}", lat, lon, amenities, active=rnd.random() > 0.1))
    await storage.stations.import_records(stations)
    for _ in range(250):
        lat, lon = random_point(rnd)
        amenity = rnd.choice((None, None, *AMENITIES))
        found = await storage.stations.nearest(lat, lon, 5, amenity)
        expected = brute_force(stations, lat, lon, amenity)
        assert [d for _, d in found] == pytest.approx(expected, rel=1e-9, abs=1e-6), (lat, lon, amenity)
        for station, metres in found:
            assert station.active and (amenity is None or amenity in station.amenities)
            assert metres == pytest.approx(distance_m(lat, lon, station.lat, station.lon))


async def test_few_stations_are_found_across_the_earth(storage) -> None:
    """With three stations on Earth, all three come back, the farthest on the other side of the globe."""
    await storage.stations.import_records(
        [record("shanghai", 31.23, 121.47), record("quito", -0.18, -78.47), record("pole", 89.9, 0.0)]
    )
    found = await storage.stations.nearest(31.2, 121.5, 5)
    assert [s.id for s, _ in found] == ["shanghai", "pole", "quito"]
    assert found[-1][1] == pytest.approx(distance_m(31.2, 121.5, -0.18, -78.47))


async def test_across_the_antimeridian_and_at_the_pole(storage) -> None:
    """A station 2 km across the date line, and one on the other side of the pole, are the nearest."""
    await storage.stations.import_records(
        [record("west", 0.0, -179.99), record("east-far", 0.0, 179.0), record("pole-side", 89.99, 180.0)]
    )
    (nearest, metres), *_ = await storage.stations.nearest(0.0, 179.995, 1)
    assert nearest.id == "west" and metres < 2_000
    (nearest, metres), *_ = await storage.stations.nearest(89.99, 0.0, 1)
    assert nearest.id == "pole-side" and metres == pytest.approx(2 * 1_111.95, rel=1e-3)


def test_search_boxes_hold_their_circle() -> None:
    """Every point on the circle's edge lies inside the box, wherever the circle is."""
    rnd = random.Random(7)
    for _ in range(2000):
        lat, lon = rnd.uniform(-89.9, 89.9), rnd.uniform(-180, 180)
        radius = 10 ** rnd.uniform(2, 7)
        low, high, ranges = search_box(lat, lon, radius)
        for bearing in range(0, 360, 15):
            p_lat, p_lon = _destination(lat, lon, radius * 0.999, bearing)
            assert low <= p_lat <= high
            assert any(west <= p_lon <= east for west, east in ranges), (lat, lon, radius, bearing)


def _destination(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    r = 6_371_008.8
    phi, lam, theta, delta = math.radians(lat), math.radians(lon), math.radians(bearing), metres / r
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


async def test_the_index_follows_every_change(storage) -> None:
    """Closing, reopening, moving and changing amenities all reach the R*Tree (triggers, migration 4)."""
    await storage.stations.import_records([record("a", 10.0, 10.0, ["water"]), record("b", 10.1, 10.1, ["toilet"])])
    nearest_ids = lambda found: [s.id for s, _ in found]  # noqa: E731
    assert nearest_ids(await storage.stations.nearest(10.0, 10.0, 1, "water")) == ["a"]
    await storage.stations.set_active("a", False)
    assert nearest_ids(await storage.stations.nearest(10.0, 10.0, 5)) == ["b"]
    await storage.stations.set_active("a", True)
    await storage.stations.import_records([record("a", -40.0, -40.0, ["toilet", "charging"])])
    assert nearest_ids(await storage.stations.nearest(-40.0, -40.0, 1)) == ["a"]
    assert nearest_ids(await storage.stations.nearest(10.0, 10.0, 2, "toilet")) == ["b", "a"]
    assert await storage.stations.nearest(10.0, 10.0, 5, "water") == []
    await storage.db.run(lambda conn: conn.execute("VACUUM"))
    assert nearest_ids(await storage.stations.nearest(-40.0, -40.0, 1, "charging")) == ["a"]


async def test_amenity_bits_in_sql_match_python(storage) -> None:
    """The migration's SQL and domain's AMENITIES agree bit for bit."""
    rnd = random.Random(3)
    stations = [record(f"x{i}", 0.0, i / 100, [a for a in AMENITIES if rnd.random() < 0.5]) for i in range(64)]
    await storage.stations.import_records(stations)
    rows = await storage.db.fetchall(
        "SELECT s.id, i.entry FROM stations s JOIN station_index i ON i.entry >> ? = s.index_key", (ENTRY_SHIFT,)
    )
    mask = (1 << ENTRY_SHIFT) - 1
    assert {r["id"]: r["entry"] & mask for r in rows} == {s.id: amenity_bits(s.amenities) for s in stations}


async def test_the_lookup_reads_the_rtree_not_the_table(storage, backend) -> None:
    """The box query is answered by the R*Tree's index (on PostgreSQL, the nearest entries come from the
    GiST index, and only their stations are read, by key), never by scanning stations, and reads only
    the boxes: no auxiliary column (each would be a lookup in another table per row)."""
    from storage.stations import _IN_BOX, nearest_on_postgresql

    if backend == "postgresql":

        def plan_of(conn):
            # A handful of rows reads quicker by a scan: the planner is told to use an index if it can.
            conn.execute("SET enable_seqscan = off")
            try:
                return [r[0] for r in conn.execute("EXPLAIN " + nearest_on_postgresql(5), (31.2, 121.5, 0, 0))]
            finally:
                conn.execute("RESET enable_seqscan")

        details = " ".join(await storage.db.run(plan_of))
        assert "Index Scan using station_index_nearest" in details and "Order By" in details, details
        assert "Index Scan using stations_index_key" in details and "Seq Scan" not in details, details
        columns = await storage.db.fetchall(
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_name = 'station_index' ORDER BY ordinal_position"
        )
    else:
        plan = await storage.db.fetchall("EXPLAIN QUERY PLAN " + _IN_BOX, (0, 1, 0, 1, 0, 0))
        details = " ".join(r["detail"] for r in plan)
        assert "VIRTUAL TABLE INDEX" in details and "stations" not in details
        columns = await storage.db.fetchall("SELECT name FROM pragma_table_info('station_index')")
    assert [c["name"] for c in columns] == ["entry", "min_lat", "max_lat", "min_lon", "max_lon"]


async def test_reimport_updates_by_id_and_keeps_appeals(storage) -> None:
    """An appeal about a station still points at it after the station is renamed and moved; none is deleted."""
    await storage.stations.import_records([record("a", 31.0, 121.0, unit="st1"), record("b", 31.1, 121.1)])
    appeal = (
        await storage.appeals.submit(
            NewAppeal(
                courier_id=COURIER, category="facilities", description="Broken charger", language="en", station_id="a"
            ),
            "st1",
            MONDAY_10,
        )
    ).appeal
    imported = await storage.stations.import_records(
        [dataclasses.replace(record("a", 31.5, 121.5, unit="hr"), name="Renamed"), record("c", 0.0, 0.0)]
    )
    assert (imported.added, imported.updated) == (1, 1)
    assert [s.id for s in await storage.stations.all()] == ["a", "b", "c"]
    station = await storage.stations.get("a")
    assert (station.name, station.lat, station.unit_id, station.active) == ("Renamed", 31.5, "hr", True)
    assert (await storage.appeals.get(appeal.id)).station_id == "a"


async def test_active_is_kept_unless_the_file_says(storage) -> None:
    """A closed station stays closed on re-import without an active column; active=true reopens it."""
    await storage.stations.import_records([record("a", 1.0, 1.0)])
    await storage.stations.set_active("a", False)
    await storage.stations.import_records([record("a", 1.0, 1.0)])
    assert (await storage.stations.get("a")).active is False
    await storage.stations.import_records([record("a", 1.0, 1.0, active=True)])
    assert (await storage.stations.get("a")).active is True
    assert await storage.stations.counts() == (1, 0)


async def test_last_location_is_one_row_per_person(storage) -> None:
    """Sharing again replaces the location."""
    assert await storage.stations.last_location(COURIER) is None
    await storage.stations.remember_location(COURIER, lat=1.0, lon=2.0, accuracy_m=None, now=MONDAY_10)
    await storage.stations.remember_location(COURIER, lat=3.0, lon=4.0, accuracy_m=1500.0, now=MONDAY_10)
    where = await storage.stations.last_location(COURIER)
    assert (where.lat, where.lon, where.accuracy_m, where.at) == (3.0, 4.0, 1500.0, MONDAY_10)


async def test_stations_metres_apart_are_told_apart(storage) -> None:
    """The tree keeps 32-bit floats (about a metre apart at these longitudes): stations a few metres
    from each other still come out in their true order, at their exact distances."""
    rnd = random.Random(7)
    stations = []
    for i, (lat, lon) in enumerate(rnd.choice([(31.23, 121.47), (-33.9, 179.99), (64.1, -21.9)]) for _ in range(300)):
        amenities = [a for a in AMENITIES if rnd.random() < 0.5]
        stations.append(record(f"m{i}", lat + rnd.uniform(-2e-4, 2e-4), lon + rnd.uniform(-2e-4, 2e-4), amenities))
    await storage.stations.import_records(stations)
    for _ in range(60):
        lat, lon = rnd.choice([(31.23, 121.47), (-33.9, 179.99), (64.1, -21.9)])
        lat, lon = lat + rnd.uniform(-3e-4, 3e-4), lon + rnd.uniform(-3e-4, 3e-4)
        amenity = rnd.choice((None, *AMENITIES))
        found = await storage.stations.nearest(lat, lon, 5, amenity)
        assert [d for _, d in found] == brute_force(stations, lat, lon, amenity), (lat, lon, amenity)


async def test_stations_at_one_address_come_out_in_id_order(storage) -> None:
    """Stations at one distance come out in id order on both backends, also where the tie straddles the
    last place: on PostgreSQL the index hands them over in its own order, and the ones tied with the
    fifth must come along for the ids to decide (storage.stations.TIE_CHORD)."""
    here, there = (31.23, 121.47), (31.2305, 121.4705)
    near = [record(f"n{i}", here[0] + i * 1e-5, here[1]) for i in range(3)]
    tied = [record(f"t{i}", *there) for i in (6, 2, 9, 4, 7, 1)]  # inserted out of id order
    await storage.stations.import_records(near + tied + [record("far", 31.3, 121.6)])
    found = await storage.stations.nearest(*here, 5)
    assert [s.id for s, _ in found] == ["n0", "n1", "n2", "t1", "t2"]
    found = await storage.stations.nearest(*there, 5)
    assert [s.id for s, _ in found] == ["t1", "t2", "t4", "t6", "t7"]


AMENITY_BITS_MIGRATION = "the station index holds amenity bits in its entry ids, and no auxiliary columns"


def test_the_migration_indexes_the_stations_already_there(tmp_path) -> None:
    """A database with stations from before the index held amenity bits in its ids gets every open
    station into the new index, with its bits."""
    import sqlite3

    from storage.migrations import MIGRATIONS, migrate
    from storage.stations import _UPSERT, _row

    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    try:
        before = [name for name, _ in MIGRATIONS].index(AMENITY_BITS_MIGRATION)
        migrate(conn, before)
        kept = [
            record("a", 1.0, 2.0, ["water", "first_aid"]),
            record("b", 3.0, 4.0),
            record("c", 5.0, 6.0, ["rest"], active=False),
        ]
        conn.executemany(_UPSERT, [_row(r) for r in kept])
        migrate(conn)
        rows = conn.execute(
            "SELECT s.id, i.entry, i.min_lat, i.min_lon FROM stations s JOIN station_index i ON i.entry >> ? = s.index_key",
            (ENTRY_SHIFT,),
        ).fetchall()
    finally:
        conn.close()
    mask = (1 << ENTRY_SHIFT) - 1
    assert sorted((i, entry & mask, round(la), round(lo)) for i, entry, la, lo in rows) == [
        ("a", amenity_bits(["water", "first_aid"]), 1, 2),
        ("b", 0, 3, 4),
    ]


async def test_the_csv_export_reads_the_database_on_a_connection_of_its_own(storage) -> None:
    """What the worker process runs: every station, by the database's own path or URL."""
    from storage.stations import stations_csv

    await storage.stations.import_records([record("b", 31.1, 121.1), record("a", 31.0, 121.0, unit="st1")])
    count, data = stations_csv(storage.db.path)
    lines = data.decode("utf-8-sig").splitlines()
    assert count == 2 and len(lines) == 3
    assert [line.split(",")[0].strip('"') for line in lines[1:]] == ["a", "b"]
