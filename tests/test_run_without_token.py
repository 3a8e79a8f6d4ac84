"""`python -m bot run` with no token refuses, naming both ways on; `python3 dev.py run` then starts the sandbox."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.cli import EXIT_NO_TOKEN, FALLBACK_ENV, main
from tests.helpers import without_machine_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No config, database or Telegram settings leak in from the machine; work in a temp folder."""
    without_machine_settings(monkeypatch, tmp_path)


def test_run_without_a_token_names_both_ways_on_and_opens_no_database(tmp_path, capsys) -> None:
    """The configured database is not created, let alone filled with the sandbox's sample stations."""
    database = tmp_path / "district.sqlite3"
    (tmp_path / "config.toml").write_text(f'[database]\npath = "{database}"\n')
    assert main(["run"]) == EXIT_NO_TOKEN
    err = capsys.readouterr().err
    assert "no bot token" in err and "TELEGRAM_BOT_TOKEN" in err and "python -m bot sandbox" in err
    assert "Traceback" not in err
    assert not database.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "config.toml"]


def test_run_without_a_token_under_dev_py_says_the_sandbox_follows_in_a_line(monkeypatch, capsys) -> None:
    """dev.py starts the sandbox next: one line saying so, not an error with advice to do what follows anyway."""
    monkeypatch.setenv(FALLBACK_ENV, "sandbox")
    assert main(["run"]) == EXIT_NO_TOKEN
    err = capsys.readouterr().err
    assert err.startswith("No bot token, so the sandbox starts instead") and "TELEGRAM_BOT_TOKEN" in err
    assert "error" not in err and err.count("\n") == 1


def load_dev():
    """dev.py as a module (it lives beside the packages, not in one)."""
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "args,run,sandbox",
    [
        ([], ["run"], ["sandbox", "--port", "8080"]),
        (["--port", "9000"], ["run"], ["sandbox", "--port", "9000"]),
        (
            ["--port=0", "--debug", "--config", "district.toml"],
            ["run", "--debug", "--config", "district.toml"],
            ["sandbox", "--port", "0", "--debug"],
        ),
        # The sandbox's own flag is not run's: it goes to the sandbox alone.
        (["--no-examples", "--port", "9000"], ["run"], ["sandbox", "--port", "9000", "--no-examples"]),
    ],
)
def test_dev_run_without_a_token_starts_the_sandbox_with_its_port(monkeypatch, args, run, sandbox) -> None:
    """dev.py asks `bot run` first (it alone decides what a token is); on its no-token code, the sandbox,
    on the sample district's own database whatever config was named, with --port passed through."""
    dev = load_dev()
    commands: list[list[str]] = []

    def call(command: list[str], cwd: Path, **kwargs) -> int:
        commands.append(command[3:])  # after python -m bot
        if command[3] == "run":  # told the sandbox follows, so it says so in a line, not as an error
            assert kwargs["env"][FALLBACK_ENV] == "sandbox"
        return EXIT_NO_TOKEN if command[3] == "run" else 0

    monkeypatch.setattr(dev.subprocess, "call", call)
    assert dev._run(args) == 0
    assert commands == [run, sandbox]


def test_dev_run_with_a_token_runs_the_bot_only(monkeypatch) -> None:
    """With a token (the bot starts and, stopped, exits 0), no sandbox; another command passes straight on."""
    dev = load_dev()
    commands: list[list[str]] = []
    monkeypatch.setattr(dev.subprocess, "call", lambda command, cwd, **kwargs: commands.append(command[3:]) or 0)
    assert dev._run(["--webhook"]) == 0
    assert dev._run(["check-config", "my.toml"]) == 0
    assert commands == [["run", "--webhook"], ["check-config", "my.toml"]]
