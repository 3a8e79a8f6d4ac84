"""Deadline lengths as written in the config file ("30m", "4h", "3wd", "eod"), and spans as people read them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from domain.calendar import WorkingCalendar

__all__ = ["MAX_MINUTES", "MAX_WORKING_DAYS", "HumanSpan", "WorkSpan", "human_span", "parse_span"]

MAX_MINUTES = 100_000
MAX_WORKING_DAYS = 365

_ACCEPTED = (
    '"<n>m" (minutes of working time), "<n>h" (hours of working time), '
    '"<n>wd" (working days) or "eod" (end of the working day), with n a positive whole number'
)
_PATTERN = re.compile(r"([0-9]+)(m|h|wd)")

SpanKind = Literal["minutes", "working_days", "end_of_day"]


@dataclass(frozen=True)
class WorkSpan:
    """A deadline length counted in working time."""

    kind: SpanKind
    amount: int

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValueError(f"amount must be an int, got {self.amount!r}")
        if self.kind == "minutes":
            if not 1 <= self.amount <= MAX_MINUTES:
                raise ValueError(f"minutes must be between 1 and {MAX_MINUTES}, got {self.amount}")
        elif self.kind == "working_days":
            if not 1 <= self.amount <= MAX_WORKING_DAYS:
                raise ValueError(f"working days must be between 1 and {MAX_WORKING_DAYS}, got {self.amount}")
        elif self.kind == "end_of_day":
            if self.amount != 0:
                raise ValueError(f"end_of_day takes amount 0, got {self.amount}")
        else:
            raise ValueError(f"unknown kind {self.kind!r}; expected minutes, working_days or end_of_day")

    def due_from(self, calendar: WorkingCalendar, start: datetime) -> datetime:
        """The deadline for something that arrived at start."""
        if self.kind == "minutes":
            return calendar.add(start, timedelta(minutes=self.amount))
        if self.kind == "working_days":
            return calendar.add_working_days(start, self.amount)
        return calendar.end_of_working_day(start)

    def __str__(self) -> str:
        """The canonical config text: "30m", "4h", "3wd" or "eod"."""
        if self.kind == "end_of_day":
            return "eod"
        if self.kind == "working_days":
            return f"{self.amount}wd"
        if self.amount % 60 == 0:
            return f"{self.amount // 60}h"
        return f"{self.amount}m"


def parse_span(text: str) -> WorkSpan:
    """Parse a deadline length such as "30m", "4h", "3wd" or "eod"."""
    # ValueError rather than TypeError for a non-string, so that config
    # validators (pydantic among them) report it like any other bad value.
    if not isinstance(text, str):
        raise ValueError(f"deadline {_shown(text)} is not a text; expected {_ACCEPTED}")
    stripped = text.strip()
    if stripped == "eod":
        return WorkSpan("end_of_day", 0)
    match = _PATTERN.fullmatch(stripped)
    if match is None:
        raise ValueError(f"deadline {_shown(text)} is not understood; expected {_ACCEPTED}")
    digits, unit = match.groups()
    kind: SpanKind = "working_days" if unit == "wd" else "minutes"
    limit = MAX_WORKING_DAYS if kind == "working_days" else MAX_MINUTES
    # Very long digit strings are out of range anyway; int() would refuse some of them.
    number = int(digits) if len(digits.lstrip("0")) <= len(str(limit)) else limit + 1
    amount = number * 60 if unit == "h" else number
    if not 1 <= amount <= limit:
        bound = f"{limit}wd" if kind == "working_days" else f"{limit}m ({limit // 60}h)"
        raise ValueError(f"deadline {_shown(text)} is out of range; it must be more than zero and at most {bound}")
    return WorkSpan(kind, amount)


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


@dataclass(frozen=True)
class HumanSpan:
    """A span rounded the way people say it: days and hours when a day or longer, else hours and minutes."""

    days: int
    hours: int
    minutes: int


def human_span(span: timedelta) -> HumanSpan:
    """`span` to the nearest minute, or to the nearest hour once it is a day or more ("2 d 4 h", "3 h 20 min")."""
    minutes = max(0, round(span.total_seconds() / 60))
    if minutes >= 24 * 60:
        hours = round(minutes / 60)
        return HumanSpan(hours // 24, hours % 24, 0)
    return HumanSpan(0, minutes // 60, minutes % 60)
