"""What counts as real words in something a person typed: a rule every dialog shares."""

from __future__ import annotations

import unicodedata

# A CJK character carries about what a short word's letters do, so it weighs two.
# Results, reasons and questions: "修好" or "done" pass; "好", "ok", "👍" and "..." do not.
MIN_NOTE = 3
# A description: "工资没发" or "unpaid wages" pass; "四月份", "help me" and "😡😡😡" do not.
MIN_DESCRIPTION = 8
# A result or a rejection's reason is what the courier is left with, so it says what was done or why:
# "工资已补发" or "wages paid" pass; "已处理", "Done." and "ok fixed" do not.
MIN_OUTCOME = 8


def _weight(char: str) -> int:
    category = unicodedata.category(char)
    if category[0] not in ("L", "N"):  # emoji, punctuation, symbols, marks and spaces weigh nothing
        return 0
    return 2 if unicodedata.east_asian_width(char) == "W" and category == "Lo" else 1


def word_weight(text: str | None) -> int:
    """How much real text `text` holds: letters and digits weigh one, CJK characters two, the rest nothing."""
    return sum(_weight(char) for char in text or "")


def has_real_words(text: str | None, minimum: int = MIN_NOTE) -> bool:
    """Whether `text` holds at least `minimum` of real text (see word_weight)."""
    return text is not None and word_weight(text) >= minimum
