"""Tests for domain.durations: deadline lengths written as "30m", "4h", "3wd", "eod"."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import WorkingCalendar
from domain.durations import HumanSpan, WorkSpan, human_span, parse_span

SHANGHAI = ZoneInfo("Asia/Shanghai")

# 2026 National Day: Thu 1 .. Wed 7 Oct off; Sun 27 Sep and Sat 10 Oct worked.
CAL = WorkingCalendar(
    SHANGHAI,
    holidays=frozenset(date(2026, 10, day) for day in range(1, 8)),
    makeup_days=frozenset({date(2026, 9, 27), date(2026, 10, 10)}),
)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", WorkSpan("minutes", 30)),
        ("1m", WorkSpan("minutes", 1)),
        ("4h", WorkSpan("minutes", 240)),  # hours are kept as minutes
        ("3wd", WorkSpan("working_days", 3)),
        ("eod", WorkSpan("end_of_day", 0)),
        ("100000m", WorkSpan("minutes", 100_000)),
        ("1666h", WorkSpan("minutes", 99_960)),
        ("365wd", WorkSpan("working_days", 365)),
        ("007wd", WorkSpan("working_days", 7)),
    ],
)
def test_parse_each_form(text, expected):
    assert parse_span(text) == expected


@pytest.mark.parametrize("text", [" 30m", "30m ", "\t4h\n", "  3wd  ", " eod "])
def test_parse_ignores_surrounding_whitespace(text):
    assert parse_span(text) == parse_span(text.strip())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "10",
        "5x",
        "3d",
        "-3h",
        "+3h",
        "1.5h",
        "3 h",
        "h",
        "wd",
        "eod1",
        "EOD",
        "3WD",
        "４h",  # a full-width digit
    ],
)
def test_parse_rejects_malformed_text(text):
    with pytest.raises(ValueError, match="expected"):
        parse_span(text)


@pytest.mark.parametrize("text", ["0m", "0h", "0wd", "100001m", "1667h", "366wd", "9" * 5000 + "m"])
def test_parse_rejects_zero_and_too_long(text):
    with pytest.raises(ValueError, match="out of range"):
        parse_span(text)


def test_parse_error_names_the_text_and_the_accepted_forms():
    with pytest.raises(ValueError) as caught:
        parse_span("5x")
    message = str(caught.value)
    assert "'5x'" in message
    assert all(form in message for form in ('"<n>m"', '"<n>h"', '"<n>wd"', '"eod"'))


@pytest.mark.parametrize("value", [None, 30, 1.5])
def test_parse_rejects_non_text(value):
    with pytest.raises(ValueError, match="not a text"):
        parse_span(value)


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        ("minutes", 0),
        ("minutes", 100_001),
        ("working_days", 0),
        ("working_days", 366),
        ("end_of_day", 1),
        ("weeks", 1),
    ],
)
def test_invalid_span_cannot_be_built(kind, amount):
    with pytest.raises(ValueError):
        WorkSpan(kind, amount)


# ------------------------------------------------------------------ str


@pytest.mark.parametrize("text", ["30m", "1m", "90m", "4h", "1666h", "100000m", "3wd", "365wd", "eod"])
def test_str_gives_back_canonical_text(text):
    assert str(parse_span(text)) == text


@pytest.mark.parametrize(("text", "canonical"), [("60m", "1h"), ("120m", "2h"), (" 007wd ", "7wd"), ("0030m", "30m")])
def test_str_canonicalises(text, canonical):
    assert str(parse_span(text)) == canonical


def test_str_round_trips_through_parse():
    rng = random.Random(42)
    spans = [WorkSpan("end_of_day", 0)]
    spans += [WorkSpan("minutes", rng.randint(1, 100_000)) for _ in range(200)]
    spans += [WorkSpan("minutes", 60 * rng.randint(1, 1666)) for _ in range(50)]
    spans += [WorkSpan("working_days", rng.randint(1, 365)) for _ in range(50)]
    for span in spans:
        assert parse_span(str(span)) == span


# ------------------------------------------------------------------ due_from


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        # 15 min before lunch, 15 min after.
        ("30m", sh(2026, 9, 14, 11, 45), sh(2026, 9, 14, 13, 45)),
        # 2 h on Friday, 2 h on Monday.
        ("4h", sh(2026, 9, 18, 16, 0), sh(2026, 9, 21, 11, 0)),
        ("1wd", sh(2026, 9, 18, 15, 0), sh(2026, 9, 21, 15, 0)),
        # 6.5 h on 30 Sep, 7.5 h on 8 and 9 Oct, the last hour on make-up Saturday 10 Oct.
        ("3wd", sh(2026, 9, 30, 10, 0), sh(2026, 10, 10, 10, 0)),
        ("eod", sh(2026, 9, 14, 10, 0), sh(2026, 9, 14, 18, 0)),
        ("eod", sh(2026, 9, 18, 19, 0), sh(2026, 9, 21, 18, 0)),
        ("eod", sh(2026, 9, 30, 19, 0), sh(2026, 10, 8, 18, 0)),
    ],
)
def test_due_from(text, start, expected):
    assert parse_span(text).due_from(CAL, start) == expected


# ------------------------------------------------------------------ spans as people read them


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(seconds=20), HumanSpan(0, 0, 0)),
        (timedelta(seconds=31), HumanSpan(0, 0, 1)),
        (timedelta(minutes=45), HumanSpan(0, 0, 45)),
        (timedelta(hours=3, minutes=20, seconds=10), HumanSpan(0, 3, 20)),
        (timedelta(hours=23, minutes=59, seconds=40), HumanSpan(1, 0, 0)),  # rounds up into a day
        (timedelta(days=2, hours=4, minutes=29), HumanSpan(2, 4, 0)),  # a day or more: to the hour
        (timedelta(days=2, hours=4, minutes=31), HumanSpan(2, 5, 0)),
        (timedelta(seconds=-5), HumanSpan(0, 0, 0)),
    ],
)
def test_human_span_rounds_as_people_say_it(span: timedelta, expected: HumanSpan) -> None:
    """Minutes under a day, hours from a day on; never negative."""
    assert human_span(span) == expected
