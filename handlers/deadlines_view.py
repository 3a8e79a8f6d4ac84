"""The one deadline a person is shown for an appeal, and how it reads, wherever the appeal appears.

The receipt, /my, the appeal's page, the staff card and the notices all call `deadline_line`, so one
appeal never shows two different "next deadlines".
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.deadlines import Timer
from domain.lifecycle import State
from handlers.services import Services
from storage.models import Appeal, TimerRow

# Deadlines someone must meet, in the order they come up. The follow-up is the bot's own check
# after closing, not anyone's deadline.
SHOWN = (Timer.TRIAGE, Timer.ACCEPT, Timer.HANDLE, Timer.FEEDBACK)


def next_deadline(appeal: Appeal, timers: Iterable[TimerRow]) -> TimerRow | None:
    """The deadline to show for `appeal`: the earliest running one; none once it is closed.

    A paused answer deadline (the unit waits for the courier) has no time to show until it runs again.
    """
    if appeal.state in (State.CLOSED, State.COLLECTING):
        return None
    running = [t for t in timers if t.kind in SHOWN and t.due_at is not None]
    return min(running, key=lambda t: t.due_at) if running else None


def deadline_line(services: Services, appeal: Appeal, timers: Iterable[TimerRow], lang: str) -> str | None:
    """What the next deadline is for and when, in the district's time ("an answer is due by …"), or None."""
    due = next_deadline(appeal, timers)
    if due is None:
        return None
    line = services.text(lang, f"deadline.{due.kind}", when=services.local(due.due_at, lang))
    return line + services.text(lang, "deadline.overdue") if due.due_at < services.clock() else line


async def appeal_deadline_line(services: Services, appeal: Appeal, lang: str) -> str | None:
    """`deadline_line` for an appeal whose timers the caller has not read yet."""
    return deadline_line(services, appeal, await services.storage.appeals.timers(appeal.id), lang)
