"""The command line: check-config's verdicts, and managing people and units without editing files."""

from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent


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
    path.write_text('default_language = "en"\n[database]\npath = "from-file.sqlite3"\n')
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
