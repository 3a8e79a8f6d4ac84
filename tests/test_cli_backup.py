"""`python -m bot backup FILE` and `restore FILE`: a consistent copy of a live database, and a checked way back."""

from __future__ import annotations

import contextlib
import shlex
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.cli import main
from storage.backup import serving
from storage.invariants import check_invariants
from storage.migrations import LATEST, migrate
from tests.harness import fresh_database, running_bot
from tests.helpers import submit_appeal


class Writer(threading.Thread):
    """A writer beside the bot's, on a thread and a connection of its own: each transaction adds a person
    and a handled update with the same number, so any one moment of the database has as many of each."""

    def __init__(self, database: Path, first: int) -> None:
        super().__init__(daemon=True)
        self.database, self.number = database, first
        self.stop, self.errors = threading.Event(), []
        self.wrote = threading.Semaphore(0)  # released after every commit

    def run(self) -> None:
        conn = sqlite3.connect(self.database, isolation_level=None, timeout=30)
        try:
            while not self.stop.is_set():
                n = self.number + 1
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO people (telegram_id, created_at) VALUES (?, 0)", (n,))
                conn.execute("INSERT INTO handled_updates (update_id, digest, handled_at) VALUES (?, 'w', 0)", (n,))
                conn.execute("COMMIT")
                self.number = n
                self.wrote.release()
        except sqlite3.Error as error:
            self.errors.append(error)
        finally:
            conn.close()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """The database is tmp_path/bot.sqlite3; nothing leaks in from the machine."""
    for name in ("APPEALS_BOT_CONFIG", "TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APPEALS_BOT_DATABASE", str(tmp_path / "bot.sqlite3"))
    monkeypatch.chdir(tmp_path)


def _count(path: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchone()[0]


def _people(path: Path) -> list[int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [r[0] for r in conn.execute("SELECT telegram_id FROM people ORDER BY telegram_id")]


async def _filled(database: Path, rows: int) -> None:
    """A migrated database with `rows` pairs already written (a few megabytes: the copy takes a while)."""
    await fresh_database(database)
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.executemany(
            "INSERT INTO people (telegram_id, created_at) VALUES (?, 0)", ((n,) for n in range(1, rows + 1))
        )
        conn.executemany(
            "INSERT INTO handled_updates (update_id, digest, handled_at) VALUES (?, ?, 0)",
            ((n, "w" + "x" * 200) for n in range(1, rows + 1)),
        )


async def test_a_backup_taken_while_writes_happen_is_one_consistent_moment(tmp_path: Path, capsys) -> None:
    """The copy passes SQLite's integrity check and the invariants, and holds as many people as handled
    updates: no write is half in it. Its count lies between the counts before and after the backup."""
    database = tmp_path / "bot.sqlite3"
    rows = 20_000
    await _filled(database, rows)
    writer = Writer(database, rows)
    writer.start()
    try:
        assert writer.wrote.acquire(timeout=20)  # the writer is writing
        before = _count(database, "SELECT count(*) FROM people")
        assert main(["backup", "copy.sqlite3"]) == 0
        after = _count(database, "SELECT count(*) FROM people")
        assert writer.wrote.acquire(timeout=20)  # and still is: the backup held no writer back
    finally:
        writer.stop.set()
        writer.join(20)
    assert writer.errors == []
    out = capsys.readouterr().out
    copy = tmp_path / "copy.sqlite3"
    assert f"backed up to {copy.name}: schema version {LATEST}, 0 appeals" in out
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, no WAL beside it
        people = conn.execute("SELECT count(*) FROM people").fetchone()[0]
        updates = conn.execute("SELECT count(*) FROM handled_updates").fetchone()[0]
        assert check_invariants(conn) == []
    assert people == updates and before <= people <= after
    assert not (tmp_path / "copy.sqlite3.partial").exists()


async def test_backup_refuses_to_overwrite_unless_forced(tmp_path: Path, capsys) -> None:
    """An existing file is kept unless --force says to replace it; a folder that is not there is named."""
    await fresh_database(tmp_path / "bot.sqlite3")
    (tmp_path / "old.sqlite3").write_bytes(b"keep me")
    assert main(["backup", "old.sqlite3"]) == 2
    assert "old.sqlite3 already exists (give --force to replace it)" in capsys.readouterr().err
    assert (tmp_path / "old.sqlite3").read_bytes() == b"keep me"
    assert main(["backup", "--force", "old.sqlite3"]) == 0
    assert _count(tmp_path / "old.sqlite3", "PRAGMA user_version") == LATEST
    assert main(["backup", "nowhere/copy.sqlite3"]) == 2
    assert main(["backup", "bot.sqlite3"]) == 2
    err = capsys.readouterr().err
    assert "the folder nowhere does not exist" in err and "bot.sqlite3 is the database itself" in err
    assert "Traceback" not in err


def test_restore_puts_a_copy_back_and_keeps_the_database_it_replaced(tmp_path: Path, capsys) -> None:
    """Restore brings back the copy's people; the replaced database (with its WAL) is set aside, and
    restoring that one is the way back."""
    database = tmp_path / "bot.sqlite3"
    assert main(["people", "add", "--role", "coordinator", "11"]) == 0
    assert main(["backup", "monday.sqlite3"]) == 0
    assert main(["people", "add", "--role", "coordinator", "12"]) == 0
    capsys.readouterr()
    assert main(["restore", "monday.sqlite3"]) == 0
    out = capsys.readouterr().out
    assert f"monday.sqlite3 restored to {database}: schema version {LATEST}, 0 appeals" in out
    (aside,) = tmp_path.glob("bot.sqlite3.before-restore-*Z")
    assert f"kept as {aside}; to go back: python -m bot restore {aside}" in out
    assert _people(database) == [11] and _people(aside) == [11, 12]
    assert not list(tmp_path.glob("*.restoring*"))
    assert main(["restore", str(aside)]) == 0
    assert _people(database) == [11, 12]
    assert len(list(tmp_path.glob("bot.sqlite3.before-restore-*[0-9Z]"))) == 2  # both earlier ones kept


def test_the_way_back_after_a_restore_names_the_config_it_was_given(tmp_path: Path, capsys, monkeypatch) -> None:
    """Pasted from another folder, the printed command restores into the same config's database, not the default's."""
    monkeypatch.delenv("APPEALS_BOT_DATABASE")
    (tmp_path / "my district").mkdir()
    config = tmp_path / "my district" / "bot config.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "district.sqlite3"}"\n')
    assert main(["people", "--config", str(config), "add", "--role", "coordinator", "11"]) == 0
    assert main(["backup", "monday.sqlite3", "--config", str(config)]) == 0
    assert main(["people", "--config", str(config), "add", "--role", "coordinator", "12"]) == 0
    capsys.readouterr()
    assert main(["restore", "monday.sqlite3", "--config", str(config.relative_to(tmp_path))]) == 0
    hint = capsys.readouterr().out.splitlines()[-1].split("to go back: ")[1]
    (aside,) = tmp_path.glob("district.sqlite3.before-restore-*Z")
    assert hint == f"python -m bot restore {aside} --config '{config}'"
    argv = shlex.split(hint)
    monkeypatch.chdir(tmp_path / "my district")
    assert argv[:3] == ["python", "-m", "bot"] and main(argv[3:]) == 0
    assert _people(tmp_path / "district.sqlite3") == [11, 12]
    assert not list(tmp_path.rglob("appeals.sqlite3"))  # the default config's database was never made

    # The config named by $APPEALS_BOT_CONFIG, as docs/deploy.md §6 restores: the hint names it too.
    monkeypatch.setenv("APPEALS_BOT_CONFIG", str(config))
    capsys.readouterr()
    assert main(["restore", str(tmp_path / "monday.sqlite3")]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f" --config '{config}'")


def test_restore_migrates_an_older_copy_and_checks_it_first(tmp_path: Path, capsys) -> None:
    """A copy from an older bot is brought to this code's schema, as a start would, and then checked."""
    old = tmp_path / "old.sqlite3"
    with contextlib.closing(sqlite3.connect(old, isolation_level=None)) as conn:
        migrate(conn, LATEST - 3)
    assert main(["restore", "old.sqlite3"]) == 0
    out = capsys.readouterr().out
    assert f"schema version {LATEST} (migrated from {LATEST - 3})" in out
    assert "kept as" not in out  # there was no database before
    assert _count(tmp_path / "bot.sqlite3", "PRAGMA user_version") == LATEST


def _newer(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")


def _tampered(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE appeals SET version = version + 3")


def _damaged(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, page * 7):
        data[start + 8 : start + 40] = b"\xff" * 32
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "spoil,expected",
    [
        (None, "copy.sqlite3 does not exist or is not a file"),
        (lambda p: p.write_text("not a database at all, but long enough to look like a file header"), "damaged:"),
        (_damaged, "damaged"),
        (_newer, f"its schema version {LATEST + 1} is newer than this bot's ({LATEST}): upgrade the bot first"),
        (_tampered, "cannot be restored; nothing was changed:\n  ledger: appeal #1 has version 5 but 2 events"),
    ],
    ids=["missing", "not-sqlite", "damaged", "newer-schema", "broken-invariants"],
)
async def test_restore_refuses_a_bad_copy_and_changes_nothing(tmp_path: Path, capsys, spoil, expected) -> None:
    """Each refusal says why, exits 2, leaves the database as it was and no half-made file behind."""
    database = tmp_path / "bot.sqlite3"
    async with running_bot(database) as bot:
        bot.user(7, "Li")
        await bot.say(7, "/start")
        await submit_appeal(bot, 7)
        await submit_appeal(bot, 7, description="Another")
    assert main(["backup", "copy.sqlite3"]) == 0
    copy = tmp_path / "copy.sqlite3"
    if spoil is None:
        copy.unlink()
    else:
        spoil(copy)
    before = database.read_bytes()
    capsys.readouterr()
    assert main(["restore", "copy.sqlite3"]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err, err
    assert database.read_bytes() == before
    assert not list(tmp_path.glob("*.restoring*")) and not list(tmp_path.glob("*.before-restore-*"))


def test_restore_is_refused_while_a_bot_serves_the_database_and_run_during_a_restore(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    """The lock `run` holds keeps restore and a second bot away (and a restore keeps a bot away); the database is untouched."""
    database = tmp_path / "bot.sqlite3"
    assert main(["people", "add", "--role", "coordinator", "11"]) == 0
    assert main(["backup", "copy.sqlite3"]) == 0
    assert main(["people", "add", "--role", "coordinator", "12"]) == 0
    capsys.readouterr()
    with serving(database):
        assert main(["restore", "copy.sqlite3"]) == 1
        err = capsys.readouterr().err
        assert (
            f"{database} is in use by a running bot (or a restore, or migrate-data); stop it first (nothing was changed)"
            in err
        )
        assert _people(database) == [11, 12]
        # No token is needed to reach a Bot API other than Telegram's; the lock is checked before anything opens.
        monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")
        assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert f"{database} is in use by a running bot" in err and "one process serves a SQLite file" in err


async def test_backup_and_restore_follow_database_url_and_send_postgresql_to_pg_dump(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    """`database.url` wins over `path` for the copy as for the bot; a PostgreSQL URL is pg_dump's, said in one line."""
    named = tmp_path / "named.sqlite3"
    await _filled(named, 10)
    monkeypatch.setenv("APPEALS_BOT_DATABASE_URL", f"sqlite:///{named}")
    assert main(["backup", "copy.sqlite3"]) == 0
    assert f"{named} backed up to" in capsys.readouterr().out
    assert not (tmp_path / "bot.sqlite3").exists()
    monkeypatch.setenv("APPEALS_BOT_DATABASE_URL", "postgresql://bot@127.0.0.1/district")
    for command in (["backup", "other.sqlite3"], ["restore", "copy.sqlite3"]):
        assert main(command) == 2
        assert "for PostgreSQL use pg_dump and pg_restore" in capsys.readouterr().err
    assert not (tmp_path / "other.sqlite3").exists() and _count(named, "SELECT count(*) FROM people") == 10


def test_the_sandbox_holds_the_same_lock(tmp_path: Path, capsys) -> None:
    """A restore or migrate-data cannot replace the sandbox's file under it, nor a second sandbox share it."""
    from bot.sandbox_run import district_config

    database = Path(district_config(None).database.path)
    with serving(database):
        assert main(["sandbox", "--port", "0"]) == 1
    assert f"{database} is in use by a running bot" in capsys.readouterr().err
    assert not database.exists()  # refused before anything was opened


def test_a_bot_on_postgresql_holds_no_lock_file(tmp_path: Path, monkeypatch) -> None:
    """On PostgreSQL there is no file for `restore` to replace: no lock beside the config's unused `path`
    (the sandbox on PostgreSQL made `appeals.sqlite3.bot-lock` in the current folder); on SQLite, one."""
    from storage.backup import lock_path, serving_database
    from storage.locations import parse_location

    monkeypatch.chdir(tmp_path)
    with serving_database(parse_location("postgresql://bot@/appeals?host=/nonexistent")):
        assert list(tmp_path.iterdir()) == []
    with serving_database(parse_location(f"sqlite:///{tmp_path}/district.sqlite3")):
        assert lock_path(tmp_path / "district.sqlite3").exists()
