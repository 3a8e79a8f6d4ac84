"""Real words: letters, digits and CJK ideographs count; emoji, punctuation and spaces do not."""

import pytest

from domain.texts import has_real_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wages unpaid", True),
        ("工资没有发放", True),
        ("😡😡😡😡😡😡", False),
        ("abc", False),
        ("!!! ??? ...", False),
        ("ok 👍", False),
        ("", False),
        ("四月份", False),
    ],
)
def test_real_words(text, expected) -> None:
    assert has_real_words(text) is expected


def test_the_minimum_can_be_set() -> None:
    assert has_real_words("四月份", min_chars=3)
