"""database.url (or APPEALS_BOT_DATABASE_URL) picks the backend; database.path keeps working."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import ConfigError, parse_config
from storage.locations import Location, parse_location
from tests.helpers import ONE_UNIT, without_machine_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No config, database or Telegram settings leak in from the machine; work in a temp folder."""
    without_machine_settings(monkeypatch, tmp_path)


def test_by_default_the_sqlite_file_at_the_path() -> None:
    assert parse_config({}, environ={}).database.location() == Location("sqlite", "appeals.sqlite3")
    database = {"path": "district.sqlite3"}
    assert parse_config({"database": database}, environ={}).database.location() == Location(
        "sqlite", "district.sqlite3"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("district.sqlite3", Location("sqlite", "district.sqlite3")),
        ("sqlite:///district.sqlite3", Location("sqlite", "district.sqlite3")),
        ("sqlite:////srv/bot/district.sqlite3", Location("sqlite", "/srv/bot/district.sqlite3")),
        ("postgresql://bot@db.example/appeals", Location("postgresql", "postgresql://bot@db.example/appeals")),
        ("postgres://bot@db.example/appeals", Location("postgresql", "postgres://bot@db.example/appeals")),
    ],
)
def test_the_url_names_the_backend_and_wins_over_the_path(url, expected) -> None:
    config = parse_config({"database": {"path": "ignored.sqlite3", "url": url}}, environ={})
    assert config.database.location() == expected


def test_the_url_may_come_from_the_environment() -> None:
    url = "postgresql://bot@db.example/appeals"
    config = parse_config({"database": {"url": "x.sqlite3"}}, environ={"APPEALS_BOT_DATABASE_URL": url})
    assert config.database.location() == Location("postgresql", url)


@pytest.mark.parametrize("url", ["mysql://bot@db/appeals", "sqlite:///", "postgresq://bot@db/appeals"])
def test_an_unknown_scheme_is_a_clear_problem_not_a_new_file(url) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"database": {"url": url}}, environ={})
    assert "database.url" in str(raised.value)


def test_a_password_in_the_url_is_never_shown(tmp_path, monkeypatch, capsys) -> None:
    """check-config names the database without the password (logs use the same shown form), here in the
    summary and in the line saying it cannot be reached (no server on that socket folder)."""
    path = tmp_path / "config.toml"
    path.write_text(ONE_UNIT)
    url = "postgresql://bot:s3cret-word@db.example:5432/appeals?host=/nonexistent/appeals-bot-socket"
    monkeypatch.setenv("APPEALS_BOT_DATABASE_URL", url)
    assert main(["check-config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "postgresql://bot:***@db.example:5432/appeals?host=/nonexistent/appeals-bot-socket" in out
    assert "error: the database postgresql://bot:***@db.example:5432/appeals" in err
    assert "s3cret-word" not in out + err


def test_shown_leaves_a_url_without_password_and_a_path_alone() -> None:
    assert parse_location("postgresql://bot@db/appeals").shown() == "postgresql://bot@db/appeals"
    assert parse_location("postgresql:///appeals").shown() == "postgresql:///appeals"
    assert parse_location("sqlite:///a.sqlite3").shown() == "a.sqlite3"


def test_a_password_given_as_a_query_parameter_is_masked_too() -> None:
    """libpq takes ?password=…; shown() hides it, and masked() hides it (as written or decoded) in a driver's message."""
    where = parse_location("postgresql://bot@db/appeals?sslmode=require&password=s3cret%2Bword&connect_timeout=3")
    assert where.shown() == "postgresql://bot@db/appeals?sslmode=require&password=***&connect_timeout=3"
    assert where.masked('bad "s3cret%2Bword", bad "s3cret+word"') == 'bad "***", bad "***"'
    # A socket's URL has no host: the masked one keeps its three slashes.
    socket = parse_location("postgresql:///appeals?host=/run/postgresql&password=pw")
    assert socket.shown() == "postgresql:///appeals?host=/run/postgresql&password=***"
