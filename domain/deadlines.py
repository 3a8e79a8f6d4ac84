"""Which deadlines an event sets, clears, pauses or resumes, on the working calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.calendar import WorkingCalendar
from domain.durations import WorkSpan
from domain.lifecycle import Event, Outcome, State, Transition


class Timer(StrEnum):
    """A deadline kept as a row with an indexed due time."""

    TRIAGE = "triage"  # a coordinator routes what no rule routed
    ACCEPT = "accept"  # the unit signs for the appeal (签收)
    HANDLE = "handle"  # the unit resolves it
    FEEDBACK = "feedback"  # the courier rates, else the appeal closes by itself
    FOLLOWUP = "followup"  # some days after a resolved appeal closes: "is it still solved?"


class Priority(StrEnum):
    """How fast an appeal must move."""

    NORMAL = "normal"
    URGENT = "urgent"


@dataclass(frozen=True)
class Spans:
    """The deadline lengths that apply to one appeal."""

    triage: WorkSpan
    accept: WorkSpan
    handle: WorkSpan
    feedback: WorkSpan
    send_back_window: WorkSpan
    followup: WorkSpan


@dataclass(frozen=True)
class Arm:
    """Arm a timer at `due`."""

    timer: Timer
    due: datetime


@dataclass(frozen=True)
class Clear:
    """Remove a timer."""

    timer: Timer


@dataclass(frozen=True)
class Pause:
    """Stop a timer's clock; the remaining working time is kept."""

    timer: Timer


@dataclass(frozen=True)
class Resume:
    """Restart a paused timer with its remaining working time."""

    timer: Timer


TimerChange = Arm | Clear | Pause | Resume

_DEADLINES = (Timer.TRIAGE, Timer.ACCEPT, Timer.HANDLE, Timer.FEEDBACK)


def timer_changes(
    transition: Transition, spans: Spans, calendar: WorkingCalendar, now: datetime
) -> list[TimerChange]:
    """The timer changes `transition` causes at `now`."""
    due = lambda span: span.due_from(calendar, now)  # noqa: E731
    if transition.to is State.CLOSED:
        changes: list[TimerChange] = [Clear(t) for t in _DEADLINES]
        if transition.outcome in (Outcome.RESOLVED, Outcome.AUTO_CLOSED):
            changes.append(Arm(Timer.FOLLOWUP, due(spans.followup)))
        return changes
    match transition.event:
        case Event.SUBMIT | Event.SEND_BACK:
            return [Arm(Timer.TRIAGE, due(spans.triage)), Clear(Timer.ACCEPT), Clear(Timer.HANDLE)]
        case Event.ASSIGN | Event.REASSIGN:
            return [
                Clear(Timer.TRIAGE),
                Arm(Timer.ACCEPT, due(spans.accept)),
                Arm(Timer.HANDLE, due(spans.handle)),
            ]
        case Event.ACCEPT:
            return [Clear(Timer.ACCEPT)]
        case Event.ASK:
            return [Pause(Timer.HANDLE)]
        case Event.ANSWER:
            return [Resume(Timer.HANDLE)]
        case Event.RESOLVE:
            return [
                Clear(Timer.ACCEPT),
                Clear(Timer.HANDLE),
                Arm(Timer.FEEDBACK, due(spans.feedback)),
            ]
        case Event.RATE_UNSATISFIED:
            return [Clear(Timer.FEEDBACK), Arm(Timer.HANDLE, due(spans.handle))]
    return []

