"""The outbox sender under Telegram's faults and limits: nothing lost, nothing sent twice but by design."""

import re
from collections import Counter
from itertools import pairwise

import pytest

from domain.commands import NewAppeal
from handlers.notices import render
from sandbox.core import ApiError
from sandbox.html_entities import parse_html
from tests.harness import running_bot
from tests.helpers import submit_appeal

COURIER, HR_STAFF, COORDINATOR = 1001, 600, 900


@pytest.fixture
async def bot(tmp_path):
    """A bot whose HR worker and coordinator have opened the chat in English."""
    async with running_bot(tmp_path / "outbox.sqlite3") as running:
        await running.start(COURIER, HR_STAFF, COORDINATOR)
        yield running


async def outbox_rows(bot) -> list[tuple[int, str, str, int, str | None]]:
    """(chat, template, status, attempts, last error) of every row."""
    rows = await bot.services.storage.db.fetchall(
        "SELECT chat_id, template, status, attempts, last_error FROM outbox ORDER BY id"
    )
    return [tuple(r) for r in rows]


def copies(bot, chat: int, fragment: str) -> int:
    """How many of the bot's messages in `chat` contain `fragment`."""
    return sum(fragment in (m.get("text") or "") for m in bot.core.bot_messages(chat))


async def test_flood_control_waits_and_then_delivers_once(bot) -> None:
    """A 429 pauses all sending for retry_after; the message goes later, exactly once."""
    bot.core.fail_next("sendMessage", ApiError.too_many_requests(3))
    number = await submit_appeal(bot, COURIER)
    await bot.tick()
    assert copies(bot, HR_STAFF, f"#{number}") == 0
    (row,) = [r for r in await outbox_rows(bot) if r[0] == HR_STAFF]
    assert row[2:] == ("pending", 0, "flood control (429)")
    bot.clock.advance(seconds=2)
    await bot.tick()
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 0  # not before retry_after
    bot.clock.advance(seconds=1)
    await bot.tick()
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 1
    assert bot.pacer_time.slept and max(bot.pacer_time.slept) >= 3 - 1e-9
    await bot.tick()
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 1


async def test_network_errors_back_off_then_deliver(bot) -> None:
    """5xx and timeouts are retried after 5 s, 10 s, ...; the message arrives once."""
    bot.core.fail_next("sendMessage", ApiError(502, "Bad Gateway"), times=2)
    await submit_appeal(bot, COURIER)
    await bot.tick()
    bot.clock.advance(seconds=5)
    await bot.tick()  # second failure: next try in 10 s
    (row,) = [r for r in await outbox_rows(bot) if r[0] == HR_STAFF]
    assert row[2:4] == ("pending", 2)
    bot.clock.advance(seconds=9)
    await bot.tick()
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 0
    bot.clock.advance(seconds=1)
    await bot.tick()
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 1
    assert [r[2] for r in await outbox_rows(bot)] == ["sent"]


async def test_a_blocked_person_is_dead_lettered_and_coordinators_are_told(bot) -> None:
    """A 403 gives the message up with the reason, marks the person unreachable, and alerts coordinators once."""
    bot.core.block(HR_STAFF)
    await submit_appeal(bot, COURIER)
    await bot.tick()
    (row,) = [r for r in await outbox_rows(bot) if r[0] == HR_STAFF]
    assert row[2] == "dead" and row[4].startswith("forbidden:")
    assert (await bot.services.storage.people.get(HR_STAFF)).reachable is False
    assert copies(bot, COORDINATOR, f"Messages no longer reach person {HR_STAFF}") == 1
    bot.core.unblock(HR_STAFF)
    await bot.say(HR_STAFF, "/start")  # writing again makes them reachable
    assert (await bot.services.storage.people.get(HR_STAFF)).reachable is True


async def test_a_rejected_message_is_dead_lettered_with_the_reason(bot) -> None:
    """A 400 will not get better by retrying: it is kept, dead, with Telegram's words."""
    bot.core.fail_next("sendMessage", ApiError(400, "Bad Request: chat not found"))
    await submit_appeal(bot, COURIER)
    await bot.tick()
    (row,) = [r for r in await outbox_rows(bot) if r[0] == HR_STAFF]
    assert row[2] == "dead" and "Chat not found" in row[4]
    dead = await bot.services.storage.outbox.dead_letters()
    assert [(m.chat_id, reason) for m, reason in dead] == [(HR_STAFF, row[4])]
    (listing,) = await bot.say(COORDINATOR, "/undelivered")
    assert f"to {HR_STAFF}, appeal #1: rejected: Chat not found" in listing["text"]
    (refused,) = await bot.say(HR_STAFF, "/undelivered")
    assert refused["text"] == bot.services.text("en", "coord.not_coordinator")


async def test_a_crash_between_sending_and_marking_sends_again(bot, monkeypatch) -> None:
    """At least once: if the process dies after Telegram took the message, it is sent again, never lost."""
    outbox = bot.services.storage.outbox
    real_mark_sent = outbox.mark_sent

    async def die(accepted, shown=()):
        raise SystemExit("killed between send and mark")

    monkeypatch.setattr(outbox, "mark_sent", die)
    await submit_appeal(bot, COURIER)
    with pytest.raises(SystemExit):
        await bot.tick()
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 1
    assert [r[2] for r in await outbox_rows(bot)] == ["pending"]
    monkeypatch.setattr(outbox, "mark_sent", real_mark_sent)
    await bot.tick()  # the restarted sender
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 2
    assert [r[2] for r in await outbox_rows(bot)] == ["sent"]
    await bot.tick()
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 2


async def test_pacing_holds_overall_per_chat_and_per_group(bot) -> None:
    """30 a second overall, 1 a second per chat, 20 a minute per group, with nothing dropped."""
    sender = bot.app.bot_data.sender
    pacer = sender._pacer
    log: list[tuple[int, float]] = []
    real_sent = pacer.sent

    def recording(chat_id: int) -> None:
        log.append((chat_id, bot.pacer_time.now))
        real_sent(chat_id)

    pacer.sent = recording
    group = -1001
    bot.core.add_group(group, "HR Bureau staff")
    people = list(range(5000, 5080))
    for person in people:
        bot.user(person, f"Courier {person}")
    now = bot.clock()
    for person in people:
        await bot.services.storage.outbox.add(person, "notice.unreachable.coordinators", now, {"person": 1})
    for _ in range(3):
        await bot.services.storage.outbox.add(COURIER, "notice.unreachable.coordinators", now, {"person": 2})
    for _ in range(25):
        await bot.services.storage.outbox.add(group, "notice.unreachable.coordinators", now, {"person": 3})
    await sender.flush()
    assert len(log) == 80 + 3 + 25
    times = [t for _, t in log]
    assert all(times[i + 30] - times[i] >= 1.0 - 1e-9 for i in range(len(times) - 30))
    courier = [t for chat, t in log if chat == COURIER]
    assert all(b - a >= 1.0 - 1e-9 for a, b in pairwise(courier))
    in_group = [t for chat, t in log if chat == group]
    assert all(in_group[i + 20] - in_group[i] >= 60.0 - 1e-9 for i in range(len(in_group) - 20))
    assert Counter(chat for chat, _ in log)[group] == 25
    assert len(bot.core.bot_messages(group)) == 25


async def test_a_timeout_is_retried_later(bot, monkeypatch) -> None:
    """A request that timed out is tried again after the backoff, and then arrives once."""
    from telegram.error import TimedOut

    sender = bot.app.bot_data.sender
    real_send = bot.app.bot.send_text
    calls = {"n": 0}

    async def slow_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise TimedOut("timed out")
        return await real_send(*args, **kwargs)

    monkeypatch.setattr(type(bot.app.bot), "send_text", lambda self, *a, **k: slow_once(*a, **k))
    await submit_appeal(bot, COURIER)
    await sender.flush()
    (row,) = [r for r in await outbox_rows(bot) if r[0] == HR_STAFF]
    assert row[2:] == ("pending", 1, "network: timed out")
    bot.clock.advance(seconds=5)
    await bot.tick()
    assert copies(bot, HR_STAFF, "New appeal for your unit: HR Bureau") == 1


async def test_a_units_notices_share_one_card_read_and_one_write_marking_them_sent(bot, monkeypatch) -> None:
    """A new appeal's notice to each worker of its unit: the same card as a fresh render, marked sent together."""
    workers = (500, 501)  # the staff of st1
    await bot.start(*workers)
    storage = bot.services.storage
    writes: list[list[int]] = []
    real_mark_sent = storage.outbox.mark_sent

    async def recording(accepted, shown=()):
        writes.append([message_id for message_id, _ in accepted])
        await real_mark_sent(accepted, shown)

    monkeypatch.setattr(storage.outbox, "mark_sent", recording)
    new = NewAppeal(courier_id=COURIER, category="facilities", description="The charger is broken", language="en")
    await storage.appeals.submit(new, "st1", bot.clock())
    pending = await storage.outbox.due(bot.clock())
    assert sorted(m.chat_id for m in pending) == sorted(workers)
    await bot.tick()
    assert writes == [[m.id for m in pending]]
    for message in pending:
        person = await storage.people.get(message.chat_id)
        text, _ = await render(bot.services, message, person)  # no memo: everything read afresh
        assert bot.core.last_message(message.chat_id)["text"] == parse_html(text)[0]


async def test_a_busy_chat_holds_no_other_chat_back(bot) -> None:
    """A unit's group with 300 notices queued (15 minutes of its 20 a minute): a courier's notice queued
    half a minute in goes out within two seconds of fake time; the group's own order is kept, and so
    are the overall and per-chat limits."""
    sender = bot.app.bot_data.sender
    pacer, storage = sender._pacer, bot.services.storage
    group = -1002
    bot.core.add_group(group, "Station One staff")
    for number in range(300):
        await storage.outbox.add(group, "notice.unreachable.coordinators", bot.clock(), {"person": 10_000 + number})
    log: list[tuple[int, float]] = []
    real_sent, real_sleep = pacer.sent, pacer.sleep
    queued_at: list[float] = []

    def recording(chat_id: int) -> None:
        log.append((chat_id, bot.pacer_time.now))
        real_sent(chat_id)

    async def sleep_and_queue(seconds: float) -> None:
        await real_sleep(seconds)
        if not queued_at and bot.pacer_time.now >= 30:  # the courier's notice arrives while the group waits
            await storage.outbox.add(COURIER, "notice.unreachable.coordinators", bot.clock(), {"person": 4})
            queued_at.append(bot.pacer_time.now)

    pacer.sent, pacer.sleep = recording, sleep_and_queue
    assert await sender.flush() == 301
    (courier_at,) = [t for chat, t in log if chat == COURIER]
    assert courier_at - queued_at[0] <= 2.0
    assert copies(bot, COURIER, f"person {4}") == 1
    in_group = [t for chat, t in log if chat == group]
    assert len(in_group) == 300 and all(in_group[i + 20] - in_group[i] >= 60.0 - 1e-9 for i in range(280))
    times = [t for _, t in log]
    assert all(times[i + 30] - times[i] >= 1.0 - 1e-9 for i in range(len(times) - 30))
    assert [re.search(r"\d{5}", text)[0] for text in bot.texts(group)] == [str(10_000 + n) for n in range(300)]
