"""`migrate-data` copies a district from SQLite to PostgreSQL whole; `check-config` and `run` refuse a schema
newer than the code, on both backends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from storage.migrations import LATEST, migrate
from tests.harness import fresh_database
from tests.helpers import ONE_UNIT, without_machine_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No config, database or Telegram settings leak in from the machine; work in a temp folder."""
    without_machine_settings(monkeypatch, tmp_path)


def config_file(tmp_path: Path, database: str, token: bool = False) -> Path:
    """A config that can serve, on `database` (a path or a URL); with a token and a Bot API that is no one."""
    key = "url" if "://" in database else "path"
    telegram = '[telegram]\ntoken = "1:x"\nbase_url = "http://127.0.0.1:9/bot"\n' if token else ""
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\n{key} = "{database}"\n{telegram}' + ONE_UNIT)
    return path


def set_version(database: Path, version: int) -> None:
    conn = sqlite3.connect(database)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


async def test_check_config_reports_the_schema_and_refuses_a_newer_one(tmp_path, capsys) -> None:
    """No database yet, the code's version, one behind (migrated at start), one newer (refused, exit 1)."""
    database = tmp_path / "d.sqlite3"
    config = config_file(tmp_path, str(database))
    assert main(["check-config", str(config)]) == 0
    assert "schema         none yet: made at start" in capsys.readouterr().out

    behind = sqlite3.connect(database)
    migrate(behind, LATEST - 1)
    behind.close()
    assert main(["check-config", str(config)]) == 0
    assert f"version {LATEST - 1}, behind this bot's {LATEST}: migrated at start" in capsys.readouterr().out

    await fresh_database(database.with_name("latest.sqlite3"))
    database.unlink()
    database.with_name("latest.sqlite3").rename(database)
    assert main(["check-config", str(config)]) == 0
    assert f"version {LATEST}, this bot's" in capsys.readouterr().out

    set_version(database, LATEST + 1)
    assert main(["check-config", str(config)]) == 1
    captured = capsys.readouterr()
    assert f"NEWER than this bot's {LATEST}" in captured.out
    (error,) = [line for line in captured.err.splitlines() if line.startswith("error")]
    assert error.startswith("error: ") and f"schema version {LATEST + 1}" in error and "upgrade the bot" in error


async def test_run_refuses_a_newer_sqlite_schema_before_starting(tmp_path, capsys) -> None:
    """One line and exit 1, before the bot takes the database (no lock file beside it)."""
    database = await fresh_database(tmp_path / "d.sqlite3")
    set_version(database, LATEST + 1)
    assert main(["run", "--config", str(config_file(tmp_path, str(database), token=True))]) == 1
    err = capsys.readouterr().err
    assert f"schema version {LATEST + 1}, newer than this bot's ({LATEST})" in err and "Traceback" not in err
    assert not database.with_name(database.name + ".bot-lock").exists()


async def test_migrate_data_refuses_a_source_of_another_schema(tmp_path, capsys) -> None:
    """Newer or older than the code: refused before the target is even reached."""
    database = await fresh_database(tmp_path / "d.sqlite3")
    for version, says in ((LATEST + 1, "newer than this bot's"), (LATEST - 1, "start this bot on it once")):
        set_version(database, version)
        nowhere = "postgresql://nobody@/none?host=/nonexistent"
        assert main(["migrate-data", "--from", f"sqlite:///{database}", "--to", nowhere]) == 1
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1


def test_migrate_data_names_a_wrong_direction_or_a_missing_file(tmp_path, capsys) -> None:
    assert main(["migrate-data", "--from", "postgresql://a@/b", "--to", "postgresql://a@/c"]) == 1
    assert "--from must be a SQLite database" in capsys.readouterr().err
    assert main(["migrate-data", "--from", "sqlite:///missing.sqlite3", "--to", "postgresql://a@/c"]) == 1
    assert "missing.sqlite3 does not exist" in capsys.readouterr().err
    assert main(["migrate-data", "--from", "sqlite:///x.sqlite3", "--to", "mysql://a@/c"]) == 1
    assert "mysql:// is not a database" in capsys.readouterr().err


# ---- on a real PostgreSQL server (slow tier) ----


def sqlite_counts(database: Path) -> dict[str, int]:
    """Rows per table the bot's migrations make, SQLite's own index tables left out."""
    with sqlite3.connect(database) as conn:
        names = [
            r[0]
            for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            if "VIRTUAL" not in r[1]
        ]
        virtual = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")]
        names = [n for n in names if not any(n.startswith(f"{v}_") for v in virtual)]
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def postgres_count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


async def sandbox_district(database: Path) -> None:
    """The sample district with its example appeals, made through the real bot: appeals, ledger, timers,
    outbox, people, stations; and an answer, for the answers' index."""
    from sandbox import examples
    from tests.sandbox.test_examples import sandbox_bot

    async with sandbox_bot(database) as bot:
        assert await examples.seed_running(bot.app) == 5
    with sqlite3.connect(database) as conn:
        conn.execute(
            "INSERT INTO answers (id, category, title_zh, title_en, text_zh, text_en, keywords)"
            " VALUES ('pay', 'pay', '工资', 'Pay', '按月发放。', 'Paid monthly.', '[\"工资\", \"pay\"]')"
        )


@pytest.mark.slow
async def test_a_district_is_copied_whole_with_counts_and_identities(tmp_path, postgres_url, capsys) -> None:
    """Every table's rows arrive; the answers' and stations' PostgreSQL indexes are filled; new rows
    take ids after the copied ones; the summary says what was left out and why."""
    import psycopg

    database = tmp_path / "district.sqlite3"
    await sandbox_district(database)
    counts = sqlite_counts(database)
    assert counts["appeals"] == 5 and counts["events"] > 5 and counts["timers"] and counts["outbox"]
    assert counts["stations"] and counts["answer_keywords"] == 2

    assert main(["migrate-data", "--from", f"sqlite:///{database}", "--to", postgres_url]) == 0
    out = capsys.readouterr().out
    assert "counts match" in out and "answer_index" in out and "station_index" in out
    assert "invariants on the SQLite file: all hold" in out and "invariants on the copy: all hold" in out
    for table, count in counts.items():
        assert postgres_count(postgres_url, table) == count, table
    with psycopg.connect(postgres_url) as conn:
        active = conn.execute("SELECT count(*) FROM stations WHERE active = 1").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM station_index").fetchone()[0] == active
        assert conn.execute("SELECT answer_id FROM answer_index WHERE body LIKE '%monthly%'").fetchone() == ("pay",)
        largest = conn.execute("SELECT max(id) FROM events").fetchone()[0]
        added = conn.execute(
            "INSERT INTO direct_answers (category, answer_id, at) VALUES ('pay', 'pay', 0) RETURNING id"
        ).fetchone()[0]
        assert added == counts["direct_answers"] + 1
        assert conn.execute("SELECT nextval(pg_get_serial_sequence('events', 'id'))").fetchone()[0] == largest + 1


@pytest.mark.slow
async def test_merged_appeals_are_copied_with_what_they_were_merged_into(tmp_path, postgres_url) -> None:
    """A merged appeal names the appeal it went into (a CHECK ties the two), also one with a larger id."""
    import psycopg

    from storage.locations import Location
    from storage.move_data import move

    database = tmp_path / "district.sqlite3"
    await sandbox_district(database)
    with sqlite3.connect(database) as conn:
        first, second, last = (r[0] for r in conn.execute("SELECT id FROM appeals ORDER BY id").fetchall()[::2][:3])
        # Set in place: one merged into an earlier appeal, one into a later one (copied after it).
        merges = {last: first, first: second}
        for appeal, into in merges.items():
            conn.execute(
                "UPDATE appeals SET state = 'closed', outcome = 'merged', merged_into = ? WHERE id = ?", (into, appeal)
            )

    moved = move(Location("sqlite", str(database)), Location("postgresql", postgres_url))
    assert moved.copied["appeals"] == 5
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT id, merged_into FROM appeals WHERE outcome = 'merged'").fetchall()
    assert dict(rows) == merges


@pytest.mark.slow
async def test_a_target_with_rows_is_refused_and_left_alone(tmp_path, postgres_migrated_url, capsys) -> None:
    import psycopg

    database = await fresh_database(tmp_path / "d.sqlite3")
    with psycopg.connect(postgres_migrated_url) as conn:
        conn.execute("INSERT INTO units (id, kind, name_zh, name_en) VALUES ('hr', 'department', '人社局', 'HR')")
    assert main(["migrate-data", "--from", f"sqlite:///{database}", "--to", postgres_migrated_url]) == 1
    err = capsys.readouterr().err
    assert "is not empty (units have rows)" in err and len(err.strip().splitlines()) == 1
    assert postgres_count(postgres_migrated_url, "units") == 1


@pytest.mark.slow
async def test_a_newer_postgresql_schema_is_refused_by_every_command(tmp_path, postgres_migrated_url, capsys) -> None:
    """migrate-data, check-config and run each say so in one line and exit 1."""
    import psycopg

    from storage.postgres_migrations import LATEST as PG_LATEST

    with psycopg.connect(postgres_migrated_url) as conn:
        conn.execute("UPDATE schema_version SET version = %s", (PG_LATEST + 1,))
    database = await fresh_database(tmp_path / "d.sqlite3")
    assert main(["migrate-data", "--from", f"sqlite:///{database}", "--to", postgres_migrated_url]) == 1
    assert f"schema version {PG_LATEST + 1}, newer than this bot's" in capsys.readouterr().err

    config = config_file(tmp_path, postgres_migrated_url, token=True)
    assert main(["check-config", str(config)]) == 1
    captured = capsys.readouterr()
    assert "NEWER than this bot's" in captured.out and captured.err.count("error:") == 1
    assert main(["run", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"schema version {PG_LATEST + 1}, newer than this bot's" in err and "Traceback" not in err


@pytest.mark.slow
def test_check_config_says_an_empty_postgresql_database_is_made_at_start(tmp_path, postgres_url, capsys) -> None:
    assert main(["check-config", str(config_file(tmp_path, postgres_url))]) == 0
    assert "schema         none yet: made at start" in capsys.readouterr().out


async def test_migrate_data_refuses_a_database_a_bot_is_serving(tmp_path, capsys) -> None:
    """The bot must be stopped: rows it wrote during the copy would be lost."""
    from storage.backup import serving

    database = await fresh_database(tmp_path / "d.sqlite3")
    with serving(database):
        assert main(["migrate-data", "--from", f"sqlite:///{database}", "--to", "postgresql://a@/c"]) == 1
    err = capsys.readouterr().err
    assert "is in use by a running bot" in err and "stop it first" in err


@pytest.mark.slow
async def test_a_role_that_does_not_own_the_database_is_told_how_in_one_line(tmp_path, postgres_url, capsys) -> None:
    """No traceback: the line names the missing right and the createdb that gives it."""
    import psycopg

    database = await fresh_database(tmp_path / "d.sqlite3")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS visitor")
        admin.execute("CREATE ROLE visitor LOGIN")
    visitor = postgres_url.replace("postgresql://appeals@", "postgresql://visitor@", 1)
    assert visitor != postgres_url
    try:
        assert main(["migrate-data", "--from", f"sqlite:///{database}", "--to", visitor]) == 1
        err = capsys.readouterr().err
        assert "the bot's role must own the database (createdb --owner=ROLE NAME" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("DROP OWNED BY visitor")
            admin.execute("DROP ROLE visitor")


async def test_migrate_data_never_shows_the_password_of_a_server_it_cannot_reach(tmp_path, capsys) -> None:
    """libpq quotes a password it cannot decode in its message: the line masks it there too."""
    database = await fresh_database(tmp_path / "d.sqlite3")
    target = "postgresql://bot:s3cret%zzword@/appeals?host=/nonexistent/appeals-bot-socket"
    assert main(["migrate-data", "--from", f"sqlite:///{database}", "--to", target]) == 1
    err = capsys.readouterr().err
    assert (
        "error: postgresql://bot:***@/appeals" in err
        and 'cannot be opened (invalid percent-encoded token: "***")' in err
    )
    assert "s3cret" not in err
