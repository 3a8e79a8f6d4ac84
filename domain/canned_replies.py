"""Canned replies (常用回复): how long one may be and how many a unit keeps.

A reply is sent as the note of an Ask, a Note or a Resolve, so it stays far inside what those take
(handlers/text_prompts.py's MAX_TYPED) and inside one Telegram message once the courier's notice wraps it.
"""

from __future__ import annotations

MAX_REPLY = 500  # characters in one reply
MAX_REPLIES = 10  # replies one unit keeps, from the config and added by its staff together
LABEL = 28  # characters of a reply a button shows


def clean(text: str) -> str:
    """A reply as it is kept: without the spaces and blank lines around it."""
    return text.strip()
