"""Survey files: every problem with its line, in TOML and JSON; nothing returned when any is wrong."""

import json
from pathlib import Path

import pytest

from domain.stations_file import MAX_FILE_BYTES
from domain.surveys_file import (
    MAX_OPTIONS,
    FileLimitError,
    Survey,
    SurveyFileError,
    is_survey_file,
    read_survey,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sandbox" / "district" / "survey-needs.toml"

GOOD = {
    "survey": {"id": "quick", "title_zh": "快速调查", "title_en": "Quick survey"},
    "questions": [
        {
            "kind": "single",
            "text_zh": "好吗？",
            "text_en": "All right?",
            "options_zh": ["好", "不好"],
            "options_en": ["Yes", "No"],
        },
        {"kind": "text", "text_zh": "说说看", "text_en": "Tell us", "optional": True},
    ],
}


def problems(data: bytes, fmt: str) -> list[str]:
    with pytest.raises(SurveyFileError) as caught:
        read_survey(data, fmt)
    return [str(p) for p in caught.value.problems]


def test_the_sample_needs_survey_reads_and_round_trips() -> None:
    survey = read_survey(SAMPLE.read_bytes(), "toml")
    assert survey.id == "needs-2026" and survey.anonymous
    assert [q.kind for q in survey.questions] == [
        "single",
        "single",
        "multiple",
        "multiple",
        "scale",
        "single",
        "single",
        "text",
    ]
    assert all(q.text_zh and q.text_en for q in survey.questions)
    assert Survey.from_json(survey.to_json()) == survey
    assert is_survey_file(SAMPLE.read_bytes(), "toml")


def test_a_json_survey_reads_and_is_anonymous_unless_it_says_not() -> None:
    survey = read_survey(json.dumps(GOOD, ensure_ascii=False).encode(), "json")
    assert survey.anonymous and survey.questions[1].optional and survey.questions[0].options("en") == ("Yes", "No")
    named = {**GOOD, "survey": {**GOOD["survey"], "anonymous": False}}
    assert read_survey(json.dumps(named).encode(), "json").anonymous is False


def test_json_problems_are_listed_with_their_lines() -> None:
    bad = {
        "survey": {"id": "Bad Id", "title_zh": "调查", "colour": "red"},
        "questions": [
            {
                "kind": "single",
                "text_zh": "好吗？",
                "text_en": "All right?",
                "options_zh": ["好"],
                "options_en": ["Yes"],
            },
            {"kind": "scale", "text_zh": "打分", "text_en": "Score", "options_zh": ["a", "b"]},
            "not a question",
        ],
    }
    found = problems(json.dumps(bad, ensure_ascii=False, indent=1).encode(), "json")
    assert "line 3, column id: survey: 'Bad Id': use 1-24 lowercase letters, digits, '-' or '_'" in found
    assert any(p.startswith("line 5, column colour: survey: is not a survey field") for p in found)
    assert any(p.startswith("line 2, column title_en: survey: is missing") for p in found)
    assert any("column options_zh: question 1: has 1 options; a question has 2-10" in p for p in found)
    assert any("column options_zh: question 2: only a choice question has options, not a scale one" in p for p in found)
    assert any(p.endswith("question 3: must be a table with kind and texts") for p in found)


def test_toml_problems_name_their_lines_and_the_file_shape() -> None:
    text = """[survey]
id = "x"
title_zh = "调查"
title_en = "Survey"
intro_zh = "只有中文"

[[questions]]
kind = "multiple"
text_zh = "选哪些？"
text_en = ""
options_zh = ["甲", "乙", "甲"]
options_en = ["A", "B", "C"]
"""
    found = problems(text.encode(), "toml")
    assert "line 1, column intro_en: survey: is missing: the intro is in both languages" in found
    assert "line 10, column text_en: question 1: is missing" in found
    assert "line 11, column options_zh: question 1: has the same option twice" in found
    assert problems(b"[survey]\nid = \n", "toml")[0].startswith("line 2: not valid TOML")
    assert any(
        "questions: are missing" in p for p in problems(b'[survey]\nid = "x"\ntitle_zh = "a"\ntitle_en = "b"\n', "toml")
    )


def test_too_many_options_and_a_long_option_are_refused() -> None:
    question = {**GOOD["questions"][0], "options_zh": [f"选项{i}" for i in range(MAX_OPTIONS + 1)]}
    question["options_en"] = [f"Option {i}" for i in range(MAX_OPTIONS)] + ["x" * 41]
    found = problems(json.dumps({**GOOD, "questions": [question]}).encode(), "json")
    assert any(f"has {MAX_OPTIONS + 1} options" in p for p in found)
    assert any("an option is a button, at most 40 characters" in p for p in found)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(FileLimitError):
        read_survey(b"#" * (MAX_FILE_BYTES + 1), "toml")


def test_only_a_top_level_survey_table_makes_a_survey_file() -> None:
    assert not is_survey_file(b'[[answers]]\nid = "a"\n', "toml")
    assert not is_survey_file(b'{"stations": []}', "json")
    assert not is_survey_file(b"not toml [", "toml")
    assert is_survey_file(json.dumps(GOOD).encode(), "json")
