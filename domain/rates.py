"""The three rates coordinators watch, with their definitions in one place."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import NOT_ASKED_OUTCOMES, SOLVED_OUTCOMES, events_where
from domain.names import Rating, Timer

# What each rate counts, from the events' declarations (storage/reports.py builds its SQL from these).
# Response: appeals sent to a unit, and of those the ones it accepted before its acceptance deadline.
SENT_TO_UNIT = events_where(lambda rule: rule.takes_unit)
(ACCEPTED,) = events_where(lambda rule: rule.on_time_by is Timer.ACCEPT)
# Resolution: appeals closed as valid (any outcome but these), and of those the ones solved.
NOT_ASKED = NOT_ASKED_OUTCOMES
SOLVED = SOLVED_OUTCOMES
# Satisfaction: appeals rated (by their last rating), and of those the ones satisfied or fairly so.
RATINGS = events_where(lambda rule: rule.rating is not None)
RATED_SATISFIED = events_where(lambda rule: rule.rating is Rating.SATISFIED)
RATED_FAIRLY_SATISFIED = events_where(lambda rule: rule.rating is Rating.FAIRLY_SATISFIED)


@dataclass(frozen=True)
class Counts:
    """Counts over a period, gathered by storage."""

    assigned: int = 0  # appeals assigned to a unit in the period, accepted or past their acceptance deadline
    accepted_in_time: int = 0  # of those, accepted before the acceptance deadline
    asked: int = 0  # valid appeals closed in the period (not withdrawn, merged or rejected)
    solved: int = 0  # of those, closed as resolved or auto-closed after a resolution
    rated: int = 0  # ratings given in the period
    satisfied: int = 0  # "satisfied" ratings
    fairly_satisfied: int = 0  # "fairly satisfied" ratings


@dataclass(frozen=True)
class Rates:
    """Each rate is a fraction in [0, 1], or None when nothing was counted."""

    response: float | None
    resolution: float | None
    satisfaction: float | None


def _ratio(part: int, whole: int) -> float | None:
    if part < 0 or whole < 0 or part > whole:
        raise ValueError(f"impossible counts: {part} of {whole}")
    return None if whole == 0 else part / whole


def rates(counts: Counts) -> Rates:
    """The response, resolution and satisfaction rates of `counts`."""
    return Rates(
        response=_ratio(counts.accepted_in_time, counts.assigned),
        resolution=_ratio(counts.solved, counts.asked),
        satisfaction=_ratio(counts.satisfied + counts.fairly_satisfied, counts.rated),
    )


def percent(rate: float | None) -> str:
    """A rate as people read it: '87.5%', or '—' when there is nothing to count."""
    return "—" if rate is None else f"{rate * 100:.1f}%"
