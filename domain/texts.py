"""What counts as real words in what a person typed."""

from __future__ import annotations

import unicodedata


def _is_word_char(char: str) -> bool:
    # Letters (any script, CJK ideographs included: they are category Lo) and digits; not emoji,
    # punctuation, symbols or marks.
    return unicodedata.category(char)[0] in ("L", "N")


def has_real_words(text: str, min_chars: int = 5) -> bool:
    """Whether `text` holds at least `min_chars` letters, digits or CJK ideographs (emoji and punctuation do not count)."""
    return sum(1 for char in text if _is_word_char(char)) >= min_chars
