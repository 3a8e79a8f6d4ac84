"""`python -m bot surveys import`: the sample needs survey, a refused file, a real database."""

import asyncio
from pathlib import Path

import pytest

from bot.app import open_storage, utc_now
from bot.cli import main
from bot.config import load_config

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = ROOT / "sandbox" / "district"


@pytest.fixture
def district(tmp_path, monkeypatch) -> Path:
    """The sandbox district's config, with the database in a temporary folder."""
    monkeypatch.setenv("APPEALS_BOT_DATABASE", str(tmp_path / "district.sqlite3"))
    monkeypatch.delenv("APPEALS_BOT_CONFIG", raising=False)
    return DISTRICT / "config.toml"


def stored(config_path: Path) -> list[tuple[str, str]]:
    async def read() -> list[tuple[str, str]]:
        storage = await open_storage(load_config(config_path), utc_now())
        try:
            return [(s.survey.id, s.state) for s in await storage.surveys.all()]
        finally:
            await storage.close()

    return asyncio.run(read())


def test_the_sample_survey_imports_as_a_draft_and_again_replaces_it(district, capsys) -> None:
    sample = DISTRICT / "survey-needs.toml"
    assert main(["surveys", "--config", str(district), "import", str(sample)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"{sample}: survey 'needs-2026' with 8 questions added; preview and open it with /surveys"
    )
    assert main(["surveys", "--config", str(district), "import", str(sample)]) == 0
    assert "replaced the draft" in capsys.readouterr().out
    assert stored(district) == [("needs-2026", "draft")]


def test_a_file_with_problems_imports_nothing(district, tmp_path, capsys) -> None:
    bad = tmp_path / "survey.json"
    bad.write_text('{"survey": {"id": "x", "title_zh": "甲"},\n "questions": []}\n', encoding="utf-8")
    assert main(["surveys", "--config", str(district), "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: 2 problem(s); nothing was imported" in err
    assert "line 1, column title_en: survey: is missing" in err
    assert stored(district) == []
