"""The PostgreSQL server a benchmark runs on: the one APPEALS_BOT_BENCH_POSTGRESQL names, or one started as the tests start one.

With no URL given, a server is started in a temporary directory (tests/postgres.py) and stopped
afterwards; where Debian's postgresql is not installed, the benchmark says so on one line
("# PostgreSQL: skipped ...") and runs on SQLite only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

URL_ENV = "APPEALS_BOT_BENCH_POSTGRESQL"
SKIPPED = "# PostgreSQL: skipped (not installed: Debian's postgresql, or set APPEALS_BOT_BENCH_POSTGRESQL)"


@contextmanager
def postgresql_database() -> Iterator[str | None]:
    """An empty PostgreSQL database's URL for the benchmark, or None (after printing the skipped line)."""
    url = os.environ.get(URL_ENV)
    if url is not None:
        yield url
        return
    from tests.postgres import PostgresServer, binaries

    bindir = binaries()
    if bindir is None:
        print(SKIPPED)
        yield None
        return
    server = PostgresServer.start(bindir)
    try:
        yield server.create_database()
    finally:
        server.stop()
