"""Suite-wide settings, and the fast tier's promise: a test not marked slow starts no process."""

import multiprocessing
import os
import sys

import pytest

# python-telegram-bot 22 warns when a duration (RetryAfter.retry_after, Voice.duration) is read
# as an int; with warnings as errors that would break every such read. The bot opts in too.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# The audit events that start another program (subprocess, asyncio's subprocesses, selenium's driver).
SPAWNS = ("subprocess.Popen", "os.posix_spawn", "os.fork", "os.forkpty", "os.system", "os.exec")
_spawned: list[str] = []


def _note_spawns(event: str, args: tuple) -> None:
    if event in SPAWNS:
        _spawned.append(f"{event} {args[0] if args else ''}")


def pytest_addoption(parser) -> None:
    """`--bot-api=http` runs every bot test through the sandbox's HTTP server instead of in-process."""
    parser.addoption(
        "--bot-api",
        choices=("inprocess", "http"),
        default="inprocess",
        help="how the bot reaches the fake Telegram in tests (default: inprocess)",
    )


def pytest_configure(config) -> None:
    """Hand the chosen Bot API door to the harness; watch for started processes."""
    from tests import harness

    harness.BOT_API = config.getoption("--bot-api")
    sys.addaudithook(_note_spawns)


@pytest.fixture(autouse=True)
def fast_tests_start_no_process(request):
    """A test not marked slow starts no process: no subprocess, browser, benchmark or worker process
    (the bot's worker pool is a multiprocessing child), so `-m "not slow"` is fast and says so honestly."""
    children = set(multiprocessing.active_children())
    _spawned.clear()
    yield
    if request.node.get_closest_marker("slow"):
        return
    started = _spawned + [f"process {p.name}" for p in multiprocessing.active_children() if p not in children]
    assert not started, f"this test starts processes ({'; '.join(started)}): mark it @pytest.mark.slow"


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole session (tests/postgres.py), stopped at its end; the
    tests that ask for it are skipped, saying why, where Debian's `postgresql` package is absent."""
    from tests.postgres import PostgresServer, binaries

    bindir = binaries()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian's `postgresql` package; `python3 dev.py test` installs it)")
    server = PostgresServer.start(bindir)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh empty database on the session's PostgreSQL server, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def postgres_migrated_url(postgres_server):
    """A fresh database on the session's PostgreSQL server, already migrated (copied from a template), dropped after."""
    url = postgres_server.create_database(migrated=True)
    yield url
    postgres_server.drop_database(url)
