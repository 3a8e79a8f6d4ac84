"""Real words: letters and digits weigh one, CJK characters two; emoji, punctuation and spaces nothing."""

import pytest

from domain.lifecycle import Event
from domain.texts import MIN_DESCRIPTION, MIN_NOTE, MIN_OUTCOME, has_real_words, word_weight
from storage.appeals import words_enough


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("已修好", 6),
        ("done", 4),
        ("👍👍👍", 0),
        ("...!!!", 0),
        ("  ", 0),
        ("ok 👍", 2),
        ("２３４元", 5),
        ("Paid 500", 7),
        (None, 0),
    ],
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


@pytest.mark.parametrize(
    ("event", "text", "enough"),
    [
        (Event.RESOLVE, "已处理", False),
        (Event.RESOLVE, "Done.", False),
        (Event.RESOLVE, "ok fixed", False),
        (Event.RESOLVE, "Paid", False),
        (Event.RESOLVE, "工资已补发", True),
        (Event.RESOLVE, "Wages paid", True),
        (Event.REJECT, "重复", False),
        (Event.REJECT, "spam", False),
        (Event.REJECT, "不属于本区", True),
        (Event.SEND_BACK, "不归我们管", True),
        (Event.SEND_BACK, "不是", False),  # the coordinator routes it again from the reason alone
        (Event.RATE_UNSATISFIED, "no", False),
        (Event.RATE_UNSATISFIED, "还是没修", True),
        (Event.ASK, "哪家公司？", True),
        (Event.ASK, "好", False),
        (Event.NOTE, "", True),  # a note needs no minimum of its own
    ],
)
def test_a_result_or_a_rejection_says_what_was_done_or_why(event, text, enough) -> None:
    """What the courier is left with (a result, a rejection's reason) needs a short sentence; a question a word or two."""
    assert words_enough(event, text) is enough
    assert MIN_NOTE < MIN_OUTCOME
