"""Names from the domain's enums as SQL literals, built once at import: statements name states, events
and outcomes only through their enums, and a literal IN list keeps SQLite on its indexes."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


def literal(value: StrEnum) -> str:
    """One enum value as a quoted SQL string (enum values are plain names: nothing to escape)."""
    if not value.value.replace("_", "").isalnum():
        raise ValueError(f"not a plain name: {value.value!r}")
    return f"'{value.value}'"


def literals(values: Iterable[StrEnum]) -> str:
    """Enum values as the inside of an SQL IN list, sorted: "'a', 'b'"."""
    return ", ".join(sorted(literal(v) for v in values))
