"""The deadline ladder: when each step falls on the working calendar."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.calendar import WorkingCalendar
from domain.deadlines import Timer
from domain.ladder import LadderPolicy, Stage, first_step, step_after, working_before

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(tz=TZ, makeup_days=frozenset({date(2026, 9, 27)}))
POLICY = LadderPolicy(remind_before=timedelta(hours=2), escalate_after=timedelta(hours=4))


def at(month, day, hour, minute=0):
    """A Shanghai moment in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def test_working_before_skips_lunch_nights_and_lands_on_whole_seconds() -> None:
    """Two working hours before 14:00 is 10:30 (lunch 12:00-13:30 does not count)."""
    assert working_before(CAL, at(9, 22, 14), timedelta(hours=2)) == at(9, 22, 10, 30)
    # Before Tuesday 10:00: one hour on Tuesday, one on Monday evening.
    assert working_before(CAL, at(9, 22, 10), timedelta(hours=2)) == at(9, 21, 17)
    # The start of a working day: the latest moment is the period's start itself.
    assert working_before(CAL, at(9, 22, 11), timedelta(hours=2)) == at(9, 22, 9)


def test_a_ladder_over_a_make_up_sunday() -> None:
    """Due Sunday 16:00 (a make-up working day): remind 14:00, chase 16:00, escalate Monday 11:00."""
    due = at(9, 27, 16)
    stage, fire = first_step(Timer.ACCEPT, due, at(9, 25, 16), CAL, POLICY)
    assert (stage, fire) == (Stage.REMIND, at(9, 27, 14))
    stage, fire = step_after(Timer.ACCEPT, stage, due, CAL, POLICY)
    assert (stage, fire) == (Stage.DUE, due)
    stage, fire = step_after(Timer.ACCEPT, stage, due, CAL, POLICY)
    assert (stage, fire) == (Stage.ESCALATE, at(9, 28, 11))
    assert step_after(Timer.ACCEPT, stage, due, CAL, POLICY) == (Stage.DONE, None)


def test_a_reminder_that_would_come_at_once_is_skipped() -> None:
    """A 30-minute urgent deadline has no time for a 2-hour reminder: the ladder starts at the deadline."""
    due = at(9, 22, 10, 30)
    assert first_step(Timer.ACCEPT, due, at(9, 22, 10), CAL, POLICY) == (Stage.DUE, due)


def test_feedback_and_follow_up_ladders() -> None:
    """Feedback: remind, then the deadline (auto-close). Follow-up: one step."""
    due = at(9, 30, 11)
    assert first_step(Timer.FEEDBACK, due, at(9, 25, 11), CAL, POLICY)[0] is Stage.REMIND
    assert step_after(Timer.FEEDBACK, Stage.DUE, due, CAL, POLICY) == (Stage.DONE, None)
    assert first_step(Timer.FOLLOWUP, due, at(9, 25, 11), CAL, POLICY) == (Stage.DUE, due)
