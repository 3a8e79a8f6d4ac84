"""The ladder each deadline climbs: a reminder before it, a chase-up when it passes, escalation after.

Modelled on the 12345 hotline: 提醒 (remind) -> 催办 (chase up at the deadline) -> 督办 (escalate
to coordinators when still overdue). The feedback deadline ends in auto-close instead, and the
follow-up check (回访) has a single step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.calendar import WorkingCalendar
from domain.names import Audience, Timer


class Stage(StrEnum):
    """The next step a timer will take."""

    REMIND = "remind"
    DUE = "due"
    ESCALATE = "escalate"
    DONE = "done"


LADDERS: dict[Timer, tuple[Stage, ...]] = {
    Timer.TRIAGE: (Stage.REMIND, Stage.DUE, Stage.ESCALATE),
    Timer.ACCEPT: (Stage.REMIND, Stage.DUE, Stage.ESCALATE),
    Timer.HANDLE: (Stage.REMIND, Stage.DUE, Stage.ESCALATE),
    Timer.FEEDBACK: (Stage.REMIND, Stage.DUE),
    Timer.FOLLOWUP: (Stage.DUE,),
}

# Who hears of each step. The feedback deadline's DUE step closes the appeal instead.
AUDIENCE: dict[tuple[Timer, Stage], Audience] = {
    (Timer.TRIAGE, Stage.REMIND): Audience.COORDINATORS,
    (Timer.TRIAGE, Stage.DUE): Audience.COORDINATORS,
    (Timer.TRIAGE, Stage.ESCALATE): Audience.COORDINATORS,
    (Timer.ACCEPT, Stage.REMIND): Audience.UNIT,
    (Timer.ACCEPT, Stage.DUE): Audience.UNIT,
    (Timer.ACCEPT, Stage.ESCALATE): Audience.COORDINATORS,
    (Timer.HANDLE, Stage.REMIND): Audience.UNIT,
    (Timer.HANDLE, Stage.DUE): Audience.UNIT,
    (Timer.HANDLE, Stage.ESCALATE): Audience.COORDINATORS,
    (Timer.FEEDBACK, Stage.REMIND): Audience.COURIER,
    (Timer.FOLLOWUP, Stage.DUE): Audience.COURIER,
}


@dataclass(frozen=True)
class LadderPolicy:
    """How far before a deadline to remind, and how long after it to escalate (working time)."""

    remind_before: timedelta = timedelta(hours=2)
    escalate_after: timedelta = timedelta(hours=4)


def template(timer: Timer, stage: Stage) -> str:
    """The message-catalog key of a ladder step's notice."""
    return f"ladder.{timer}.{stage}"


def working_before(calendar: WorkingCalendar, due: datetime, work: timedelta) -> datetime:
    """The latest whole second with `work` of working time left before `due`."""
    # Walking the periods backwards: a search over seconds cost about twenty calendar
    # sums per reminder, the most expensive part of resolving an appeal (bench/transitions.py).
    return calendar.subtract(due, work).replace(microsecond=0)


def fire_time(
    timer: Timer, stage: Stage, due: datetime, calendar: WorkingCalendar, policy: LadderPolicy
) -> datetime | None:
    """When `stage` of a timer due at `due` happens (None for DONE)."""
    match stage:
        case Stage.REMIND:
            return working_before(calendar, due, policy.remind_before)
        case Stage.DUE:
            return due
        case Stage.ESCALATE:
            return calendar.add(due, policy.escalate_after)
    return None


def first_step(
    timer: Timer, due: datetime, now: datetime, calendar: WorkingCalendar, policy: LadderPolicy
) -> tuple[Stage, datetime | None]:
    """The first step of a newly armed timer; a reminder that would come at once is skipped."""
    for stage in LADDERS[timer]:
        at = fire_time(timer, stage, due, calendar, policy)
        if stage is Stage.REMIND and at is not None and at <= now:
            continue
        return stage, at
    return Stage.DONE, None


def step_after(
    timer: Timer, stage: Stage, due: datetime, calendar: WorkingCalendar, policy: LadderPolicy
) -> tuple[Stage, datetime | None]:
    """The step that follows `stage` once it has fired."""
    stages = LADDERS[timer]
    index = stages.index(stage) + 1
    if index >= len(stages):
        return Stage.DONE, None
    following = stages[index]
    return following, fire_time(timer, following, due, calendar, policy)
