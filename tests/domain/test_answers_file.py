"""Answer files (知识库): every problem listed with its line, nothing returned when any is wrong; both formats."""

import json

import pytest

from domain.answers_file import (
    MAX_TEXT,
    MAX_TITLE,
    AnswerFileError,
    AnswerRecord,
    FileLimitError,
    read_answers,
    to_toml,
)
from domain.stations_file import MAX_FILE_BYTES

CATEGORIES = ("work", "life", "rights", "facilities", "suggestion")
GOOD = {
    "id": "wage",
    "category": "work",
    "title_zh": "欠薪",
    "title_en": "Wages",
    "text_zh": "找人社局",
    "text_en": "Go",
}


def toml(*answers: dict) -> bytes:
    lines = []
    for answer in answers:
        lines.append("[[answers]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in answer.items()]
        lines.append("")
    return "\n".join(lines).encode()


def problems(data: bytes, fmt: str = "toml") -> list[str]:
    with pytest.raises(AnswerFileError) as error:
        read_answers(data, fmt, CATEGORIES)
    return [str(p) for p in error.value.problems]


def test_a_good_file_reads_in_both_formats_with_keywords_folded_and_once() -> None:
    answer = {**GOOD, "keywords": ["欠薪", "Wage", "wage", " 工资 "]}
    from_toml = read_answers(toml(answer), "toml", CATEGORIES)
    from_json = read_answers(json.dumps({"answers": [answer]}).encode(), "json", CATEGORIES)
    expected = AnswerRecord("wage", "work", "欠薪", "Wages", "找人社局", "Go", ("欠薪", "wage", "工资"))
    assert from_toml == from_json == [expected]


def test_every_problem_of_a_toml_file_is_listed_with_its_line() -> None:
    data = toml(
        GOOD,
        {**GOOD, "id": "Wage Two", "category": "food"},
        {**GOOD, "id": "wage", "title_en": "x" * (MAX_TITLE + 1), "colour": "red", "keywords": ["a"]},
        {k: v for k, v in GOOD.items() if k != "text_zh"} | {"id": "short"},
    )
    assert problems(data) == [
        "line 10, column id: answer 2: 'Wage Two': use 1-24 lowercase letters, digits, '-' or '_'",
        "line 11, column category: answer 2: no category has the id 'food'; the categories are"
        " facilities, life, rights, suggestion, work",
        "line 18, column id: 'wage' is also answer 1 (line 2)",
        f"line 21, column title_en: answer 3: is {MAX_TITLE + 1} characters long; at most {MAX_TITLE}",
        "line 24, column colour: answer 3: is not an answer field; the fields are id, category, keywords,"
        " title_zh, title_en, text_zh, text_en, active",
        "line 25, column keywords: answer 3: 'a': a keyword has at least 2 characters",
        # A missing field: at its answer's [[answers]] line.
        "line 27, column text_zh: answer 4: is missing",
    ]


def test_a_json_file_says_where_too_and_a_text_is_capped_in_telegrams_units() -> None:
    long = {**GOOD, "text_en": "😀" * (MAX_TEXT // 2 + 1)}  # each emoji is two UTF-16 units
    data = json.dumps({"answers": [GOOD, long]}, indent=1, ensure_ascii=False).encode()
    assert problems(data, "json") == [
        "line 12, column id: 'wage' is also answer 1 (line 4)",
        f"line 17, column text_en: answer 2: is {MAX_TEXT + 2} characters long; at most {MAX_TEXT}",
    ]


@pytest.mark.parametrize(
    ("data", "fmt", "expected"),
    [
        (b"[[answers]\nid = 1", "toml", "not valid TOML"),
        (b"{", "json", "not valid JSON"),
        (b'{"stations": []}', "json", 'an "answers" list'),
        (b"title = 'no answers'", "toml", "[[answers]] tables"),
        (b"\xff\xfe", "toml", "is not UTF-8 text"),
    ],
)
def test_a_file_that_is_not_an_answer_file_says_why(data, fmt, expected) -> None:
    (problem,) = problems(data, fmt)
    assert expected in problem


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(FileLimitError):
        read_answers(b" " * (MAX_FILE_BYTES + 1), "toml", CATEGORIES)


def test_texts_keep_their_line_breaks_and_the_toml_writer_round_trips() -> None:
    record = AnswerRecord("x", "life", "标题", "Title", "第一行\n第二行“引号”\\", 'Line one\n"two"', ("驿站",), False)
    assert read_answers(to_toml([record]).encode(), "toml", CATEGORIES) == [record]
