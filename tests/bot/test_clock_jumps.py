"""A wall clock that jumps forward and back: digests keep coming on the district's calendar, notices
written "in the future" are not held back, and no duration reads below zero."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.commands import ActOnAppeal, EventArgs, NewAppeal
from domain.lifecycle import Event
from handlers.digest import digest_parts
from sandbox.core import ApiError
from tests.harness import START, running_bot

TZ = ZoneInfo("Asia/Shanghai")
COORDINATOR, HR, COURIER, OTHER = 900, 600, 1001, 1002


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "clock.sqlite3") as running:
        await running.start(COORDINATOR, HR, COURIER, OTHER)
        yield running


def evening(day: int) -> datetime:
    """18:01 on `day` November 2026, just after the daily digest's slot."""
    return datetime(2026, 11, day, 18, 1, tzinfo=TZ)


async def jump(bot, moment: datetime) -> None:
    """Set the wall clock to `moment`, forward or back, and let the bot do what is due."""
    bot.clock.now = moment
    await bot.tick()


def daily_digests(bot) -> list[str]:
    """The first line of every daily digest the coordinator has had, in order."""
    return [t.splitlines()[0] for t in bot.texts(COORDINATOR) if t.startswith("Daily digest")]


async def test_digests_keep_coming_after_the_clock_jumps_ahead_and_back(bot) -> None:
    """+3 days, then -2: the days the clock skipped get their digest when they come round, once each."""
    await bot.tick()  # the first slot a database sees is only recorded
    await jump(bot, evening(24))
    assert daily_digests(bot) == ["Daily digest: Mon 23 Nov"]
    await jump(bot, evening(27))  # three days ahead
    assert daily_digests(bot)[-1] == "Daily digest: Thu 26 Nov"
    await jump(bot, evening(25))  # two days back
    assert daily_digests(bot)[-1] == "Daily digest: Tue 24 Nov"
    await jump(bot, evening(25) + timedelta(minutes=5))
    await jump(bot, evening(26))
    await jump(bot, evening(27))  # Friday's was sent before the clock went back: not again
    await jump(bot, evening(28))
    assert daily_digests(bot) == [
        "Daily digest: Mon 23 Nov",
        "Daily digest: Thu 26 Nov",
        "Daily digest: Tue 24 Nov",
        "Daily digest: Wed 25 Nov",
        "Daily digest: Fri 27 Nov",
    ]


async def test_the_weekly_digest_survives_a_jump_back_over_its_slot(bot) -> None:
    """Monday's weekly digest, sent on a clock a week ahead, still comes on the real Monday."""
    await bot.tick()
    await jump(bot, datetime(2026, 12, 7, 9, 1, tzinfo=TZ))  # a week and more ahead
    await jump(bot, datetime(2026, 11, 30, 9, 1, tzinfo=TZ))  # back to the Monday before it
    weekly = [t.splitlines()[0] for t in bot.texts(COORDINATOR) if t.startswith("Weekly digest")]
    assert weekly == ["Weekly digest: Mon 30 Nov – Sun 6 Dec", "Weekly digest: Mon 23 Nov – Sun 29 Nov"]


async def test_a_notice_written_on_a_clock_ahead_is_not_held_back(bot) -> None:
    """A retry paused five seconds on a clock three days ahead goes out when the clock comes back,
    not three days later."""
    bot.clock.now = START + timedelta(days=3)
    new = NewAppeal(courier_id=COURIER, category="work", description="Wages unpaid", language="en")
    bot.core.fail_next("sendMessage", ApiError(502, "Bad Gateway"))
    number = (await bot.services.storage.appeals.submit(new, "hr", bot.clock())).appeal.id
    await bot.app.bot_data.sender.flush()
    card = bot.services.text("en", "notice.assign.unit", unit="HR Bureau")
    assert not any(card in t for t in bot.texts(HR))
    await jump(bot, START + timedelta(days=1))
    assert any(t.startswith(card) and f"#{number}" in t for t in bot.texts(HR))


async def test_no_duration_reads_below_zero(bot) -> None:
    """An appeal filed on a clock two days ahead and handled after it came back counts as zero, not
    minus two days: the averages are those of the other appeal, halved."""
    storage = bot.services.storage
    ahead = START + timedelta(days=2)
    jumped = (
        await storage.appeals.submit(
            NewAppeal(courier_id=COURIER, category="work", description="x", language="en"), "hr", ahead
        )
    ).appeal.id
    normal = (
        await storage.appeals.submit(
            NewAppeal(courier_id=OTHER, category="work", description="y", language="en"), "hr", START
        )
    ).appeal.id
    await storage.appeals.apply(ActOnAppeal(jumped, Event.ACCEPT, HR), START + timedelta(minutes=5))
    await storage.appeals.apply(ActOnAppeal(normal, Event.ACCEPT, HR), START + timedelta(hours=1))
    await storage.appeals.apply(
        ActOnAppeal(jumped, Event.RESOLVE, HR, EventArgs(note="paid in full")), START + timedelta(hours=2)
    )
    await storage.appeals.apply(
        ActOnAppeal(normal, Event.RESOLVE, HR, EventArgs(note="paid in full")), START + timedelta(hours=3)
    )
    data = await storage.reports.digest(START - timedelta(days=1), START + timedelta(days=3), START + timedelta(days=3))
    assert (data.avg_accept, data.avg_resolve) == (timedelta(minutes=30), timedelta(hours=1, minutes=30))
    parts = await digest_parts(bot.services, "en", data, "digest.title_weekly")
    text = "\n".join(part.text for part in parts if part.photo is None)
    assert "Average time to accept 30 min; to resolve 1 h 30 min" in text
