"""Typed phone numbers: mainland mobiles in any common spelling, international ones with their code."""

import pytest

from domain.phones import Phone, declines_phone, looks_like_phone, number_in, parse_phone
from domain.station_names import names_station


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
    [
        ("1380013800", "length"),
        ("138001380001", "length"),
        ("12800138000", "prefix"),
        ("+86 128 0013 8000", "prefix"),
        ("+8612345", "length"),
        ("+123456", "intl_short"),
        ("+44 1234 5678 9012 345", "intl_long"),
    ],
)
def test_invalid_numbers_say_why(typed, reason) -> None:
    assert parse_phone(typed) == Phone(None, reason)


@pytest.mark.parametrize(
    ("text", "expected"), [("138 0013", True), ("+86", False), ("call me at 138", False), ("12", False)]
)
def test_what_looks_like_a_phone(text, expected) -> None:
    assert looks_like_phone(text) is expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("my number is 139-0000-1111", "139-0000-1111"),
        ("电话13900001111", "13900001111"),
        ("I have 2 kids", None),
        ("abc电话没有", None),
    ],
)
def test_a_number_inside_words_is_found(text, number) -> None:
    assert number_in(text) == number


@pytest.mark.parametrize(
    ("text", "declines"),
    [
        ("没有电话", True),
        ("不方便。", True),
        ("No phone", True),
        ("skip!", True),
        ("I don't have one", True),
        ("abc电话没有", False),
        ("no phone because the boss took it", False),
    ],
)
def test_plain_refusals_decline_the_phone(text, declines) -> None:
    assert declines_phone(text) is declines


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("人民广场驿站", True),
        ("人民广场", True),
        ("在人民广场爱心驿站门口", True),
        ("people's square", True),
        ("station", False),
        ("驿站", False),
        ("the bund", False),
        ("南京东路站", False),
    ],
)
def test_a_typed_place_names_a_station(typed, named) -> None:
    assert names_station(typed, ("人民广场爱心驿站", "People's Square Rest Station")) is named
