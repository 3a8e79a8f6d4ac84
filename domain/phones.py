"""Phone numbers a courier types: a mainland mobile number, or an international one with its +code."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MAINLAND = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
_INTERNATIONAL = re.compile(r"\+(\d{7,15})")
# A number inside words ("my number is 139-0000-1111", "电话13900001111"): a + or digit, then digits and separators.
_NUMBER_IN_WORDS = re.compile(r"\+?\d[\d\s\-()（）]*\d")
# Said at the contact step, these mean "no phone" (as the Skip button does); compared whole, without punctuation.
_DECLINES = frozenset(
    {
        "没有",
        "没",
        "无",
        "没有电话",
        "没电话",
        "无电话",
        "不留",
        "不留了",
        "不留电话",
        "不想留",
        "不想留电话",
        "不方便",
        "不方便留",
        "不方便留电话",
        "不用",
        "不用了",
        "不需要",
        "跳过",
        "匿名",
        "不给",
        "不想给",
        "算了",
        "电话没有",
        "没有手机",
        "没有手机号",
        "不留手机号",
        "不留号码",
        "不方便留号码",
        "no",
        "none",
        "nope",
        "no phone",
        "no number",
        "no phone number",
        "skip",
        "anonymous",
        "stay anonymous",
        "no thanks",
        "no thank you",
        "rather not",
        "id rather not",
        "i dont have one",
        "i dont have a phone",
        "dont have one",
        "not now",
        "n/a",
        "na",
    }
)
_NOT_WORDS = re.compile(r"[\s.,!?;:\"，。！？；：、…~～]+")
# What a person typing a number types: digits, a leading +, spaces, dashes and brackets.
_NUMBER_LIKE = re.compile(r"\+?[\d\s\-()（）]+")


@dataclass(frozen=True)
class Phone:
    """A typed phone number: the number to store, or why it is not one."""

    number: str | None
    # "length" (not 11 digits), "prefix" (not a mobile number), "intl_short" / "intl_long" (a +number of too few / many digits)
    reason: str | None = None


def looks_like_phone(text: str) -> bool:
    """Whether `text` is an attempt at a number (digits and separators, at least three digits), not words."""
    text = text.strip()
    return bool(_NUMBER_LIKE.fullmatch(text)) and sum(c.isdigit() for c in text) >= 3


def number_in(text: str) -> str | None:
    """The number written inside words, if there is one with at least five digits (the first such)."""
    for found in _NUMBER_IN_WORDS.finditer(text):
        if sum(c.isdigit() for c in found[0]) >= 5:
            return found[0]
    return None


# What people write around a number they give; anything else around it is more of their story.
_ABOUT_NUMBER = re.compile(
    r"(?i)\b(?:my|the|is|it's|its|phone|mobile|cell|tel|number|no|call|me|on|at|here|you|can|reach)\b"
    r"|我的|我|电话号码|电话|手机号码|手机号|手机|号码|联系方式|是|打|请|拨"
)


def words_besides_number(text: str, number: str) -> str:
    """What `text` says besides `number` and the words that introduce it ("my number is", "电话"), stripped."""
    rest = _ABOUT_NUMBER.sub(" ", text.replace(number, " "))
    return rest.strip()


def declines_phone(text: str) -> bool:
    """Whether `text` plainly says the person gives no phone ("没有电话", "no phone", "skip")."""
    said = _NOT_WORDS.sub(" ", text.lower().replace("'", "").replace("’", "")).strip()
    return said in _DECLINES or said.replace(" ", "") in _DECLINES


def parse_phone(text: str) -> Phone:
    """A mainland mobile (1[3-9] and 9 digits, optionally +86 or 0086) as +86…, or +<7-15 digits> as typed."""
    compact = _SEPARATORS.sub("", text.strip())
    if (mainland := _MAINLAND.fullmatch(compact)) is not None:
        return Phone("+86" + mainland[1])
    if not compact.startswith(("+86", "0086")) and (other := _INTERNATIONAL.fullmatch(compact)) is not None:
        return Phone("+" + other[1])
    if compact.startswith("+") and not compact.startswith("+86") and compact[1:].isdecimal():
        return Phone(None, "intl_short" if len(compact) - 1 < 7 else "intl_long")
    digits = (
        compact.removeprefix("+").removeprefix("0086").removeprefix("86")
        if compact.startswith(("+86", "0086"))
        else compact
    )
    if digits.isdecimal() and len(digits) == 11:
        return Phone(None, "prefix")
    return Phone(None, "length")


# A mainland ID card number: 17 digits and a digit or X, or the old 15 digits.
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")
# A number inside words, as `parse_phone` reads one.
_NUMBER_IN_WORDS = re.compile(r"\+?\d[\d\s\-()（）]*\d")


def personal_number(text: str) -> str | None:
    """ "id_number" or "phone" if `text` holds a mainland ID card number or a phone number, else None
    (what a wish's words or an anonymous survey's answer must not carry)."""
    if _ID_NUMBER.search(re.sub(r"[\s\-]", "", text)):
        return "id_number"
    for found in _NUMBER_IN_WORDS.finditer(text):
        if sum(c.isdigit() for c in found[0]) >= 7 and parse_phone(found[0]).number is not None:
            return "phone"
    return None
