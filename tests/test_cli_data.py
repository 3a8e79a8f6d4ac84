"""`python -m bot stations import|export` and `python -m bot export`: real files, a real database."""

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.app import open_storage
from bot.cli import main
from bot.config import load_config
from domain.commands import ActOnAppeal, NewAppeal
from domain.lifecycle import Event

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = ROOT / "sandbox" / "district"
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def district(tmp_path, monkeypatch) -> Path:
    """The sandbox district's config, with the database in a temporary folder."""
    monkeypatch.setenv("APPEALS_BOT_DATABASE", str(tmp_path / "district.sqlite3"))
    return DISTRICT / "config.toml"


def run(*argv: str) -> int:
    """The command line, in this process."""
    return main(list(argv))


def station_count(config_path: Path) -> int:
    """Stations in the config's database."""

    async def count() -> int:
        storage = await open_storage(load_config(config_path), datetime.now(TZ))
        try:
            return len(await storage.stations.all())
        finally:
            await storage.close()

    return asyncio.run(count())


@pytest.mark.slow  # a process of its own
def test_the_sample_district_imports_with_python_m_bot(tmp_path) -> None:
    """The real command in a real process: `python -m bot stations import sandbox/district/stations.json`."""
    environment = {
        **os.environ,
        "APPEALS_BOT_DATABASE": str(tmp_path / "sample.sqlite3"),
        "APPEALS_BOT_CONFIG": str(DISTRICT / "config.toml"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "stations", "import", "sandbox/district/stations.json"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sandbox/district/stations.json: 36 stations imported (36 new, 0 updated)"


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_round_trip(district, tmp_path, capsys, fmt) -> None:
    """What export writes, import reads back unchanged, and exporting again writes the same bytes."""
    assert run("stations", "--config", str(district), "import", str(DISTRICT / "stations.json")) == 0
    first = tmp_path / f"first.{fmt}"
    assert run("stations", "--config", str(district), "export", "-o", str(first)) == 0
    assert capsys.readouterr().err == f"36 stations written to {first} ({fmt})\n"
    assert run("stations", "--config", str(district), "import", str(first)) == 0
    assert "36 stations imported (0 new, 36 updated)" in capsys.readouterr().out
    second = tmp_path / f"second.{fmt}"
    assert run("stations", "--config", str(district), "export", "--format", fmt, "-o", str(second)) == 0
    assert first.read_bytes() == second.read_bytes()
    if fmt == "json":
        sample = json.loads((DISTRICT / "stations.json").read_text(encoding="utf-8"))["stations"]
        exported = json.loads(first.read_text(encoding="utf-8"))["stations"]
        assert [{k: v for k, v in s.items() if k != "active"} for s in exported] == [
            {**s, "address": s.get("address", "")} for s in sample
        ]


def test_a_bad_file_reports_every_problem_and_imports_nothing(district, tmp_path, capsys) -> None:
    """Exit 2, each problem with its line, column and reason; the database is untouched."""
    data = json.loads((DISTRICT / "stations.json").read_text(encoding="utf-8"))
    data["stations"][1]["lat"] = 123
    data["stations"][5]["grade"] = "S"
    data["stations"][9]["unit"] = "station-moon"
    data["stations"][20]["hours"]["fri"] = "8-17"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    assert run("stations", "--config", str(district), "import", str(bad)) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{bad}: 4 problem(s); nothing was imported"
    assert [line.split(":")[0].strip() for line in err[1:]] == [
        f"line {n}, column {c}"
        for n, c in _lines_of(
            bad,
            ('"lat": 123', '"grade": "S"', '"unit": "station-moon"', '"fri": "8-17"'),
            ("lat", "grade", "unit", "hours.fri"),
        )
    ]
    assert station_count(district) == 0


def _lines_of(path: Path, fragments: tuple[str, ...], columns: tuple[str, ...]) -> list[tuple[int, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        (next(i for i, line in enumerate(lines, 1) if fragment in line), column)
        for fragment, column in zip(fragments, columns, strict=True)
    ]


def test_files_that_cannot_be_read(district, tmp_path, capsys) -> None:
    """A missing file or an unknown format is exit 2 with a sentence, never a traceback."""
    assert run("stations", "--config", str(district), "import", str(tmp_path / "missing.json")) == 2
    assert "cannot read" in capsys.readouterr().err
    other = tmp_path / "stations.txt"
    other.write_text("id,name\n")
    assert run("stations", "--config", str(district), "import", str(other)) == 2
    assert "name it .csv or .json, or give --format" in capsys.readouterr().err
    assert run("stations", "--config", str(district), "import", "--format", "csv", str(other)) == 2
    assert "column lat: is missing from the header" in capsys.readouterr().err


def _ledger_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'coordinators = [900]\n[database]\npath = "{tmp_path / "ledger.sqlite3"}"\n'
        '[[units]]\nid = "hr"\nkind = "department"\nzh = "人社局"\nen = "HR Bureau"\nstaff = [600]\n',
        encoding="utf-8",
    )
    return path


def test_the_ledger_export_command(tmp_path, capsys, monkeypatch) -> None:
    """`export --from --to --format csv|xlsx -o FILE`: the same rows as /export, headers in the chosen language."""
    monkeypatch.delenv("APPEALS_BOT_DATABASE", raising=False)
    config_path = _ledger_config(tmp_path)
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)

    async def file_appeals() -> None:
        storage = await open_storage(load_config(config_path), monday)
        try:
            await storage.people.seen(1001, "en", monday)
            new = NewAppeal(courier_id=1001, category="work", description="Unpaid", language="en")
            number = (await storage.appeals.submit(new, "hr", monday)).appeal.id
            await storage.appeals.apply(ActOnAppeal(number, Event.ACCEPT, 600), monday + timedelta(hours=2))
            await storage.appeals.submit(new, None, monday + timedelta(days=10))  # outside the period
        finally:
            await storage.close()

    asyncio.run(file_appeals())
    out = tmp_path / "ledger.csv"
    assert (
        run("export", "--config", str(config_path), "--from", "2026-11-23", "--to", "2026-11-29", "-o", str(out)) == 0
    )
    assert "ledger 2026-11-23 to 2026-11-29: 1 appeals written to" in capsys.readouterr().err
    header, row = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert header[:3] == ["编号", "类别", "承办单位"]  # the config's default language
    assert row[:3] == ["1", "工作保障", "人社局"] and row[8:10] == [
        "2026-11-23 10:00",
        "2026-11-23 12:00",
    ]  # after Station and Place

    book = tmp_path / "ledger.xlsx"
    assert (
        run(
            "export",
            "--config",
            str(config_path),
            "--from",
            "2026-11-23",
            "--to",
            "2026-12-31",
            "--lang",
            "en",
            "-o",
            str(book),
        )
        == 0
    )
    sheet = load_workbook(book)["Ledger"]
    assert [c.value for c in sheet[1]][:2] == ["Number", "Category"]
    assert [sheet.cell(row=r, column=2).value for r in (2, 3)] == ["Work protection", "Work protection"]
    assert sheet.freeze_panes == "A2"

    assert run("export", "--config", str(config_path), "--from", "2026-12-01", "--to", "2026-11-01") == 2
    assert "is before" in capsys.readouterr().err
