"""The use cases handlers call to change an appeal: file it, act on it, answer its follow-up, open a hot spot.

Each takes the Storage and a typed command (domain/commands.py), runs the rules that belong to the
action (routing, filing limits, the version it was shown at) and its one transaction, and returns a
typed result. None formats a message or knows of Telegram: handlers say what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.commands import ActOnAppeal, AddToAnswer, AnswerFollowUp, FileAppeal, OpenHotSpot
from domain.filing_limits import FilingLimits
from domain.routing import Rule, route
from storage.appeals import Applied
from storage.models import Appeal
from storage.store import Storage


async def file_appeal(
    storage: Storage, command: FileAppeal, *, routing: list[Rule], limits: FilingLimits | None, now: datetime
) -> Applied | None:
    """File the courier's draft, with the unit the first matching routing rule names (none: a coordinator triages).

    Raises FilingLimited if the limits refuse it (nothing changes, the draft is kept); None if the
    draft is no longer there (a second tap of Confirm files nothing).
    """
    new = command.appeal
    point = (new.lat, new.lon) if new.lat is not None and new.lon is not None else None
    unit = route(routing, new.category, new.station_id, point)
    return await storage.appeals.submit_draft(new, started=command.started, unit=unit, now=now, limits=limits)


async def act(storage: Storage, command: ActOnAppeal, now: datetime) -> Applied:
    """One lifecycle event on an appeal (accept, ask, answer, resolve, rate, assign, reassign, merge, withdraw...).

    Raises a LifecycleError and changes nothing if the lifecycle refuses it, or if the appeal is no
    longer at the command's expected version.
    """
    return await storage.appeals.apply(command, now)


@dataclass(frozen=True)
class FollowUpAnswered:
    """The courier's answer to "is it still solved?" was recorded; `reopened` is the new appeal when it was not."""

    reopened: Appeal | None = None


async def answer_follow_up(storage: Storage, command: AnswerFollowUp, now: datetime) -> FollowUpAnswered | None:
    """Record the courier's follow-up answer (not solved: a new appeal, linked, to the same unit if it is still active).

    None if there is no follow-up to answer (answered already, or not theirs).
    """
    result = await storage.appeals.answer_followup(command, now)
    if result is False:
        return None
    return FollowUpAnswered(None if result is True else result.appeal)


async def open_hot_spot(storage: Storage, command: OpenHotSpot, now: datetime) -> Applied | None:
    """One appeal for a hot spot, waiting for routing; None if another already gathers one of its appeals."""
    return await storage.appeals.open_hotspot(command, now)


async def add_to_answer(storage: Storage, command: AddToAnswer, *, template: str, now: datetime) -> bool:
    """Add files, or the words, sent just after an answer to it; the unit is told by `template`.

    False if words came for an answer that has words already (nothing written is ever replaced).
    """
    if command.words is not None:
        return await storage.appeals.add_words_to_answer(command, template=template, now=now)
    await storage.appeals.add_to_answer(command, template=template, now=now)
    return True
