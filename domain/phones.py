"""Phone numbers a courier types: a mainland mobile number, or an international one with its +code."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MAINLAND = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
_INTERNATIONAL = re.compile(r"\+(\d{7,15})")
# What a person typing a number types: digits, a leading +, spaces, dashes and brackets.
_NUMBER_LIKE = re.compile(r"\+?[\d\s\-()（）]+")


@dataclass(frozen=True)
class Phone:
    """A typed phone number: the number to store, or why it is not one."""

    number: str | None
    reason: str | None = None  # "length" (not 11 digits) or "prefix" (not a mobile number)


def looks_like_phone(text: str) -> bool:
    """Whether `text` is an attempt at a number (digits and separators, at least three digits), not words."""
    text = text.strip()
    return bool(_NUMBER_LIKE.fullmatch(text)) and sum(c.isdigit() for c in text) >= 3


def parse_phone(text: str) -> Phone:
    """A mainland mobile (1[3-9] and 9 digits, optionally +86 or 0086) as +86…, or +<7-15 digits> as typed."""
    compact = _SEPARATORS.sub("", text.strip())
    if (mainland := _MAINLAND.fullmatch(compact)) is not None:
        return Phone("+86" + mainland[1])
    if not compact.startswith(("+86", "0086")) and (other := _INTERNATIONAL.fullmatch(compact)) is not None:
        return Phone("+" + other[1])
    digits = compact.removeprefix("+").removeprefix("0086").removeprefix("86") if compact.startswith(("+86", "0086")) else compact
    if digits.isdecimal() and len(digits) == 11:
        return Phone(None, "prefix")
    return Phone(None, "length")
