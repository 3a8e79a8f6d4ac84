"""Two bots on one database (two Storage instances, as two processes have): each timer step fires once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from domain.commands import NewAppeal
from domain.deadlines import Timer
from domain.ladder import Stage, template
from tests.storage.conftest import COURIER, MONDAY_10, open_storage, seen_by_another_connection

APPEALS = 60


async def test_two_bots_ticking_at_once_fire_each_due_step_once(database) -> None:
    """Both read the same due steps at the same moment; each step fires in one of them only."""
    first = await open_storage(database)
    second = await open_storage(database)
    try:
        for number in range(APPEALS):
            await first.appeals.submit(
                NewAppeal(courier_id=COURIER, category="work", description=f"Wages {number}", language="en"),
                None,
                MONDAY_10,
            )
        # Triage is due at 15:30 (working hours), its reminder at 13:30: at 14:00 the reminders alone are due.
        now = MONDAY_10 + timedelta(hours=4)
        fired = [
            step
            for steps in await asyncio.gather(first.timers.fire_due(now), second.timers.fire_due(now))
            for step in steps
        ]
        keys = [(step.appeal_id, step.timer, step.stage) for step in fired]
        assert len(keys) == len(set(keys)) == APPEALS
        assert {(timer, stage) for _, timer, stage in keys} == {(Timer.TRIAGE, Stage.REMIND)}
        reminders = seen_by_another_connection(
            database,
            f"SELECT appeal_id, count(*) FROM outbox WHERE template = '{template(Timer.TRIAGE, Stage.REMIND)}'"
            " GROUP BY appeal_id",
        )
        assert len(reminders) == APPEALS and {count for _, count in reminders} == {1}
        stages = seen_by_another_connection(
            database, "SELECT stage, count(*) FROM timers WHERE kind = 'triage' GROUP BY stage"
        )
        assert stages == [(Stage.DUE.value, APPEALS)]
        assert await asyncio.gather(first.timers.fire_due(now), second.timers.fire_due(now)) == [[], []]
    finally:
        await first.close()
        await second.close()
