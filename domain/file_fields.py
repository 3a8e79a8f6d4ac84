"""The text fields of the files coordinators send (answers, surveys, activities): one check for each kind."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def text_field(
    raw: Mapping[str, Any],
    column: str,
    problems: list[tuple[str, str]],
    limit: int,
    *,
    lines: bool,
    required: bool = True,
) -> str:
    """The text in `column`, trimmed ("" when absent); what is wrong with it goes to `problems`: missing when
    `required`, not text, over `limit` UTF-16 units, or control characters (line breaks only where `lines`)."""
    value = raw.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append((column, "is missing"))
        return ""
    if not isinstance(value, str):
        problems.append((column, "must be text"))
        return ""
    value = value.strip()
    if utf16_len(value) > limit:
        problems.append((column, f"is {utf16_len(value)} characters long; at most {limit}"))
    elif (CONTROL_BUT_NEWLINE if lines else CONTROL).search(value):
        problems.append((column, "has control characters" if lines else "must be one line of text"))
    return value


def unknown_fields(raw: Mapping[str, Any], fields: Collection[str], what: str) -> list[tuple[str, str]]:
    """A (field, reason) pair for each key of `raw` that is not one of `fields` ("is not a `what` field")."""
    listed = ", ".join(fields)
    return [(key, f"is not {what} field; the fields are {listed}") for key in raw if key not in fields]
