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


def _working_before_by_search(calendar: WorkingCalendar, due: datetime, work: timedelta) -> datetime:
    """The definition, searched second by second (the implementation before calendar.subtract)."""
    enough = lambda t: calendar.working_time_between(t, due) >= work  # noqa: E731
    high = due.replace(microsecond=0)
    span = max(work, timedelta(seconds=1))
    while not enough(high - span):
        span *= 2
    low = high - span
    lo, hi = 0, int(span.total_seconds())
    while lo < hi:
        middle = (lo + hi + 1) // 2
        if enough(low + timedelta(seconds=middle)):
            lo = middle
        else:
            hi = middle - 1
    return low + timedelta(seconds=lo)


def test_working_before_matches_the_search_it_replaced() -> None:
    """Walking the calendar backwards lands on the same second as searching every second would."""
    import random

    calendars = [
        CAL,
        WorkingCalendar(tz=TZ, holidays=frozenset({date(2026, 10, d) for d in range(1, 8)})),
        # Clocks change here (29 March and 25 October 2026), and a period runs to midnight.
        WorkingCalendar(tz=ZoneInfo("Europe/Berlin"), periods=((0, 90), (600, 1440)), rest_weekdays=frozenset({6})),
    ]
    works = [
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=4),
        timedelta(hours=7, minutes=30),
        timedelta(hours=23),
        timedelta(0),
    ]
    rnd = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=TZ)
    for _ in range(600):
        calendar = rnd.choice(calendars)
        due = start + timedelta(seconds=rnd.randrange(365 * 86400), microseconds=rnd.choice((0, 250_000)))
        work = rnd.choice(works)
        assert working_before(calendar, due, work) == _working_before_by_search(calendar, due, work), (due, work)
