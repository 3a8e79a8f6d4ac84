"""What counts as real words in something a person typed: a rule every dialog shares."""

from __future__ import annotations

import unicodedata

# Results, reasons and questions: "已修好" or "done" pass; "👍", "ok", "..." do not.
MIN_NOTE_CHARS = 3


def real_chars(text: str) -> int:
    """How many letters, digits and CJK characters `text` holds (emoji, punctuation and spaces do not count)."""
    return sum(1 for char in text if unicodedata.category(char)[0] in ("L", "N"))


def has_real_words(text: str | None, min_chars: int = MIN_NOTE_CHARS) -> bool:
    """Whether `text` holds at least `min_chars` letters, digits or CJK characters."""
    return text is not None and real_chars(text) >= min_chars
