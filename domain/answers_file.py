"""Answer files: the knowledge base of short answers (知识库) as TOML or JSON, checked whole.

Pure code: bytes in, records or every problem out (with its line). The TOML shape is

    [[answers]]
    id = "wage-arrears"             # 1-24 lowercase letters, digits, '-' or '_'
    category = "work"               # a category id of the config
    keywords = ["欠薪", "工资", "wage", "unpaid"]
    title_zh = "被拖欠工资，去哪里投诉"
    title_en = "Unpaid wages: where to complain"
    text_zh = "..."
    text_en = "..."
    active = true                   # optional: false withdraws an answer; left out, a new one is shown

and a JSON file is {"answers": [{...}, ...]} with the same fields. Every answer has both languages.
Answers are imported by id like stations: a file's answer replaces the stored one with its id, and
answers the file does not name stay as they are (`active = false` withdraws one).
"""

from __future__ import annotations

import bisect
import json
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from domain.file_fields import CONTROL, text_field, unknown_fields, utf16_len
from domain.stations_file import (
    MAX_FILE_BYTES,
    FileLimitError,
    FileProblem,
    StationFileError,
    check_limits,
    decode,
    json_positions,
)

Format = Literal["toml", "json"]

# A card shows up to three answers with a line above them and two numbers: each answer's title and
# text within these caps keep it under Telegram's 4,096 UTF-16 units (tests/handlers/test_answers.py).
SHOWN = 3
MAX_TITLE = 80
MAX_TEXT = 1100
MAX_KEYWORDS = 30
MAX_KEYWORD = 20
MAX_ID = 24  # with the draft's start it travels in callback data (64 bytes at most)
MAX_ANSWERS = 20_000
_ANSWER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
# One-line fields refuse every control character; texts keep their line breaks.
FIELDS = ("id", "category", "keywords", "title_zh", "title_en", "text_zh", "text_en", "active")
REQUIRED = ("id", "category", "title_zh", "title_en", "text_zh", "text_en")

__all__ = [
    "AnswerRecord",
    "FileProblem",
    "AnswerFileError",
    "FileLimitError",
    "Format",
    "read_answers",
    "format_of",
    "utf16_len",
    "to_toml",
]

AnswerFileError = StationFileError  # the same report: every problem with its line, nothing imported


@dataclass(frozen=True)
class AnswerRecord:
    """One answer as a file gives it, checked."""

    id: str
    category: str
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    keywords: tuple[str, ...] = ()
    active: bool | None = None  # None: a new answer is shown, an existing one stays as it is

    def title(self, lang: str) -> str:
        """The title in `lang` (Chinese unless English is asked)."""
        return self.title_en if lang == "en" else self.title_zh

    def text(self, lang: str) -> str:
        """The text in `lang` (Chinese unless English is asked)."""
        return self.text_en if lang == "en" else self.text_zh


def format_of(file_name: str) -> Format | None:
    """The format a file name says (.toml or .json), or None."""
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    return suffix if suffix in ("toml", "json") else None  # type: ignore[return-value]


def _keywords(value: Any, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        problems.append(("keywords", 'must be a list of words, like ["欠薪", "wage"]'))
        return ()
    words = [k.strip().casefold() for k in value if k.strip()]
    if len(words) > MAX_KEYWORDS:
        problems.append(("keywords", f"has {len(words)} words; at most {MAX_KEYWORDS}"))
    short = [w for w in words if len(w) < 2]
    if short:
        problems.append(("keywords", f"{', '.join(map(repr, short))}: a keyword has at least 2 characters"))
    long = [w for w in words if len(w) > MAX_KEYWORD]
    if long:
        problems.append(("keywords", f"{', '.join(map(repr, long))}: a keyword has at most {MAX_KEYWORD} characters"))
    if any(CONTROL.search(w) for w in words):
        problems.append(("keywords", "a keyword must be one line of text"))
    return tuple(dict.fromkeys(words))


def check_answer(
    raw: Mapping[str, Any], categories: Collection[str]
) -> tuple[AnswerRecord | None, list[tuple[str, str]]]:
    """Check one answer given as fields; the record, or None and (field, reason) pairs."""
    problems = unknown_fields(raw, FIELDS, "an answer")
    answer_id = raw.get("id")
    if not isinstance(answer_id, str) or not answer_id.strip():
        problems.append(("id", "is missing"))
        answer_id = ""
    elif not _ANSWER_ID.match(answer_id.strip()):
        problems.append(("id", f"{answer_id!r}: use 1-{MAX_ID} lowercase letters, digits, '-' or '_'"))
    category = raw.get("category")
    if not isinstance(category, str) or not category.strip():
        problems.append(("category", "is missing"))
        category = ""
    elif category.strip() not in categories:
        problems.append(
            ("category", f"no category has the id {category!r}; the categories are {', '.join(sorted(categories))}")
        )
    titles = [text_field(raw, f"title_{lang}", problems, MAX_TITLE, lines=False) for lang in ("zh", "en")]
    texts = [text_field(raw, f"text_{lang}", problems, MAX_TEXT, lines=True) for lang in ("zh", "en")]
    keywords = _keywords(raw.get("keywords"), problems)
    active = raw.get("active")
    if active is not None and not isinstance(active, bool):
        problems.append(("active", f"{active!r} is not true or false"))
    if problems:
        return None, problems
    record = AnswerRecord(
        answer_id.strip(), category.strip(), titles[0], titles[1], texts[0], texts[1], keywords, active
    )
    return record, []


# ---------------------------------------------------------------------------------------------
# Where each answer and field is, worked out only when a file has problems


class _TomlLines:
    """Line numbers of a TOML file's [[answers]] tables and their keys, by a plain scan of its lines."""

    _HEADER = re.compile(r"^\s*\[\[\s*answers\s*\]\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._starts = [n for n, line in enumerate(self._lines, 1) if self._HEADER.match(line)]

    def of(self, index: int | None, column: str | None = None) -> int | None:
        if index is None or index >= len(self._starts):
            return None
        start = self._starts[index]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else len(self._lines) + 1
        if column:
            for n in range(start + 1, end):
                match = self._KEY.match(self._lines[n - 1])
                if match and match.group(1) == column:
                    return n
        return start


class _JsonLines:
    """Line numbers of a JSON file's answers and their fields."""

    _WS = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str) -> None:
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        top, _ = json_positions(text, self._WS.match(text, 0).end(), json.JSONDecoder())
        answers = top.get("answers") if isinstance(top, dict) else None
        self._answers = answers[1] if answers and isinstance(answers[1], list) else []

    def of(self, index: int | None, column: str | None = None) -> int | None:
        if index is None or index >= len(self._answers):
            return None
        offset, tree = self._answers[index]
        if column and isinstance(tree, dict) and column in tree:
            offset = tree[column][0]
        return bisect.bisect_left(self._newlines, offset) + 1


# ---------------------------------------------------------------------------------------------
# Reading files


def _parse(text: str, fmt: Format) -> list[Any]:
    """The file's list of answers (not yet checked), or AnswerFileError."""
    if fmt == "toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            match = re.search(r"line (\d+)", str(error))
            raise AnswerFileError(
                [FileProblem(int(match.group(1)) if match else None, None, f"not valid TOML: {error}")]
            ) from None
        shape = "the file must have [[answers]] tables, each with id, category, title_zh, title_en, text_zh, text_en"
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise AnswerFileError(
                [FileProblem(error.lineno, None, f"not valid JSON: {error.msg} (character {error.colno})")]
            ) from None
        shape = 'the file must be a JSON object with an "answers" list: {"answers": [{"id": ...}, ...]}'
    if not isinstance(data, dict) or not isinstance(data.get("answers"), list) or not data["answers"]:
        raise AnswerFileError([FileProblem(1, "answers", shape)])
    if len(data["answers"]) > MAX_ANSWERS:
        raise FileLimitError("rows", MAX_ANSWERS, len(data["answers"]))
    return data["answers"]


def read_answers(data: bytes, fmt: Format, categories: Collection[str]) -> list[AnswerRecord]:
    """Every answer of a TOML or JSON file's bytes; AnswerFileError lists every problem with its line, else
    nothing is wrong (so an import is all or nothing). CPU work for a large file: run it off the event loop."""
    # The size limit of station files, and for JSON their nesting limit, hold here too.
    if fmt == "json":
        text = check_limits(data, "json")
    elif len(data) > MAX_FILE_BYTES:
        raise FileLimitError("bytes", MAX_FILE_BYTES, len(data))
    else:
        text = decode(data)
    raws = _parse(text, fmt)
    found: list[tuple[int, str | None, str]] = []
    records: list[tuple[int, AnswerRecord]] = []
    for index, raw in enumerate(raws):
        if not isinstance(raw, dict):
            found.append((index, None, "each answer must be a table with id, category, titles and texts"))
            continue
        record, problems = check_answer(raw, categories)
        found += [(index, column, reason) for column, reason in problems]
        if record is not None:
            records.append((index, record))
    # Every id given twice is reported, whether or not its answers have other problems.
    seen: dict[str, int] = {}
    duplicates = []
    for index, raw in enumerate(raws):
        answer_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(answer_id, str) or not answer_id.strip():
            continue
        if answer_id.strip() in seen:
            duplicates.append((index, seen[answer_id.strip()], answer_id.strip()))
        seen.setdefault(answer_id.strip(), index)
    if not found and not duplicates:
        return [record for _, record in records]
    lines = _TomlLines(text) if fmt == "toml" else _JsonLines(text)
    problems = [
        FileProblem(lines.of(index, column), column, f"answer {index + 1}: {reason}") for index, column, reason in found
    ]
    problems += [
        FileProblem(
            lines.of(index, "id"), "id", f"{answer_id!r} is also answer {first + 1} (line {lines.of(first, 'id')})"
        )
        for index, first, answer_id in duplicates
    ]
    raise AnswerFileError(sorted(problems, key=lambda p: p.line or 0))


def _toml_string(value: str) -> str:
    """A TOML basic string (json's escapes are TOML's, for the characters a checked text may hold)."""
    return json.dumps(value, ensure_ascii=False)


def to_toml(records: list[AnswerRecord]) -> str:
    """Answers as the TOML file the importer reads."""
    out = []
    for r in records:
        out += [
            "[[answers]]",
            f"id = {_toml_string(r.id)}",
            f"category = {_toml_string(r.category)}",
            "keywords = [" + ", ".join(map(_toml_string, r.keywords)) + "]",
            f"title_zh = {_toml_string(r.title_zh)}",
            f"title_en = {_toml_string(r.title_en)}",
            f"text_zh = {_toml_string(r.text_zh)}",
            f"text_en = {_toml_string(r.text_en)}",
            f"active = {'false' if r.active is False else 'true'}",
            "",
        ]
    return "\n".join(out)
