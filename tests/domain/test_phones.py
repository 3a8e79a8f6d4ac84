"""Typed phone numbers: mainland mobiles in any common spelling, international ones with their code."""

import pytest

from domain.phones import Phone, looks_like_phone, parse_phone


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("19912345678", "+8619912345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-0100", "+14155550100"),
    ],
)
def test_valid_numbers_are_normalised(typed, number) -> None:
    assert parse_phone(typed) == Phone(number)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("1380013800", "length"), ("138001380001", "length"), ("12800138000", "prefix"), ("+86 128 0013 8000", "prefix"),
     ("+8612345", "length"), ("+123456", "length")],
)
def test_invalid_numbers_say_why(typed, reason) -> None:
    assert parse_phone(typed) == Phone(None, reason)


@pytest.mark.parametrize(("text", "expected"), [("138 0013", True), ("+86", False), ("call me at 138", False), ("12", False)])
def test_what_looks_like_a_phone(text, expected) -> None:
    assert looks_like_phone(text) is expected
