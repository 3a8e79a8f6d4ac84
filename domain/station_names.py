"""Whether words a courier typed name a station: "人民广场驿站" names 人民广场爱心驿站, "people's square" its English name."""

from __future__ import annotations

from collections.abc import Iterable

from domain.texts import word_weight

# What station names end with, which a courier may type differently or leave out; longest first.
_SUFFIXES = ("爱心驿站", "服务驿站", "服务站", "驿站", "站", "reststation", "station")
# The distinctive part of a name must weigh this much (two CJK characters, four letters) to be looked for in words.
_MIN_CORE = 4


def _squashed(text: str) -> str:
    return "".join(text.split()).casefold()


def _core(name: str) -> str:
    squashed = _squashed(name)
    for suffix in _SUFFIXES:
        if squashed.endswith(suffix) and len(squashed) > len(suffix):
            return squashed[: -len(suffix)]
    return squashed


def names_station(typed: str, names: Iterable[str]) -> bool:
    """Whether `typed` is part of one of `names` (as /stations NAME finds), or holds a name's distinctive part."""
    key = _squashed(typed)
    if key in _SUFFIXES:
        return False  # "station" alone names none in particular
    for name in names:
        if not name:
            continue
        if word_weight(key) >= _MIN_CORE and key in _squashed(name):
            return True
        core = _core(name)
        if word_weight(core) >= _MIN_CORE and (core in key or _core(typed) == core):
            return True
    return False
