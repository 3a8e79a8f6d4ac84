"""Real words: letters, digits and CJK characters count; emoji, punctuation and spaces do not."""

import pytest

from domain.texts import MIN_NOTE_CHARS, has_real_words, real_chars


@pytest.mark.parametrize(
    ("text", "count"),
    [("已修好", 3), ("done", 4), ("👍👍👍", 0), ("...!!!", 0), ("  ", 0), ("ok 👍", 2), ("２３４元", 4), ("Paid 500", 7)],
)
def test_real_chars(text, count) -> None:
    """What counts, in Chinese, English, full-width digits and emoji."""
    assert real_chars(text) == count


def test_has_real_words() -> None:
    """At least MIN_NOTE_CHARS real characters; None is never enough."""
    assert MIN_NOTE_CHARS == 3
    assert has_real_words("已修好") and has_real_words("Paid")
    assert not has_real_words("好") and not has_real_words("👍") and not has_real_words(None)
    assert has_real_words("工资", min_chars=2) and not has_real_words("工资", min_chars=10)
