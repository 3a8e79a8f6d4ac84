"""PostgreSQL's migrations are SQLite's, name for name, and build the same tables and columns."""

import sqlite3

import psycopg
import pytest

from storage import migrations, postgres_migrations

# Where the two schemas differ on purpose: the answers' search index is FTS5 on SQLite, a table
# keyed by answer on PostgreSQL; PostgreSQL keeps its version in a table, SQLite in user_version.
DIFFERENT = {"answer_index"}
POSTGRESQL_ONLY = {"schema_version"}


def test_every_migration_has_its_counterpart_by_the_same_name_in_the_same_place() -> None:
    sqlite_names = [name for name, _sql in migrations.MIGRATIONS]
    postgresql_names = [name for name, _sql in postgres_migrations.MIGRATIONS]
    assert postgresql_names == sqlite_names
    assert postgres_migrations.LATEST == migrations.LATEST


def _sqlite_columns() -> dict[str, list[str]]:
    conn = sqlite3.connect(":memory:")
    migrations.migrate(conn)
    tables = [
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        # A virtual table's own storage (station_index_node, answer_index_data, ...) is SQLite's business.
        if not any(name.startswith(f"{virtual}_") for virtual in ("station_index", "answer_index"))
    ]
    return {t: sorted(r[1] for r in conn.execute(f"PRAGMA table_info({t})")) for t in tables}


def _postgresql_columns(url: str) -> dict[str, list[str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        postgres_migrations.migrate(conn)
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return {t: sorted(c) for t, c in columns.items()}


@pytest.mark.slow  # starts PostgreSQL
def test_both_backends_build_the_same_tables_with_the_same_columns(postgres_url) -> None:
    sqlite = _sqlite_columns()
    postgresql = _postgresql_columns(postgres_url)
    assert set(postgresql) - POSTGRESQL_ONLY == set(sqlite)
    assert {t: c for t, c in postgresql.items() if t not in DIFFERENT | POSTGRESQL_ONLY} == {
        t: c for t, c in sqlite.items() if t not in DIFFERENT
    }


@pytest.mark.slow
def test_migrating_twice_changes_nothing_and_a_newer_database_is_refused(postgres_url) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert postgres_migrations.migrate(conn) == postgres_migrations.LATEST
        assert postgres_migrations.migrate(conn) == postgres_migrations.LATEST
        conn.execute("UPDATE schema_version SET version = version + 1")
        with pytest.raises(RuntimeError, match="newer than this bot"):
            postgres_migrations.migrate(conn)
