"""Survey files (问卷): a coordinator's survey as TOML or JSON, checked whole.

Pure code: bytes in, a checked survey or every problem out (with its line). The TOML shape is

    [survey]
    id = "needs-2026"               # 1-24 lowercase letters, digits, '-' or '_'
    title_zh = "骑手需求调查"
    title_en = "Couriers' needs survey"
    intro_zh = "..."                # optional
    intro_en = "..."
    anonymous = true                # optional, true unless it says false

    [[questions]]
    kind = "single"                 # single, multiple, scale (1-5) or text
    text_zh = "..."
    text_en = "..."
    options_zh = ["...", "..."]     # single and multiple: 2-10 options, the same number in both languages
    options_en = ["...", "..."]
    optional = false                # optional: true offers Skip
    low_zh = "很不满意"               # scale, optional: what 1 and 5 mean
    low_en = "Very poor"
    high_zh = "很满意"
    high_en = "Very good"

and a JSON file is {"survey": {...}, "questions": [{...}, ...]} with the same fields. A file with a
top-level `survey` table is a survey file; the bot also takes any file named survey*.toml or survey*.json.
"""

from __future__ import annotations

import bisect
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from domain.answers_file import Format, format_of
from domain.file_fields import CONTROL, text_field, unknown_fields, utf16_len
from domain.stations_file import MAX_FILE_BYTES, FileLimitError, FileProblem, StationFileError, check_limits, decode

__all__ = [
    "KINDS",
    "Question",
    "Survey",
    "SurveyFileError",
    "FileProblem",
    "FileLimitError",
    "format_of",
    "is_survey_file",
    "read_survey",
]

SurveyFileError = StationFileError  # the same report: every problem with its line, nothing imported

Kind = Literal["single", "multiple", "scale", "text"]
KINDS: tuple[Kind, ...] = ("single", "multiple", "scale", "text")
SCALE = (1, 2, 3, 4, 5)
MAX_ID = 24
MAX_TITLE = 80
MAX_INTRO = 1500
MAX_QUESTION = 500
MAX_OPTION = 40  # an option is a button's label
MAX_SCALE_LABEL = 30
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTIONS = 30
_SURVEY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
SURVEY_FIELDS = ("id", "title_zh", "title_en", "intro_zh", "intro_en", "anonymous")
QUESTION_FIELDS = (
    "kind",
    "text_zh",
    "text_en",
    "options_zh",
    "options_en",
    "optional",
    "low_zh",
    "low_en",
    "high_zh",
    "high_en",
)


@dataclass(frozen=True)
class Question:
    """One question of a survey, checked."""

    kind: Kind
    text_zh: str
    text_en: str
    options_zh: tuple[str, ...] = ()
    options_en: tuple[str, ...] = ()
    optional: bool = False
    low_zh: str = ""
    low_en: str = ""
    high_zh: str = ""
    high_en: str = ""

    def text(self, lang: str) -> str:
        """The question in `lang` (Chinese unless English is asked)."""
        return self.text_en if lang == "en" else self.text_zh

    def options(self, lang: str) -> tuple[str, ...]:
        """The options' labels in `lang`; for a scale, 1 to 5."""
        if self.kind == "scale":
            return tuple(map(str, SCALE))
        return self.options_en if lang == "en" else self.options_zh

    def ends(self, lang: str) -> tuple[str, str]:
        """What 1 and 5 of a scale mean in `lang` ("" where the file does not say)."""
        return (self.low_en, self.high_en) if lang == "en" else (self.low_zh, self.high_zh)


@dataclass(frozen=True)
class Survey:
    """A survey as a file gives it, checked."""

    id: str
    title_zh: str
    title_en: str
    questions: tuple[Question, ...]
    intro_zh: str = ""
    intro_en: str = ""
    anonymous: bool = True

    def title(self, lang: str) -> str:
        """The title in `lang`."""
        return self.title_en if lang == "en" else self.title_zh

    def intro(self, lang: str) -> str:
        """The introduction in `lang` ("" if none)."""
        return self.intro_en if lang == "en" else self.intro_zh

    def to_json(self) -> str:
        """The survey as stored."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Survey:
        """A stored survey."""
        data = json.loads(text)
        questions = tuple(
            Question(**{k: tuple(v) if isinstance(v, list) else v for k, v in q.items()}) for q in data["questions"]
        )
        return cls(**{**data, "questions": questions})


def _options(raw: Mapping[str, Any], column: str, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    value = raw.get(column)
    if value is None:
        problems.append((column, f"is missing: a choice question has {MIN_OPTIONS}-{MAX_OPTIONS} options"))
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append((column, 'must be a list of texts, like ["是", "否"]'))
        return ()
    options = tuple(v.strip() for v in value)
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        problems.append((column, f"has {len(options)} options; a question has {MIN_OPTIONS}-{MAX_OPTIONS}"))
    long = [o for o in options if utf16_len(o) > MAX_OPTION]
    if long:
        problems.append((column, f"{long[0]!r}: an option is a button, at most {MAX_OPTION} characters"))
    if any(CONTROL.search(o) for o in options):
        problems.append((column, "an option must be one line of text"))
    if len(set(options)) != len(options):
        problems.append((column, "has the same option twice"))
    return options


def check_question(raw: Mapping[str, Any]) -> tuple[Question | None, list[tuple[str, str]]]:
    """Check one question given as fields; the question, or None and (field, reason) pairs."""
    problems = unknown_fields(raw, QUESTION_FIELDS, "a question")
    kind = raw.get("kind")
    if kind not in KINDS:
        problems.append(("kind", f"{kind!r} is not a kind of question; the kinds are {', '.join(KINDS)}"))
    texts = [
        text_field(raw, f"text_{lang}", problems, MAX_QUESTION, lines=True, required=True) for lang in ("zh", "en")
    ]
    options: list[tuple[str, ...]] = [(), ()]
    if kind not in KINDS:
        pass  # which fields fit which kind is said once the kind is right
    elif kind in ("single", "multiple"):
        options = [_options(raw, f"options_{lang}", problems) for lang in ("zh", "en")]
        if all(options) and len(options[0]) != len(options[1]):
            problems.append(("options_en", f"has {len(options[1])} options, options_zh {len(options[0])}"))
    else:
        problems += [
            (c, f"only a choice question has options, not a {kind} one")
            for c in ("options_zh", "options_en")
            if c in raw
        ]
    ends = ["", "", "", ""]
    for index, column in enumerate(("low_zh", "low_en", "high_zh", "high_en")):
        if column in raw and kind in KINDS and kind != "scale":
            problems.append((column, f"only a scale question says what 1 and 5 mean, not a {kind} one"))
        elif kind == "scale":
            ends[index] = text_field(raw, column, problems, MAX_SCALE_LABEL, lines=False, required=False)
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        problems.append(("optional", f"{optional!r} is not true or false"))
    if problems:
        return None, problems
    question = Question(kind, texts[0], texts[1], options[0], options[1], optional, *ends)  # type: ignore[arg-type]
    return question, []


def check_head(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The problems of a survey's own table (its questions aside)."""
    problems = unknown_fields(raw, SURVEY_FIELDS, "a survey")
    survey_id = raw.get("id")
    if not isinstance(survey_id, str) or not survey_id.strip():
        problems.append(("id", "is missing"))
    elif not _SURVEY_ID.match(survey_id.strip()):
        problems.append(("id", f"{survey_id!r}: use 1-{MAX_ID} lowercase letters, digits, '-' or '_'"))
    for lang in ("zh", "en"):
        text_field(raw, f"title_{lang}", problems, MAX_TITLE, lines=False, required=True)
        text_field(raw, f"intro_{lang}", problems, MAX_INTRO, lines=True, required=False)
    if bool(raw.get("intro_zh")) != bool(raw.get("intro_en")):
        problems.append(
            ("intro_en" if raw.get("intro_zh") else "intro_zh", "is missing: the intro is in both languages")
        )
    anonymous = raw.get("anonymous", True)
    if not isinstance(anonymous, bool):
        problems.append(("anonymous", f"{anonymous!r} is not true or false"))
    return problems


# ---------------------------------------------------------------------------------------------
# Where each table and field is, worked out only when a file has problems


class _TomlLines:
    """Line numbers of a TOML file's [survey] table, its [[questions]] tables and their keys."""

    _SURVEY = re.compile(r"^\s*\[\s*survey\s*\]\s*(#.*)?$")
    _QUESTION = re.compile(r"^\s*\[\[\s*questions\s*\]\]\s*(#.*)?$")
    _TABLE = re.compile(r"^\s*\[")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._head = next((n for n, line in enumerate(self._lines, 1) if self._SURVEY.match(line)), None)
        self._starts = [n for n, line in enumerate(self._lines, 1) if self._QUESTION.match(line)]

    def _key(self, start: int, column: str | None) -> int:
        for n in range(start + 1, len(self._lines) + 1):
            line = self._lines[n - 1]
            if self._TABLE.match(line):
                break
            match = self._KEY.match(line)
            if column and match and match.group(1) == column:
                return n
        return start

    def of(self, index: int | None, column: str | None = None) -> int | None:
        if index is None:
            return None if self._head is None else self._key(self._head, column)
        if index >= len(self._starts):
            return None
        return self._key(self._starts[index], column)


class _JsonLines:
    """Line numbers of a JSON file's survey object, its questions and their fields."""

    _WS = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str) -> None:
        from domain.stations_file import json_positions

        self._newlines = [m.start() for m in re.finditer("\n", text)]
        top, _ = json_positions(text, self._WS.match(text, 0).end(), json.JSONDecoder())
        top = top if isinstance(top, dict) else {}
        self._head = top.get("survey")
        questions = top.get("questions")
        self._questions = questions[1] if questions and isinstance(questions[1], list) else []

    def _line(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def of(self, index: int | None, column: str | None = None) -> int | None:
        node = self._head if index is None else (self._questions[index] if index < len(self._questions) else None)
        if node is None:
            return None
        offset, tree = node
        if column and isinstance(tree, dict) and column in tree:
            offset = tree[column][0]
        return self._line(offset)


# ---------------------------------------------------------------------------------------------
# Reading files


def _parse(text: str, fmt: Format) -> dict[str, Any]:
    if fmt == "toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            match = re.search(r"line (\d+)", str(error))
            raise SurveyFileError(
                [FileProblem(int(match.group(1)) if match else None, None, f"not valid TOML: {error}")]
            ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SurveyFileError(
            [FileProblem(error.lineno, None, f"not valid JSON: {error.msg} (character {error.colno})")]
        ) from None
    if not isinstance(data, dict):
        raise SurveyFileError(
            [FileProblem(1, None, 'the file must be a JSON object: {"survey": {...}, "questions": [...]}')]
        )
    return data


_SURVEY_TABLE = re.compile(rb"^[ \t]*\[[ \t]*survey[ \t]*\][ \t]*(#.*)?\r?$", re.MULTILINE)


def is_survey_file(data: bytes, fmt: Format) -> bool:
    """Whether a TOML file has a top-level [survey] table, or a JSON file a top-level "survey" object.

    A scan of the bytes first: a large station or answer file is not parsed here on the event loop."""
    if fmt == "toml":
        return _SURVEY_TABLE.search(data) is not None
    if b'"survey"' not in data:
        return False
    try:
        parsed = json.loads(check_limits(data, "json"))
    except (StationFileError, ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("survey"), dict)


def read_survey(data: bytes, fmt: Format) -> Survey:
    """The survey of a TOML or JSON file's bytes; SurveyFileError lists every problem with its line, else
    nothing is wrong (so an import is all or nothing)."""
    if fmt == "json":
        text = check_limits(data, "json")
    elif len(data) > MAX_FILE_BYTES:
        raise FileLimitError("bytes", MAX_FILE_BYTES, len(data))
    else:
        text = decode(data)
    top = _parse(text, fmt)
    found: list[tuple[int | None, str | None, str]] = []
    for key in top:
        if key not in ("survey", "questions"):
            found.append((None, key, "is not part of a survey file: it has a survey table and questions"))
    head = top.get("survey")
    if not isinstance(head, dict):
        found.append((None, "survey", "is missing: the file starts with a [survey] table (id, title_zh, title_en)"))
        head = {}
    else:
        found += [(None, column, f"survey: {reason}") for column, reason in check_head(head)]
    raws = top.get("questions")
    questions: list[Question] = []
    if not isinstance(raws, list) or not raws:
        found.append((None, "questions", "are missing: the survey has [[questions]] tables, each with kind and texts"))
        raws = []
    elif len(raws) > MAX_QUESTIONS:
        found.append((None, "questions", f"the survey has {len(raws)} questions; at most {MAX_QUESTIONS}"))
    for index, raw in enumerate(raws):
        if not isinstance(raw, dict):
            found.append((index, None, f"question {index + 1}: must be a table with kind and texts"))
            continue
        question, problems = check_question(raw)
        found += [(index, column, f"question {index + 1}: {reason}") for column, reason in problems]
        if question is not None:
            questions.append(question)
    if found:
        lines = _TomlLines(text) if fmt == "toml" else _JsonLines(text)
        problems = [FileProblem(lines.of(index, column), column, reason) for index, column, reason in found]
        raise SurveyFileError(sorted(problems, key=lambda p: p.line or 0))
    return Survey(
        id=head["id"].strip(),
        title_zh=head["title_zh"].strip(),
        title_en=head["title_en"].strip(),
        questions=tuple(questions),
        intro_zh=(head.get("intro_zh") or "").strip(),
        intro_en=(head.get("intro_en") or "").strip(),
        anonymous=head.get("anonymous", True),
    )
