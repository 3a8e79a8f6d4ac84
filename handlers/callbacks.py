"""The one codec for callback data. Clients write callback data, so decoding trusts nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64  # Telegram's limit on callback_data

_APPEAL = re.compile(r"^ap:(\d{1,12}):([a-z]{1,8})(?::([a-z0-9_.-]{1,40}))?$")
_DRAFT = re.compile(r"^dr:([a-z]{1,8})(?::([a-z0-9_.-]{1,40}))?$")
_STATION = re.compile(r"^st:([a-z]{1,8}):([a-z0-9_.-]{1,40})$")


@dataclass(frozen=True)
class Press:
    """A decoded button press: which family, which verb, about what."""

    kind: str  # "ap" (an appeal), "dr" (the draft), "st" (a station)
    verb: str
    appeal_id: int | None = None
    arg: str = ""


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def appeal(appeal_id: int, verb: str, arg: str = "") -> str:
    """Callback data for a button about one appeal."""
    return _checked(f"ap:{appeal_id}:{verb}" + (f":{arg}" if arg else ""))


def draft(verb: str, arg: str = "") -> str:
    """Callback data for a button in the filing dialog."""
    return _checked(f"dr:{verb}" + (f":{arg}" if arg else ""))


def station(verb: str, station_id: str) -> str:
    """Callback data for a button about a station."""
    return _checked(f"st:{verb}:{station_id}")


def decode(data: str | None) -> Press | None:
    """The press that `data` encodes, or None for anything malformed or forged out of shape."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    if m := _APPEAL.fullmatch(data):
        return Press("ap", m[2], int(m[1]), m[3] or "")
    if m := _DRAFT.fullmatch(data):
        return Press("dr", m[1], None, m[2] or "")
    if m := _STATION.fullmatch(data):
        return Press("st", m[1], None, m[2])
    return None
