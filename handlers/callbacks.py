"""The one codec for callback data. Clients write callback data, so decoding trusts nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.appeals import ListPosition

MAX_BYTES = 64  # Telegram's limit on callback_data

_APPEAL = re.compile(r"^ap:(\d{1,12}):([a-z]{1,8})(?::([a-z0-9_.-]{1,40}))?$")
_DRAFT = re.compile(r"^dr:([a-z]{1,8})(?::([a-z0-9_.-]{1,40}))?$")
_STATION = re.compile(r"^st:([a-z]{1,8}):([a-z0-9_.-]{1,40})$")
# The next page of a list: which list, and the last appeal shown (its id, and its deadline if it has one).
_PAGE = re.compile(r"^ls:(my|queue|triage):(\d{1,12})(?::(\d{1,12}))?$")
_HOTSPOT = re.compile(r"^hs:([a-z]{1,8}):([a-z0-9_.-]{1,56})$")
# Coordinators' station tools (sa), the ledger export (ex), a person's own data (pv), invitations (iv).
_TOOL = re.compile(r"^(sa|ex|pv|iv):([a-z]{1,8})(?::([a-z0-9_.-]{1,40}))?$")
TOOLS = ("sa", "ex", "pv", "iv")


@dataclass(frozen=True)
class Press:
    """A decoded button press: which family, which verb, about what."""

    kind: str  # "ap" (an appeal), "dr" (the draft), "st" (a station), "hs" (a hot spot), "ls" (a list's next page), or one of TOOLS
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


def tool(kind: str, verb: str, arg: str = "") -> str:
    """Callback data for a button of a tool: station management, the export, privacy."""
    if kind not in TOOLS:
        raise ValueError(f"unknown tool {kind!r}")
    return _checked(f"{kind}:{verb}" + (f":{arg}" if arg else ""))


def page(list_name: str, after: ListPosition) -> str:
    """Callback data for the next page of a list, after the appeal a page ended with."""
    data = _checked(f"ls:{list_name}:{after.id}" + (f":{after.due}" if after.due is not None else ""))
    if not _PAGE.fullmatch(data):
        raise ValueError(f"not a list page: {data!r}")
    return data


def hotspot(key: str) -> str:
    """Callback data for turning a hot spot into one appeal."""
    data = _checked(f"hs:mk:{key}")
    if not _HOTSPOT.fullmatch(data):
        raise ValueError(f"not a hot spot key: {key!r}")
    return data


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
    if m := _PAGE.fullmatch(data):
        return Press("ls", m[1], int(m[2]), m[3] or "")
    if m := _HOTSPOT.fullmatch(data):
        return Press("hs", m[1], None, m[2])
    if m := _TOOL.fullmatch(data):
        return Press(m[1], m[2], None, m[3] or "")
    return None
