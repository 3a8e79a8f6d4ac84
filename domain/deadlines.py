"""Which deadlines an event sets, clears, pauses or resumes, on the working calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.calendar import WorkingCalendar
from domain.durations import WorkSpan, parse_span
from domain.events import RULES, SOLVED_OUTCOMES
from domain.lifecycle import State, Transition
from domain.names import DEADLINES, Timer


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
    redo: WorkSpan = parse_span("3wd")  # the handling deadline of a redo (重办)

    def of(self, timer: Timer) -> WorkSpan:
        """The length of `timer` (each timer's span is the field of its name)."""
        return getattr(self, timer.value)


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


def extensions_left(approved: int, max_extensions: int) -> bool:
    """Whether an appeal that has had `approved` extensions (延期) may still ask for one (deadlines.max_extensions)."""
    return approved < max_extensions


def timer_changes(transition: Transition, spans: Spans, calendar: WorkingCalendar, now: datetime) -> list[TimerChange]:
    """The timer changes `transition` causes at `now`: closing clears every deadline (and arms the
    follow-up of a solved appeal); any other step changes the timers its event declares."""
    due = lambda timer: spans.of(timer).due_from(calendar, now)  # noqa: E731
    if transition.to is State.CLOSED:
        changes: list[TimerChange] = [Clear(t) for t in DEADLINES]
        if transition.outcome in SOLVED_OUTCOMES:
            changes.append(Arm(Timer.FOLLOWUP, due(Timer.FOLLOWUP)))
        return changes
    rule = RULES[transition.event]
    # A redo (重办) gets the redo length to handle it again, not a whole new handling span.
    span = lambda timer: spans.redo if rule.reopens and timer is Timer.HANDLE else spans.of(timer)  # noqa: E731
    return [
        *(Clear(t) for t in rule.clears),
        *(Arm(t, span(t).due_from(calendar, now)) for t in rule.arms),
        *(Pause(t) for t in rule.pauses),
        *(Resume(t) for t in rule.resumes),
    ]
