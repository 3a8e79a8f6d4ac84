"""A generated week of appeals: the digest's figures agree with each other and with what happened."""

import random
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.lifecycle import Event
from domain.periods import digest_period
from handlers.digest import digest_parts
from tests.bot.test_simulated_weeks import Simulation
from tests.harness import running_bot

TZ = ZoneInfo("Asia/Shanghai")
COORDINATOR, HR = 900, 600
COURIERS = (1001, 1002, 1003)
# What happens to each generated appeal, and how many of each.
FATES = {
    "waits": 4,  # filed, never handled
    "accepted": 4,
    "satisfied": 5,
    "fairly": 3,
    "unsatisfied": 3,  # rated "not solved", left reopened
    "second_try": 4,  # rated "not solved", resolved again, then "satisfied"
    "withdrawn": 3,
    "untriaged": 3,  # no rule routes it
}


def generated_week(sim: Simulation, rng: random.Random, monday: datetime) -> dict[str, str]:
    """Plan the week's appeals with their fates (and two from the Sunday before); return name -> fate."""
    fates: dict[str, str] = {}
    names = [fate for fate, count in FATES.items() for _ in range(count)]
    rng.shuffle(names)
    for index, fate in enumerate(names):
        name = f"{fate}-{index}"
        fates[name] = fate
        # Filed Monday to Friday, 08:00-19:00, so everything that follows ends by Saturday.
        filed = monday + timedelta(days=rng.randrange(5), hours=rng.randrange(8, 19), minutes=rng.randrange(0, 60, 5))
        _plan(sim, name, fate, filed, COURIERS[index % len(COURIERS)])
    for index in range(2):  # filed before the week, resolved in it: resolved counts, new does not
        name = f"before-{index}"
        fates[name] = "satisfied"
        _plan(sim, name, "satisfied", monday - timedelta(hours=2 + index), COURIERS[index])
    return fates


def _plan(sim: Simulation, name: str, fate: str, filed: datetime, courier: int) -> None:
    sim.file(name, filed, category="suggestion" if fate == "untriaged" else "work", courier=courier)
    if fate in ("waits", "untriaged"):
        return
    if fate == "withdrawn":
        sim.act(name, filed + timedelta(minutes=30), Event.WITHDRAW, courier)
        return
    sim.act(name, filed + timedelta(minutes=20), Event.ACCEPT, HR)
    if fate == "accepted":
        return
    sim.act(name, filed + timedelta(hours=3), Event.RESOLVE, HR, "done in full")
    first = {"satisfied": Event.RATE_SATISFIED, "fairly": Event.RATE_FAIRLY_SATISFIED}.get(fate, Event.RATE_UNSATISFIED)
    sim.act(name, filed + timedelta(hours=4), first, courier, None if fate in ("satisfied", "fairly") else "not paid")
    if fate == "second_try":
        sim.act(name, filed + timedelta(hours=30), Event.RESOLVE, HR, "paid in full")
        sim.act(name, filed + timedelta(hours=31), Event.RATE_SATISFIED, courier)


def numbers(line: str) -> list[int]:
    """The counts after each name in a "By …: name 3, name 2" line."""
    return [int(n) for n in re.findall(r" (\d+)(?:,|$)", line.split(": ", 1)[1])]


@pytest.mark.parametrize("seed", [3, 14])
async def test_a_generated_weeks_digest_adds_up(tmp_path, seed: int) -> None:
    """By state, category and unit sum to the new appeals; the chart's days to new and resolved; ratings once each."""
    async with running_bot(tmp_path / "week.sqlite3") as bot:
        for person in (*COURIERS, HR, COORDINATOR):
            bot.user(person, f"P{person}")
            await bot.services.storage.people.seen(person, "en", bot.clock())
        sim = Simulation(bot)
        monday = datetime(2026, 11, 30, tzinfo=TZ)
        fates = generated_week(sim, random.Random(seed), monday)
        for when, _, action in sorted(sim.script, key=lambda item: item[:2]):
            bot.clock.now = when
            await action()
        bot.clock.now = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
        start, end = digest_period("weekly", bot.clock(), bot.services.zone)
        data = await bot.services.storage.reports.digest(start, end, bot.clock())
        text = "\n".join(
            p.text for p in await digest_parts(bot.services, "en", data, "digest.title_weekly") if p.photo is None
        )

    in_week = [name for name in fates if not name.startswith("before")]
    resolved = [name for name, fate in fates.items() if fate in ("satisfied", "fairly", "unsatisfied", "second_try")]
    rated_last = {name: fate for name, fate in fates.items() if name in resolved}
    # What happened, counted from the script.
    assert data.new == len(in_week)
    assert data.resolved == len(resolved)  # each appeal once, however often it was resolved
    assert data.counts.rated == len(rated_last)
    assert data.counts.satisfied == sum(f in ("satisfied", "second_try") for f in rated_last.values())
    assert data.counts.fairly_satisfied == FATES["fairly"]
    assert sorted(data.reopened) == sorted(
        sim.numbers[n] for n, f in fates.items() if f in ("unsatisfied", "second_try")
    )
    # The figures agree with each other.
    assert sum(data.by_state.values()) == sum(data.by_category.values()) == sum(data.by_unit.values()) == data.new
    assert [day.date() for day, _, _ in data.per_day] == [(monday + timedelta(days=d)).date() for d in range(7)]
    assert sum(new for _, new, _ in data.per_day) == data.new
    assert sum(done for _, _, done in data.per_day) == data.resolved
    assert data.counts.solved <= data.counts.asked <= data.closed
    assert data.counts.satisfied + data.counts.fairly_satisfied <= data.counts.rated
    # ... and the text shows those same numbers.
    flow = re.search(r"New (\d+) · accepted (\d+) · resolved (\d+) · closed (\d+) · redone (\d+)", text)
    assert [int(n) for n in flow.groups()] == [data.new, data.accepted, data.resolved, data.closed, len(data.reopened)]
    for title in ("By state", "By category", "By unit"):
        (line,) = [line for line in text.splitlines() if line.startswith(title)]
        assert sum(numbers(line)) == data.new, line
        if title == "By unit":
            assert f"no unit {FATES['untriaged']}" in line  # by name, not "-"
    part, whole = map(int, re.search(r"Satisfaction rate .*: (\d+)/(\d+)\)", text).groups())
    assert (part, whole) == (data.counts.satisfied + data.counts.fairly_satisfied, data.counts.rated)
