"""How the bot's messages hold people's words: set apart from the bot's own lines, and within Telegram's limits.

Telegram counts a message's length in UTF-16 code units (an emoji or a rare Han character outside
the Basic Multilingual Plane counts two) and refuses a message over its limit outright. Every text
the bot composes from people's words goes through here: a long part is shortened with "…" (and the
screen offers the whole elsewhere), a long whole is split into messages at line ends.

People's words are quoted: each of their lines begins with QUOTE, which no line of the bot's own
ever begins with, so a description that reads "State: closed" cannot pass for the card's state line.
"""

from __future__ import annotations

TEXT = 4096  # a message's text
CAPTION = 1024  # a photo's, document's or album's caption
CALLBACK_BYTES = 64  # a button's callback data, in UTF-8 bytes
TOAST = 200  # the text of an answer to a button press

MARK = "…"
QUOTE = "│ "
_OVERRIDES = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])  # embeddings, overrides, isolates


def units(text: str) -> int:
    """The length of `text` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` units (never half a character)."""
    if units(text) <= limit:
        return text
    cut = text[:limit]  # a code point is at least one unit, so this is never too short
    while units(cut) > limit:
        cut = cut[: len(cut) - max(1, (units(cut) - limit) // 2)]
    return cut


def shorten(text: str, limit: int = TEXT) -> str:
    """`text` as it is if it fits in `limit` units; else cut, and marked where it was cut with "…"."""
    if units(text) <= limit:
        return text
    return _cut(text, limit - units(MARK)).rstrip() + MARK


def split(text: str, limit: int = TEXT) -> list[str]:
    """`text` as messages of at most `limit` units each, split at line ends (a longer line across messages)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while units(line) > limit:
            if current:
                parts.append(current)
                current = ""
            head = _cut(line, limit)
            parts.append(head)
            line = line[len(head) :]
        candidate = f"{current}\n{line}" if current else line
        if current and units(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    if current.strip():
        parts.append(current)
    return [part for part in parts if part.strip()]


def one_line(text: str) -> str:
    """Someone's words as one line (breaks and runs of spaces as one space, direction overrides dropped): shown
    after a label of the bot's, they cannot start a line that passes for one of the bot's own."""
    return " ".join(text.translate(_OVERRIDES).split())


def quoted(text: str, limit: int | None = None) -> str:
    """People's words as the bot shows them: every line after QUOTE; within `limit` units if given, cut with "…".

    Every kind of line break a client may draw (\\r, U+2028 and the like) starts a quoted line, and
    direction overrides are dropped (they could draw a line's quote mark at its other end).
    """
    lines = text.translate(_OVERRIDES).splitlines() or [""]
    block = "\n".join(QUOTE + line for line in lines)
    if limit is None or units(block) <= limit:
        return block
    cut = _cut(block, limit - units(MARK))
    head, _, last = cut.rpartition("\n")
    if head and QUOTE.startswith(last):  # the cut left only the start of a quote mark: end on the line before
        cut = head
    return cut.rstrip() + MARK


def said(text: str, limit: int | None = None) -> str:
    """People's words for the end of a line that introduces them ("… answered:"): on the lines below, quoted."""
    return "\n" + quoted(text, limit)


# How much of people's words each screen shows before "…" (in units, quote marks included). With the
# bot's own lines, a card with every part at its most stays within TEXT; the rest is a button away.
ON_CARD = 1200  # the description on a card
PLACE_ON_CARD = 200  # a place the courier typed, on its labelled line
RESULT_ON_CARD = 500  # the latest result on a card
IN_HISTORY = 120  # each note in a card's short history
SHORT_HISTORY = 8  # the newest lines of an appeal's history a card shows
IN_NOTICE = 600  # the words a notice brings (an answer, a question, a reason)
SHOWN_BACK = 3000  # a courier's draft, or a typed result or reason, shown back before it is sent
