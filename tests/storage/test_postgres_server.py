"""The test session's PostgreSQL server: a fresh database per test, reachable, and really PostgreSQL."""

import psycopg
import pytest

pytestmark = pytest.mark.slow  # the server is a process of its own


def test_each_test_gets_an_empty_database_of_its_own(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        (version,) = conn.execute("SHOW server_version_num").fetchone()
        (tables,) = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        conn.execute("CREATE TABLE mine (x integer)")
    assert int(version) >= 130000
    assert tables == 0


def test_a_second_database_does_not_see_the_first_ones_tables(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        (tables,) = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'mine'").fetchone()
    assert tables == 0
