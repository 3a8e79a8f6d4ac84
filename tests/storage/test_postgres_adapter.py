"""What the PostgreSQL adapter makes of the storage code's SQLite-style SQL, and the rows it gives back."""

from __future__ import annotations

import sqlite3

import pytest

from storage.postgres import Row, translate


@pytest.mark.parametrize(
    ("sqlite", "postgresql"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        # A literal % is psycopg's escape when there are parameters, inside quotes too.
        ("SELECT 1 WHERE x LIKE 'forbidden%' AND y = ?", "SELECT 1 WHERE x LIKE 'forbidden%%' AND y = %s"),
        # A ? inside a string, a quoted name or a comment is no placeholder.
        ("SELECT '?', \"a?\" -- why?\nFROM t WHERE a = ?", "SELECT '?', \"a?\" -- why?\nFROM t WHERE a = %s"),
        ("SELECT 'it''s ?' WHERE a = ?", "SELECT 'it''s ?' WHERE a = %s"),
        # SQLite's IS compares any two values; PostgreSQL's IS takes only NULL, TRUE and FALSE.
        (
            "WHERE a IS ? AND b IS NOT ? AND c IS NOT NULL",
            "WHERE a IS NOT DISTINCT FROM %s AND b IS DISTINCT FROM %s AND c IS NOT NULL",
        ),
        ("SELECT * FROM appeals INDEXED BY appeals_unit_queue WHERE a = ?", "SELECT * FROM appeals  WHERE a = %s"),
        ("WHERE a IN () OR b NOT IN ( )", "WHERE a = ANY ('{}') OR b <> ALL ('{}')"),
        ("SELECT min(x) FROM t WHERE x IN (1, ?)", "SELECT min(x) FROM t WHERE x IN (1, %s)"),
    ],
)
def test_placeholders_and_sqlite_only_syntax_become_postgresqls(sqlite, postgresql) -> None:
    assert translate(sqlite) == postgresql


def test_named_placeholders_only_with_a_mapping_and_never_a_cast() -> None:
    sql = "SELECT x::int FROM t WHERE a >= :start AND b < :end AND c = ':not_me'"
    assert translate(sql, named=True) == "SELECT x::int FROM t WHERE a >= %(start)s AND b < %(end)s AND c = ':not_me'"
    assert translate(sql) == sql


def test_a_row_reads_as_sqlite3s_does() -> None:
    """By position, by name in any case, as a mapping and as a sequence, like the sqlite3.Row it stands for."""
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    theirs = conn.execute("SELECT 1 AS id, 'x' AS Name").fetchone()
    ours = Row((1, "x"), ["id", "name"], {"id": 0, "name": 1})
    for row in (theirs, ours):
        assert row[0] == 1 and row["id"] == 1 and row["NAME"] == "x" and row[-1] == "x"
        assert tuple(row) == (1, "x") and len(row) == 2
        assert [k.lower() for k in row.keys()] == ["id", "name"]
        assert {k.lower(): v for k, v in dict(row).items()} == {"id": 1, "name": "x"}
        with pytest.raises(IndexError):
            row["missing"]
    assert ours == Row((1, "x"), ["id", "name"], {"id": 0, "name": 1}) != Row((2, "x"), ["id", "name"], {})


@pytest.mark.slow  # starts PostgreSQL
async def test_values_come_back_as_sqlite_gives_them(postgres_url) -> None:
    """Flags are 1 and 0, sums of integers are ints and averages floats (not Decimals), ids past 2^31 fit."""
    from storage.postgres import PostgresDatabase

    db = await PostgresDatabase.open(postgres_url)
    try:
        row = await db.fetchone(
            "SELECT sum(x) AS whole, avg(x) AS mean, ? AS yes, ? AS no, ? AS chat FROM (VALUES (1), (2)) AS v (x)",
            (True, False, 7_318_264_905),
        )
        assert (row["whole"], row["mean"], row["yes"], row["no"], row["chat"]) == (3, 1.5, 1, 0, 7_318_264_905)
        assert [type(v) for v in row] == [int, float, int, int, int]
        assert await db.fetchone("SELECT 1 WHERE false") is None
        # SQLite's empty lists, for a number and a text: nothing is in one, everything outside it.
        empty = "SELECT 1 IN () AS a, 1 NOT IN () AS b, 'x' IN () AS c, 'x' NOT IN () AS d"
        assert tuple(await db.fetchone(empty)) == (False, True, False, True)
        assert await db.write(lambda conn: conn.execute("UPDATE people SET language = 'en'").rowcount) == 0
    finally:
        await db.close()
