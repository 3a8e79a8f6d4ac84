"""Real words: letters and digits weigh one, CJK characters two; emoji, punctuation and spaces nothing."""

import pytest

from domain.texts import MIN_DESCRIPTION, MIN_NOTE, has_real_words, word_weight


@pytest.mark.parametrize(
    ("text", "weight"),
    [("已修好", 6), ("done", 4), ("👍👍👍", 0), ("...!!!", 0), ("  ", 0), ("ok 👍", 2), ("２３４元", 5), ("Paid 500", 7), (None, 0)],
)
def test_word_weight(text, weight) -> None:
    """What counts, in Chinese, English, full-width digits and emoji."""
    assert word_weight(text) == weight


@pytest.mark.parametrize(
    ("text", "note", "description"),
    [
        ("Wages unpaid", True, True),
        ("工资没有发放", True, True),
        ("工资没发", True, True),
        ("四月份", True, False),
        ("help me", True, False),
        ("修好", True, False),
        ("done", True, False),
        ("好", False, False),
        ("ok", False, False),
        ("😡😡😡😡😡😡", False, False),
        ("!!! ??? ...", False, False),
        ("", False, False),
        (None, False, False),
    ],
)
def test_notes_and_descriptions(text, note, description) -> None:
    """A result or reason needs a word or two; a description a short sentence."""
    assert has_real_words(text) is note
    assert has_real_words(text, MIN_DESCRIPTION) is description
    assert MIN_NOTE < MIN_DESCRIPTION
