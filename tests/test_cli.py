"""The command line: check-config's verdicts, and managing people and units without editing files."""

import os
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
UNIT = '[[units]]\nid = "hr"\nkind = "department"\nzh = "人社局"\nen = "HR Bureau"\n'


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No config, database or Telegram settings leak in from the machine; work in a temp folder."""
    for name in ("APPEALS_BOT_CONFIG", "APPEALS_BOT_DATABASE", "TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_help_lists_the_subcommands(capsys) -> None:
    """`python -m bot --help` names every subcommand."""
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "sandbox", "check-config", "people", "units"):
        assert command in out


def test_the_example_config_is_valid(capsys) -> None:
    """The committed example passes and is summarised."""
    assert main(["check-config", str(ROOT / "config.example.toml")]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "Asia/Shanghai" in out and "3 routing rules" in out


@pytest.mark.parametrize(
    "text,expected",
    [
        ('coordinators = ["ten"]\n', "coordinators[0]: Input should be a valid integer"),
        ("colour = 'blue'\n", "colour: Extra inputs are not permitted"),
        ('[[routing]]\ncategory = "work"\nunit = "nowhere"\n', "routing[0].unit: no unit has the id 'nowhere'"),
        ('timezone = "Mars/Olympus_Mons"\n', "timezone: unknown time zone 'Mars/Olympus_Mons'"),
        ('[deadlines]\naccept = "soon"\n', "deadlines.accept:"),
        ('[calendar]\nwork_hours = ["18:00-09:00"]\n', "calendar.work_hours: '18:00-09:00' ends before it starts"),
        ("this is not toml", "(syntax)"),
    ],
)
def test_a_bad_config_exits_2_naming_the_key(tmp_path, capsys, text, expected) -> None:
    """Each kind of mistake is reported with its key and reason, never a traceback."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_every_problem_is_listed_at_once(tmp_path, capsys) -> None:
    """Three mistakes, three lines."""
    path = tmp_path / "bad.toml"
    path.write_text('timezone = "Nowhere/Land"\ncoordinators = ["x"]\nfoo = 1\n')
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "3 problem(s)" in err
    assert all(key in err for key in ("timezone:", "coordinators[0]:", "foo:"))


def test_the_config_path_comes_from_the_environment(tmp_path, monkeypatch, capsys) -> None:
    """APPEALS_BOT_CONFIG names the file; APPEALS_BOT_DATABASE wins over its database path."""
    path = tmp_path / "mine.toml"
    path.write_text('default_language = "en"\n[database]\npath = "from-file.sqlite3"\n' + UNIT)
    monkeypatch.setenv("APPEALS_BOT_CONFIG", str(path))
    monkeypatch.setenv("APPEALS_BOT_DATABASE", "from-env.sqlite3")
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert str(path) in out and "from-env.sqlite3" in out and "default language en" in out


def test_people_and_units_without_editing_files(tmp_path, monkeypatch, capsys) -> None:
    """Add staff and a coordinator, list them, remove one; units come from the config."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[database]\npath = "people.sqlite3"\n'
        '[[units]]\nid = "st1"\nkind = "station"\nzh = "一号驿站"\nen = "Station One"\nstaff = [11]\n'
    )
    assert main(["units", "--config", str(config), "list"]) == 0
    assert "st1" in capsys.readouterr().out
    assert main(["people", "--config", str(config), "add", "--role", "staff", "--unit", "st1", "12"]) == 0
    assert main(["people", "--config", str(config), "add", "--role", "coordinator", "13"]) == 0
    capsys.readouterr()
    assert main(["people", "--config", str(config), "list"]) == 0
    listing = capsys.readouterr().out
    assert "11" in listing and "12" in listing and "13" in listing and "coordinator" in listing
    assert main(["people", "--config", str(config), "add", "--role", "staff", "--unit", "nowhere", "14"]) == 2
    assert "no unit has the id 'nowhere'" in capsys.readouterr().err
    assert main(["people", "--config", str(config), "add", "--role", "staff", "15"]) == 2
    assert main(["people", "--config", str(config), "remove", "12"]) == 0
    assert main(["people", "--config", str(config), "remove", "12"]) == 2
    capsys.readouterr()
    assert main(["people", "--config", str(config), "list"]) == 0
    assert " 12 " not in capsys.readouterr().out
    assert main(["units", "--config", str(config), "list"]) == 0
    assert "staff: 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text,expected",
    [
        # No working time in a week, however it is written.
        (
            '[calendar]\nrest_weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n',
            "calendar.rest_weekdays: every weekday is a rest day",
        ),
        ("[calendar]\nwork_hours = []\n", "calendar.work_hours: at least one working period is needed"),
        ('[calendar]\nwork_hours = ["09:00-09:00"]\n', "calendar.work_hours: '09:00-09:00' ends before it starts"),
        (
            '[calendar]\nwork_hours = ["09:00-12:00", "11:00-18:00"]\n',
            "calendar.work_hours: 09:00-12:00 and 11:00-18:00 overlap",
        ),
        (
            "[calendar]\nholidays = [" + ", ".join(f"2027-01-{d:02d}" for d in range(1, 32)) + "]\n",
            "calendar.holidays: no working day from 2027-01-01 to 2027-01-31 (31 days)",
        ),
        # A reminder that could never come before its deadline is set.
        ('[reminders]\nremind_before = "13wd"\n', "reminders.remind_before: 13wd is not shorter than any deadline"),
        # A follow-up after the retention has anonymised the appeal.
        ('[privacy]\nretention_days = 30\n[deadlines]\nfollowup = "60wd"\n', "deadlines.followup: 60wd is about"),
        (
            "[privacy]\nretention_days = 30\n"
            + UNIT.replace(
                "[[units]]",
                '[[categories]]\nid = "work"\nzh = "工作"\nen = "Work"\ndeadlines.urgent.followup = "40wd"\n[[units]]',
            ),
            "categories[0].deadlines.urgent.followup: 40wd is about",
        ),
        # Digest times that are not times of day.
        ('[digest]\ndaily = "25:00"\n', "digest.daily: '25:00' is not a time of day"),
        ('[digest]\ndaily = "6pm"\n', "digest.daily: '6pm' is not a time like 09:00"),
        ('[digest]\nweekly = "09:60"\n', "digest.weekly: '09:60' is not a time of day"),
        ('[digest]\nweekly_day = "someday"\n', "digest.weekly_day:"),
    ],
)
def test_a_config_that_makes_a_core_action_impossible_is_refused(tmp_path, capsys, text, expected) -> None:
    """Each value is valid alone, or nearly: check-config names the key and says why, and exits 2."""
    path = tmp_path / "impossible.toml"
    path.write_text(text + ("" if "[[units]]" in text else UNIT))
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_a_config_with_no_unit_cannot_serve(tmp_path, capsys) -> None:
    """Appeals would reach no one: check-config refuses it; commands that only need the database
    still read it."""
    path = tmp_path / "no-units.toml"
    path.write_text('[database]\npath = "n.sqlite3"\n')
    assert main(["check-config", str(path)]) == 2
    assert "units: no unit is configured" in capsys.readouterr().err
    assert main(["units", "--config", str(path), "list"]) == 0


def test_the_spring_festival_and_a_six_day_week_are_fine(tmp_path, capsys) -> None:
    """Nine days off in a row, and one working weekday, still leave time to count deadlines in."""
    path = tmp_path / "fine.toml"
    festival = ", ".join(f"2026-02-{d:02d}" for d in range(16, 24))
    path.write_text(
        f'[calendar]\nrest_weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]\nholidays = [{festival}]\n' + UNIT
    )
    assert main(["check-config", str(path)]) == 0, capsys.readouterr().err


def test_an_unreachable_bot_api_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch) -> None:
    """`run --webhook` cannot tell Telegram its address: it says where it tried, without the token, and exits 1."""
    from tests.test_run_command import free_port

    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("APPEALS_BOT_DATABASE_URL", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(
        'default_language = "en"\n[telegram]\ntoken = "123456:SECRET"\nbase_url = "http://127.0.0.1:9/bot"\n'
        f'[webhook]\nurl = "https://bot.example.org"\nsecret_token = "abc"\nport = {free_port()}\n'
    )
    assert main(["run", "--webhook", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "error: the Bot API at http://127.0.0.1:9/bot cannot be reached" in err
    assert "Traceback" not in err and "SECRET" not in err


def _database_config(tmp_path: Path, monkeypatch, database: str) -> Path:
    """A config that can serve, on `database` (a path or a URL), whatever the machine's environment says."""
    monkeypatch.delenv("APPEALS_BOT_DATABASE_URL", raising=False)
    key = "url" if "://" in database else "path"
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\n{key} = "{database}"\n' + UNIT)
    return path


# A socket folder that does not exist: no server answers, at once. The password's "%zz" cannot be
# decoded, and libpq quotes it in its message.
UNREACHABLE = "postgresql://bot:s3cret%zzword@/appeals?host=/nonexistent/appeals-bot-socket"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (UNREACHABLE, 'invalid percent-encoded token: "***"'),
        ("postgresql://bot@/appeals?host=/nonexistent/appeals-bot-socket&password=s3cret", "No such file or directory"),
    ],
)
def test_check_config_refuses_a_postgresql_server_it_cannot_reach(tmp_path, monkeypatch, capsys, url, reason) -> None:
    """Not OK: exit 2 and one line naming the database and why, with no password in sight."""
    assert main(["check-config", str(_database_config(tmp_path, monkeypatch, url))]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines()[0].endswith(": valid, but the bot cannot start on its database")
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith("error: the database postgresql://bot") and "cannot be opened" in line and reason in line
    assert "s3cret" not in out + err and "Traceback" not in err


def test_check_config_refuses_a_sqlite_file_that_cannot_be_made(tmp_path, monkeypatch, capsys) -> None:
    """A file where a folder should be: a start could not create the database there."""
    data = tmp_path / "data"
    data.write_text("not a folder")
    assert main(["check-config", str(_database_config(tmp_path, monkeypatch, str(data / "a.sqlite3")))]) == 2
    err = capsys.readouterr().err
    assert f"error: the database {data}/a.sqlite3 cannot be created: {data} is a file, not a folder\n" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_check_config_refuses_a_folder_it_cannot_write(tmp_path, monkeypatch, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        assert main(["check-config", str(_database_config(tmp_path, monkeypatch, str(locked / "a.sqlite3")))]) == 2
    finally:
        locked.chmod(0o755)
    assert f"the folder {locked} is not writable by this user" in capsys.readouterr().err


def test_check_config_is_ok_with_a_sqlite_file_a_start_will_make(tmp_path, monkeypatch, capsys) -> None:
    """A fresh install: no file yet (nor its folder) is fine, and check-config says what the start makes."""
    assert main(["check-config", str(_database_config(tmp_path, monkeypatch, "a.sqlite3"))]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(": OK") and "made at start (this bot's schema version" in out
    assert out.rstrip().endswith(", in a new file")
    assert main(["check-config", str(_database_config(tmp_path, monkeypatch, "new/folder/a.sqlite3"))]) == 0
    assert capsys.readouterr().out.rstrip().endswith(", in a new file; new is made too")
    assert not (tmp_path / "a.sqlite3").exists() and not (tmp_path / "new").exists()


def test_commands_on_a_database_they_cannot_reach_say_so_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    """people, units, stations, answers, ...: one line and exit 1, not a driver's traceback."""
    config = str(_database_config(tmp_path, monkeypatch, UNREACHABLE))
    assert main(["people", "--config", config, "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the database postgresql://bot:***@/appeals") and len(err.splitlines()) == 1
    assert "s3cret" not in err


def test_an_export_from_a_database_no_bot_has_run_on_is_refused(tmp_path, monkeypatch, capsys) -> None:
    """Run from the wrong folder, or without --config, `export` made an empty database there and said "0
    appeals written", as if the district had none: it says there is no database, and makes none."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APPEALS_BOT_CONFIG", raising=False)
    for command in (
        ["export", "--from", "2026-12-01", "--to", "2026-12-07", "-o", "ledger.csv"],
        ["stations", "export", "-o", "stations.csv"],
    ):
        assert main(command) == 1, command
        err = capsys.readouterr().err
        assert "there is no district's database at appeals.sqlite3 yet" in err and "--config" in err, err
    assert list(tmp_path.iterdir()) == []
