"""`python -m bot answers import|export`: the sample knowledge base, real files, a real database."""

import asyncio
from pathlib import Path

import pytest

from bot.app import open_storage
from bot.cli import main
from bot.config import load_config
from domain.answers_file import read_answers

ROOT = Path(__file__).resolve().parents[1]
DISTRICT = ROOT / "sandbox" / "district"
CATEGORIES = ("work", "life", "rights", "facilities", "suggestion")


@pytest.fixture
def district(tmp_path, monkeypatch) -> Path:
    """The sandbox district's config, with the database in a temporary folder."""
    monkeypatch.setenv("APPEALS_BOT_DATABASE", str(tmp_path / "district.sqlite3"))
    monkeypatch.delenv("APPEALS_BOT_CONFIG", raising=False)
    return DISTRICT / "config.toml"


def answer_ids(config_path: Path) -> list[str]:
    async def read() -> list[str]:
        from bot.app import utc_now

        storage = await open_storage(load_config(config_path), utc_now())
        try:
            return [a.id for a in await storage.answers.all()]
        finally:
            await storage.close()

    return asyncio.run(read())


def test_the_sample_answers_import_export_and_import_again(district, tmp_path, capsys) -> None:
    sample = DISTRICT / "answers.toml"
    assert main(["answers", "--config", str(district), "import", str(sample)]) == 0
    assert capsys.readouterr().out.strip() == f"{sample}: 12 answers imported (12 new, 0 updated)"
    exported = tmp_path / "answers.toml"
    assert main(["answers", "--config", str(district), "export", "-o", str(exported)]) == 0
    assert capsys.readouterr().err == f"12 answers written to {exported} (toml)\n"
    assert main(["answers", "--config", str(district), "import", str(exported)]) == 0
    assert "12 answers imported (0 new, 12 updated)" in capsys.readouterr().out
    again = {r.id: r for r in read_answers(exported.read_bytes(), "toml", CATEGORIES)}
    for record in read_answers(sample.read_bytes(), "toml", CATEGORIES):
        assert again[record.id].text_zh == record.text_zh and again[record.id].keywords == record.keywords
        assert again[record.id].active is True


def test_a_file_with_problems_imports_nothing_and_lists_each_with_its_line(district, tmp_path, capsys) -> None:
    bad = tmp_path / "answers.json"
    bad.write_text(
        '{"answers": [\n'
        ' {"id": "ok", "category": "work", "title_zh": "甲", "title_en": "A", "text_zh": "乙", "text_en": "B"},\n'
        ' {"id": "Bad Id", "category": "work", "title_zh": "甲", "title_en": "A", "text_zh": "乙", "text_en": "B"},\n'
        ' {"id": "ok", "category": "food", "title_zh": "甲", "title_en": "A", "text_zh": "乙", "text_en": "B"}\n'
        "]}\n",
        encoding="utf-8",
    )
    assert main(["answers", "--config", str(district), "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: 3 problem(s); nothing was imported" in err
    assert "line 3, column id: answer 2: 'Bad Id': use 1-24 lowercase letters" in err
    assert "line 4, column category: answer 3: no category has the id 'food'" in err
    assert "line 4, column id: 'ok' is also answer 1 (line 2)" in err
    assert answer_ids(district) == []
