"""`python -m bot activities import|export`: a real file, a real database, the files the export writes."""

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = ROOT / "sandbox" / "district"


@pytest.fixture
def district(tmp_path, monkeypatch) -> Path:
    """The sandbox district's config, with the database in a temporary folder."""
    monkeypatch.setenv("APPEALS_BOT_DATABASE", str(tmp_path / "district.sqlite3"))
    monkeypatch.delenv("APPEALS_BOT_CONFIG", raising=False)
    return DISTRICT / "config.toml"


def test_a_file_publishes_and_the_export_has_both_tables(district, tmp_path, capsys) -> None:
    clinic = {"title": "=Free clinic", "starts": "2030-06-03 09:00", "address": "5 Jiangsu Road", "places": 40}
    path = tmp_path / "activities.json"
    path.write_text(json.dumps({"activities": [clinic]}), encoding="utf-8")
    assert main(["activities", "--config", str(district), "import", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: 1 activities published"

    book = tmp_path / "activities.xlsx"
    assert main(["activities", "--config", str(district), "export", "--lang", "en", "-o", str(book)]) == 0
    assert capsys.readouterr().err == f"1 activities, 0 sign-ups written to {book} (xlsx)\n"
    sheets = load_workbook(io.BytesIO(book.read_bytes()))
    assert sheets.sheetnames == ["Activities", "Attendance"]
    row = next(sheets["Activities"].iter_rows(min_row=2, values_only=True))
    assert row[1:5] == ("=Free clinic", row[2], "5 Jiangsu Road", 40) and sheets["Activities"]["B2"].data_type == "s"
    table = tmp_path / "activities.csv"
    assert main(["activities", "--config", str(district), "export", "--table", "activities", "-o", str(table)]) == 0
    assert "'=Free clinic" in table.read_text(encoding="utf-8-sig")


def test_the_export_names_each_activity_in_the_readers_language(district, tmp_path) -> None:
    clinic = {
        "title": "免费义诊",
        "title_en": "Free clinic",
        "starts": "2030-06-03 09:00",
        "address": "江苏路5号",
        "address_en": "5 Jiangsu Road",
        "places": 40,
    }
    path = tmp_path / "activities.json"
    path.write_text(json.dumps({"activities": [clinic]}, ensure_ascii=False), encoding="utf-8")
    assert main(["activities", "--config", str(district), "import", str(path)]) == 0
    for lang, title, place in (("en", "Free clinic", "5 Jiangsu Road"), ("zh", "免费义诊", "江苏路5号")):
        book = tmp_path / f"activities-{lang}.xlsx"
        assert main(["activities", "--config", str(district), "export", "--lang", lang, "-o", str(book)]) == 0
        sheet = load_workbook(io.BytesIO(book.read_bytes())).worksheets[0]
        row = next(sheet.iter_rows(min_row=2, values_only=True))
        assert (row[1], row[3]) == (title, place)


def test_a_file_with_problems_publishes_nothing(district, tmp_path, capsys) -> None:
    path = tmp_path / "activities.toml"
    path.write_text('[[activities]]\ntitle = "x"\nstarts = "2020-01-01 09:00"\nplaces = 0\n', encoding="utf-8")
    assert main(["activities", "--config", str(district), "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "3 problem(s); nothing was imported" in err and "activity 1: starts: is in the past" in err
    out = tmp_path / "a.csv"
    assert main(["activities", "--config", str(district), "export", "--table", "activities", "-o", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8-sig").strip().splitlines()) == 1  # the header alone
