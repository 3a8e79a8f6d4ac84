"""Three simulated weeks on the working calendar: every ladder step, auto-close, follow-up and digest, once.

The calendar has weekends, the 2026 National Day holiday and two make-up working days. The bot's
own repeating job (`tick`) runs every five simulated minutes; couriers and units act at set times.
Expected times below were worked out by hand from the working hours 09:00-12:00 and 13:30-18:00.
"""

import random
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event, Outcome
from storage.models import from_ts
from tests.harness import running_bot

TZ = ZoneInfo("Asia/Shanghai")
COORDINATOR, HR = 900, 600
STEP = timedelta(minutes=5)
# A calendar of its own, worked out by hand before the official one came in (official_calendar = false):
# only weekends and these days.
CALENDAR = {
    "official_calendar": False,
    "holidays": [date(2026, 10, d) for d in (1, 2, 5, 6, 7)],
    "makeup_days": [date(2026, 9, 27), date(2026, 10, 10)],
}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai moment in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


class Simulation:
    """The bot, a script of what people do and when, and a clock that only moves forward."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self.script: list[tuple[datetime, int, object]] = []
        self.numbers: dict[str, int] = {}

    def plan(self, moment: datetime, action) -> None:
        """Do `action()` at `moment`."""
        self.script.append((moment, len(self.script), action))

    def file(self, name: str, moment: datetime, category: str = "work", courier: int = 1001) -> None:
        """A courier files an appeal (routed to HR when the category is work)."""

        async def action():
            unit = "hr" if category == "work" else None
            new = NewAppeal(courier_id=courier, category=category, description=f"appeal {name}", language="en")
            applied = await self.bot.services.storage.appeals.submit(new, unit, self.bot.clock())
            self.numbers[name] = applied.appeal.id

        self.plan(moment, action)

    def act(self, name: str, moment: datetime, event: Event, actor: int, note: str | None = None) -> None:
        """Someone fires an event on a filed appeal."""

        async def action():
            await self.bot.services.storage.appeals.apply(
                ActOnAppeal(self.numbers[name], event, actor, EventArgs(note=note)), self.bot.clock()
            )

        self.plan(moment, action)

    async def run(self, start: datetime, end: datetime) -> None:
        """Advance five minutes at a time, doing what is scripted, then what the bot's job does."""
        self.bot.clock.now = start
        script = sorted(self.script, key=lambda item: item[:2])
        moment = start
        while moment <= end:
            while script and script[0][0] <= moment:
                when, _, action = script.pop(0)
                self.bot.clock.now = when
                await action()
            self.bot.clock.now = moment
            await self.bot.tick()
            moment += STEP


async def fired(bot, template: str) -> list[tuple[int | None, int, datetime]]:
    """(appeal, recipient, time queued) of every outbox row of `template`."""
    rows = await bot.services.storage.db.fetchall(
        "SELECT appeal_id, chat_id, created_at FROM outbox WHERE template = ? ORDER BY id", (template,)
    )
    return [(r[0], r[1], from_ts(r[2])) for r in rows]


def once_at(rows, appeal: int, expected: datetime) -> None:
    """Exactly one row for `appeal`, queued within one tick after `expected`."""
    mine = [when for number, _, when in rows if number == appeal]
    assert len(mine) == 1, (appeal, mine)
    assert expected <= mine[0] < expected + STEP, (appeal, mine[0], expected)


@pytest.fixture
async def simulation(tmp_path):
    """A district on the 2026 calendar: HR (worker 600) gets work appeals; coordinator 900."""
    async with running_bot(tmp_path / "weeks.sqlite3", calendar=CALENDAR) as bot:
        for person in (1001, 1002, HR, COORDINATOR):
            bot.user(person, f"P{person}")
            await bot.services.storage.people.seen(person, "en", bot.clock())
            await bot.services.storage.people.set_language(person, "en")
        yield Simulation(bot)


async def test_three_weeks_of_ladders_auto_close_follow_ups_and_digests(simulation) -> None:
    sim, bot = simulation, simulation.bot
    E = Event
    # A: filed Friday 16:00 and never accepted. Acceptance due Sunday 9/27 16:00 (a make-up day).
    sim.file("A", at(9, 25, 16))
    # B: accepted and resolved on time; the courier never rates. Feedback due after the holiday,
    # on the make-up Saturday 10/10 at 11:00.
    sim.file("B", at(9, 28, 10))
    sim.act("B", at(9, 28, 10, 30), E.ACCEPT, HR)
    sim.act("B", at(9, 30, 11), E.RESOLVE, HR, "done in full")
    # C: resolved and rated within the hour; the follow-up check falls on the make-up Sunday.
    sim.file("C", at(9, 21, 9, 30))
    sim.act("C", at(9, 21, 9, 45), E.ACCEPT, HR)
    sim.act("C", at(9, 21, 10), E.RESOLVE, HR, "done in full")
    sim.act("C", at(9, 21, 10, 30), E.RATE_SATISFIED, 1001)
    # D: no rule routes a suggestion; nobody triages it.
    sim.file("D", at(9, 22, 17), category="suggestion", courier=1002)
    # E: the unit asks the courier, who answers a week later; the paused clock resumes after it.
    sim.file("E", at(9, 21, 9))
    sim.act("E", at(9, 21, 9, 10), E.ACCEPT, HR)
    sim.act("E", at(9, 21, 9, 20), E.ASK, HR, "which platform?")
    sim.act("E", at(9, 28, 10), E.ANSWER, 1001, "Meituan")
    sim.act("E", at(10, 8, 16), E.RESOLVE, HR, "paid in full")
    sim.act("E", at(10, 8, 16, 5), E.RATE_SATISFIED, 1001)
    # Twenty more, handled within the hour on Monday and Tuesday of the first week.
    rng = random.Random(7)
    background = []
    for index in range(20):
        name = f"bg{index}"
        start = at(9, 21 + index % 2, rng.choice((9, 10, 14, 15)), rng.choice((0, 15, 30)))
        sim.file(name, start)
        sim.act(name, start + timedelta(minutes=10), E.ACCEPT, HR)
        sim.act(name, start + timedelta(minutes=40), E.RESOLVE, HR, "fixed the charger")
        sim.act(name, start + timedelta(minutes=50), E.RATE_FAIRLY_SATISFIED, 1001)
        background.append((name, start + timedelta(minutes=50)))

    await sim.run(at(9, 21, 0), at(10, 12, 12))
    n = sim.numbers

    remind, due, escalate = [await fired(bot, f"ladder.accept.{s}") for s in ("remind", "due", "escalate")]
    assert [r[0] for r in remind + due + escalate] == [n["A"]] * 3
    once_at(remind, n["A"], at(9, 27, 14))
    once_at(due, n["A"], at(9, 27, 16))
    once_at(escalate, n["A"], at(9, 28, 11))
    assert [r[1] for r in remind + due] == [HR, HR] and escalate[0][1] == COORDINATOR

    remind, due, escalate = [await fired(bot, f"ladder.handle.{s}") for s in ("remind", "due", "escalate")]
    assert sorted(r[0] for r in remind) == sorted([n["A"], n["E"]])
    once_at(remind, n["A"], at(9, 29, 14))
    once_at(due, n["A"], at(9, 29, 16))
    once_at(escalate, n["A"], at(9, 30, 11))
    # E: 22 h 10 min of handling time were left at the question; resumed Monday 9/28 10:00, across
    # the holiday, that ends Thursday 10/8 09:40.
    once_at(remind, n["E"], at(9, 30, 16, 40))
    once_at(due, n["E"], at(10, 8, 9, 40))
    once_at(escalate, n["E"], at(10, 8, 15, 10))

    remind, due, escalate = [await fired(bot, f"ladder.triage.{s}") for s in ("remind", "due", "escalate")]
    once_at(remind, n["D"], at(9, 23, 10))
    once_at(due, n["D"], at(9, 23, 12))
    once_at(escalate, n["D"], at(9, 23, 17, 30))

    feedback = await fired(bot, "ladder.feedback.remind")
    assert [r[0] for r in feedback] == [n["B"]]
    once_at(feedback, n["B"], at(10, 10, 9))
    b = await bot.services.storage.appeals.get(n["B"])
    assert b.outcome is Outcome.AUTO_CLOSED
    (closing,) = [e for e in await bot.services.storage.appeals.ledger(n["B"]) if e.event is Event.AUTO_CLOSE]
    assert at(10, 10, 11) <= closing.at < at(10, 10, 11) + STEP
    assert len(await fired(bot, "notice.auto_close.courier")) == 1

    followups = await fired(bot, "ladder.followup.due")
    once_at(followups, n["C"], at(9, 27, 10, 30))
    calendar = bot.config.working_calendar()
    for name, closed in background:
        once_at(followups, n[name], calendar.add_working_days(closed, 5))
    assert len(followups) == 1 + len(background)

    daily, weekly = await fired(bot, "digest.daily"), await fired(bot, "digest.weekly")
    assert [when.astimezone(TZ) for _, _, when in daily] == [at(9, 21, 18) + timedelta(days=d) for d in range(21)]
    assert [when.astimezone(TZ) for _, _, when in weekly] == [at(9, 21, 9), at(9, 28, 9), at(10, 5, 9), at(10, 12, 9)]
    assert {chat for _, chat, _ in daily + weekly} == {COORDINATOR}

    # Everything queued was delivered, once.
    statuses = Counter(r[0] for r in await bot.services.storage.db.fetchall("SELECT status FROM outbox"))
    assert set(statuses) == {"sent"}
    assert sum(f"Chase-up (催办): appeal #{n['A']}" in m.get("text", "") for m in bot.core.bot_messages(HR)) == 2


async def test_timers_that_fell_due_while_the_bot_was_down_fire_once(tmp_path) -> None:
    """Stop the bot, let a deadline pass, start it again: the missed steps fire once, not zero or twice."""
    path = tmp_path / "restart.sqlite3"
    async with running_bot(path, calendar=CALENDAR) as bot:
        bot.clock.now = at(9, 21, 9)
        await bot.services.storage.people.seen(1001, "en", bot.clock())
        new = NewAppeal(courier_id=1001, category="work", description="wages", language="en")
        number = (await bot.services.storage.appeals.submit(new, "hr", bot.clock())).appeal.id
        await bot.tick()
    # Down from Monday 09:00 to Wednesday 12:00: acceptance was due Monday 18:00 (one working day
    # of 7.5 h), so the reminder (Mon 16:00), the chase-up (Mon 18:00) and the escalation
    # (Tue 14:30) all fell due meanwhile. Two restarts, two ticks each.
    for _ in range(2):
        async with running_bot(path, calendar=CALENDAR) as bot:
            bot.clock.now = at(9, 23, 12)
            await bot.tick()
            await bot.tick()
    async with running_bot(path, calendar=CALENDAR) as bot:
        for stage in ("remind", "due", "escalate"):
            rows = await fired(bot, f"ladder.accept.{stage}")
            assert [r[0] for r in rows] == [number], stage
        timers = {t.kind: t for t in await bot.services.storage.appeals.timers(number)}
        assert timers["accept"].due_at == at(9, 21, 18)
