"""Outreach (issue 18): who hears what, the outbox's outreach lane, and a coordinator's notice, through the real bot."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers import callbacks
from handlers.callbacks import Family, LinkVerb, NoticeVerb, OutreachVerb
from storage.outreach import TOPICS, Area
from tests.harness import running_bot
from tests.helpers import press_data, submit_appeal

COURIER, HR_STAFF, COORDINATOR = 1001, 600, 900
OTHERS = [1101, 1102, 1103, 1104]


@pytest.fixture
async def bot(tmp_path):
    """A bot whose courier, HR worker and coordinator have opened the chat in English."""
    async with running_bot(tmp_path / "outreach.sqlite3") as running:
        await running.start(COURIER, HR_STAFF, COORDINATOR)
        yield running


def t(bot, key: str, lang: str = "en", **values: object) -> str:
    return bot.services.text(lang, key, **values)


async def opt_in(bot, *people: int, topics=TOPICS) -> None:
    for person in people:
        await bot.services.storage.outreach.choose(person, topics, True, bot.clock())


async def notice_to(bot, recipients: list[int], text: str = "Free clinic on Saturday") -> int:
    outreach = bot.services.storage.outreach
    notice = await outreach.add_notice(text, bot.clock())
    return await outreach.broadcast(
        kind="notice", ref=str(notice), topic="notices", recipients=recipients, now=bot.clock()
    )


def received(bot, person: int, fragment: str = "Free clinic on Saturday") -> int:
    return sum(fragment in text for text in bot.texts(person))


async def close_by_rating(bot, courier: int) -> int:
    number = await submit_appeal(bot, courier)
    await bot.tick()
    await bot.press(HR_STAFF, "Accept")
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid in full on Friday")
    await bot.press(HR_STAFF, "Confirm resolve")
    await bot.press(courier, "Satisfied")
    return number


# ---------------------------------------------------------------------------- opt-in


async def test_asked_once_after_the_first_appeal_is_settled(bot) -> None:
    """Ten minutes after the first rated appeal the courier is asked, once; "Yes" turns every topic on."""
    await close_by_rating(bot, COURIER)
    assert received(bot, COURIER, t(bot, "outreach.ask")) == 0  # not over the rating's thanks
    bot.clock.advance(minutes=10)
    await bot.tick()
    assert bot.last_text(COURIER) == t(bot, "outreach.ask")
    await bot.press(COURIER, t(bot, "outreach.yes_all"))
    assert bot.last_text(COURIER) == t(bot, "outreach.yes_done")
    assert await bot.services.storage.outreach.choices(COURIER) == dict.fromkeys(TOPICS, True)
    await close_by_rating(bot, COURIER)  # a second appeal settled: never asked again
    bot.clock.advance(hours=1)
    await bot.tick()
    asked = await bot.services.storage.db.fetchall("SELECT status FROM outbox WHERE template = 'outreach.ask'")
    assert [r[0] for r in asked] == ["sent"]
    assert received(bot, COURIER, t(bot, "outreach.ask")) == 0  # the one question became the answer


async def test_nothing_reaches_a_courier_who_never_said_yes(bot) -> None:
    """Off by default: an audience holds only those who opted in; a row for someone else is given up unsent."""
    await bot.start(OTHERS[0])
    await opt_in(bot, OTHERS[0])
    assert await bot.services.storage.outreach.audience("notices") == [OTHERS[0]]
    send = await notice_to(bot, [COURIER, OTHERS[0]])
    await bot.tick()
    assert received(bot, COURIER) == 0
    assert received(bot, OTHERS[0]) == 1
    counts = await bot.services.storage.outreach.send(send)
    assert (counts.audience, counts.sent, counts.stopped, counts.pending) == (2, 1, 1, 0)


async def test_settings_toggles_and_stop_under_a_message(bot) -> None:
    """Settings from the menu turns topics on one by one; Stop under a notice turns its topic off at once."""
    await bot.say(COURIER, "Settings")
    assert bot.last_text(COURIER).startswith(t(bot, "outreach.settings_title"))
    await bot.press(COURIER, f"⬜ {t(bot, 'outreach.topic_notices')}")
    assert f"✅ {t(bot, 'outreach.topic_notices')}" in bot.last_text(COURIER)
    assert await bot.services.storage.outreach.choices(COURIER) == {
        "surveys": False,
        "activities": False,
        "notices": True,
    }
    await notice_to(bot, await bot.services.storage.outreach.audience("notices"))
    await bot.tick()
    assert received(bot, COURIER) == 1
    notice = bot.core.bot_messages(COURIER)[-1]["message_id"]
    query = await bot.press(COURIER, t(bot, "outreach.stop"))
    answer = bot.core.answered_callback(query)
    assert answer["text"] == t(bot, "outreach.stopped", topic=t(bot, "outreach.topic_notices"))
    assert await bot.services.storage.outreach.audience("notices") == []
    # Done, so the Stop leaves the notice (its text stays).
    (shown,) = [m for m in bot.core.bot_messages(COURIER) if m["message_id"] == notice]
    assert bot.core.inline_buttons(shown) == [] and "Free clinic on Saturday" in shown["text"]
    await notice_to(bot, [COURIER], "Second notice")
    await bot.tick()
    assert received(bot, COURIER, "Second notice") == 0


async def test_blocked_and_erased_people_hear_nothing(bot) -> None:
    """A courier who blocked the bot is counted blocked (no alert to coordinators); erasure forgets the choice."""
    await bot.start(*OTHERS[:2])
    await opt_in(bot, COURIER, *OTHERS[:2])
    bot.core.block(OTHERS[0])
    send = await notice_to(bot, [COURIER, *OTHERS[:2]])
    await bot.tick()
    counts = await bot.services.storage.outreach.send(send)
    assert (counts.sent, counts.blocked, counts.pending) == (2, 1, 0)
    assert not any("reach" in text.lower() for text in bot.texts(COORDINATOR)[1:])
    assert OTHERS[0] not in await bot.services.storage.outreach.audience("notices")
    # Erased: the choice and the outreach rows naming the person go.
    queued = await notice_to(bot, [OTHERS[1]], "Queued before erasure")
    await bot.services.storage.privacy.erase(OTHERS[1], bot.clock())
    assert await bot.services.storage.outreach.choices(OTHERS[1]) is None
    rows = await bot.services.storage.db.fetchall("SELECT 1 FROM outbox WHERE chat_id = ?", (OTHERS[1],))
    assert rows == []
    # The send counts the erased person as stopped, so it does not wait for them for ever.
    counts = await bot.services.storage.outreach.send(queued)
    assert (counts.audience, counts.stopped, counts.pending) == (1, 1, 0)
    assert OTHERS[1] not in await bot.services.storage.outreach.audience("notices")


async def test_audiences_by_language_and_area(bot) -> None:
    """Language narrows by the reader's language; area by the stations they filed at or their last location."""
    zh, en, far = OTHERS[:3]
    bot.user(zh, language_code="zh")
    bot.user(en)
    bot.user(far)
    for person in (zh, en, far):
        await bot.say(person, "/start")
    await opt_in(bot, zh, en, far)
    storage = bot.services.storage
    await storage.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO stations (id, name, lat, lon, grade, unit_id) VALUES (?, ?, ?, ?, 'A', ?)",
            [
                ("s1", "One", 31.230, 121.470, "st1"),
                ("s2", "Two", 31.235, 121.475, None),
                ("s9", "Far", 31.9, 121.9, None),
            ],
        )
    )
    await submit_appeal(bot, zh, station_id="s2")  # filed at a station 700 m from s1
    await submit_appeal(bot, far, station_id="s9")
    await storage.db.write(
        lambda conn: conn.execute(
            "INSERT INTO last_locations (telegram_id, lat, lon, at) VALUES (?, 31.231, 121.471, 0)", (en,)
        )
    )
    assert await storage.outreach.audience("notices", language="zh") == [zh]
    assert await storage.outreach.audience("notices", language="en") == [en, far]
    assert await storage.outreach.audience("notices", near=Area("unit", "st1")) == [zh, en]
    assert await storage.outreach.audience("notices", near=Area("station", "s9")) == [far]
    assert await storage.outreach.audience("notices", language="en", near=Area("station", "s1")) == [en]


# ---------------------------------------------------------------------------- the outbox's outreach lane


async def test_quiet_hours_hold_outreach_until_they_end(bot) -> None:
    """Due at 21:30 district time, a notice waits until 08:00; an appeal notice still goes at once."""
    await opt_in(bot, COURIER)
    await bot.at(bot.clock.now.replace(hour=21, minute=30))
    await notice_to(bot, [COURIER])
    number = await submit_appeal(bot, COURIER)
    await bot.tick()
    assert received(bot, COURIER) == 0
    assert any(f"#{number}" in text for text in bot.texts(HR_STAFF))
    await bot.at(bot.clock.now.replace(hour=7, minute=59) + timedelta(days=1))
    assert received(bot, COURIER) == 0
    await bot.at(bot.clock.now.replace(hour=8, minute=0))
    assert received(bot, COURIER) == 1


async def test_an_appeal_notice_goes_before_a_waiting_broadcast(bot) -> None:
    """With 90 outreach messages due, a new appeal's notice to its unit goes in the first round, before most."""
    people = [5000 + i for i in range(90)]
    await bot.start(*people)
    await opt_in(bot, *people)
    await notice_to(bot, people)
    order: list[int] = []
    unsubscribe = bot.core.subscribe(lambda chat: order.append(chat))
    number = await submit_appeal(bot, COURIER)
    await bot.tick()
    unsubscribe()
    first_hr = next(i for i, chat in enumerate(order) if chat == HR_STAFF)
    assert first_hr == 0, order[:5]
    assert any(f"#{number}" in text for text in bot.texts(HR_STAFF))
    assert all(received(bot, person) == 1 for person in people)


async def test_delivery_counts_shown_to_the_coordinator(bot) -> None:
    """/outreach lists each send with sent, undelivered, blocked, stopped and waiting."""
    await bot.start(*OTHERS[:3])
    await opt_in(bot, *OTHERS[:3])
    bot.core.block(OTHERS[2])
    send = await notice_to(bot, [*OTHERS[:3], COURIER])
    await bot.tick()
    await bot.say(COORDINATOR, "/outreach")
    counts = await bot.services.storage.outreach.send(send)
    line = t(
        bot,
        "outreach.send_line",
        send=send,
        kind="Notice",
        ref=counts.ref + t(bot, "sending2.subject", name="Free clinic on Saturday"),
        at=bot.services.local(bot.clock(), "en"),
        audience=4,
        sent=2,
        dead=0,
        blocked=1,
        stopped=1,
        pending=0,
    )
    assert line in bot.last_text(COORDINATOR)


# ---------------------------------------------------------------------------- the notice dialog


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_notice_dialog_preview_confirm_and_delivery(tmp_path, lang) -> None:
    """Text, photo, button, audience, a preview as couriers see it, the reach and time, then Send."""
    async with running_bot(tmp_path / "notice.sqlite3") as bot:
        bot.user(COORDINATOR, language_code=lang)
        await bot.say(COORDINATOR, "/start")
        for person in OTHERS[:2]:
            bot.user(person, language_code=lang)
            await bot.say(person, "/start")
        await opt_in(bot, *OTHERS[:2])
        await bot.say(COORDINATOR, "/notice")
        assert bot.last_text(COORDINATOR) == t(bot, "outreach.ask_text", lang, limit=1000)
        await bot.say(COORDINATOR, "Summer cool-down packages at Station One")
        assert bot.last_text(COORDINATOR) == t(bot, "outreach.ask_photo", lang)
        bot.core.send_photo(COORDINATOR, b"\x89PNG fake")
        await bot.deliver()
        assert bot.last_text(COORDINATOR) == t(bot, "outreach.ask_link", lang)
        await bot.say(COORDINATOR, "活动 7" if lang == "zh" else "activity 7")
        assert bot.last_text(COORDINATOR) == t(bot, "outreach.ask_language", lang)
        await bot.press(COORDINATOR, t(bot, "outreach.everyone", lang))
        assert bot.last_text(COORDINATOR) == t(bot, "outreach.ask_area", lang)
        await bot.press(COORDINATOR, t(bot, "outreach.everywhere", lang))
        assert bot.last_text(COORDINATOR) == bot.services.with_quiet(lang, t(bot, "sending.ask_when", lang))
        await bot.press(COORDINATOR, t(bot, "sending.now", lang))
        preview = bot.core.bot_messages(COORDINATOR)[-2]
        head = t(bot, "outreach.notice_head", lang, text="Summer cool-down packages at Station One")
        assert preview["caption"] == head and preview.get("photo")
        labels = [label for label, _ in bot.core.inline_buttons(preview)]
        assert labels == [t(bot, "outreach.link_activity", lang), t(bot, "outreach.stop", lang)]
        audience = t(
            bot,
            "sending2.audience",
            lang,
            who=t(bot, "outreach.everyone", lang),
            where=t(bot, "outreach.everywhere", lang),
        )
        reach = t(bot, "outreach.reach", lang, count=2, time=t(bot, "outreach.under_a_minute", lang))
        assert bot.last_text(COORDINATOR) == audience + "\n" + reach
        assert received(bot, OTHERS[0], "Summer cool-down") == 0  # nothing before Send
        await bot.press(COORDINATOR, t(bot, "outreach.send", lang, count=2))
        await bot.tick()
        for person in OTHERS[:2]:
            message = bot.core.bot_messages(person)[-1]
            assert message["caption"] == head
            assert [label for label, _ in bot.core.inline_buttons(message)] == labels
        # The button opens the activity (handlers/activities.py registers it); activity 7 was never published.
        query = await bot.press(OTHERS[0], t(bot, "outreach.link_activity", lang))
        assert bot.core.answered_callback(query)["text"] == t(bot, "activities.gone", lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_notice_dialog_cancels_at_each_step(tmp_path, lang) -> None:
    """Cancel at the text, photo, audience and confirmation steps: nothing is sent, the draft is gone."""
    async with running_bot(tmp_path / "cancel.sqlite3") as bot:
        bot.user(COORDINATOR, language_code=lang)
        await bot.say(COORDINATOR, "/start")
        await opt_in(bot, COORDINATOR)
        steps = [
            [],
            ["Words"],
            ["Words", "skip"],
            ["Words", "skip", "skip"],
            ["Words", "skip", "skip", "all", "area"],
            ["Words", "skip", "skip", "all", "area", "now"],
        ]
        for done in steps:
            await bot.say(COORDINATOR, "/notice")
            for step in done:
                if step == "skip":
                    await bot.press(COORDINATOR, t(bot, "outreach.skip", lang))
                elif step == "all":
                    await bot.press(COORDINATOR, t(bot, "outreach.everyone", lang))
                elif step == "area":
                    await bot.press(COORDINATOR, t(bot, "outreach.everywhere", lang))
                elif step == "now":
                    await bot.press(COORDINATOR, t(bot, "sending.now", lang))
                else:
                    await bot.say(COORDINATOR, step)
            await bot.press(COORDINATOR, t(bot, "button.cancel", lang))
            assert bot.last_text(COORDINATOR) == t(bot, "outreach.cancelled", lang)
            assert await bot.services.storage.outreach.draft(COORDINATOR) is None
        assert await bot.services.storage.outreach.sends() == []


async def test_only_coordinators_send_notices_and_forged_presses_are_refused(bot) -> None:
    """/notice is a coordinator's; a courier's forged Send or audience press is refused and sends nothing."""
    await bot.say(COURIER, "/notice")
    assert bot.last_text(COURIER) == t(bot, "coord.not_coordinator")
    for verb, arg in ((NoticeVerb.SEND, "1"), (NoticeVerb.LANGUAGE, "all"), (NoticeVerb.AREA, "all")):
        query = await press_data(bot, COURIER, callbacks.encode(Family.NOTICE, verb, arg))
        assert bot.core.answered_callback(query)["text"] == t(bot, "coord.not_coordinator")
    # A coordinator's Send from another draft (an old token) sends nothing either.
    await bot.say(COORDINATOR, "/notice")
    query = await press_data(bot, COORDINATOR, callbacks.encode(Family.NOTICE, NoticeVerb.SEND, "123"))
    assert bot.core.answered_callback(query)["text"] == t(bot, "outreach.stale")
    assert await bot.services.storage.outreach.sends() == []
    # A forged topic is refused; a forged link id is refused by the feature it names (no survey 9 is open).
    query = await press_data(bot, COURIER, "or:stop:wishes")
    assert bot.core.answered_callback(query)["text"] == t(bot, "press.invalid")
    query = await press_data(bot, COURIER, callbacks.encode(Family.LINK, LinkVerb.SURVEY, "9"))
    assert bot.core.answered_callback(query)["text"] == t(bot, "surveys.not_open")
    assert callbacks.decode("or:tg:surveys").verb is OutreachVerb.TOGGLE


async def test_the_question_is_not_put_to_someone_who_said_yes_in_settings_meanwhile(bot) -> None:
    """Settled, then notices turned on in Settings before the question's time: it is never sent."""
    await close_by_rating(bot, COURIER)
    await bot.say(COURIER, "Settings")
    await bot.press(COURIER, f"⬜ {t(bot, 'outreach.topic_notices')}")
    bot.clock.advance(minutes=10)
    await bot.tick()
    assert received(bot, COURIER, t(bot, "outreach.ask")) == 0
    (row,) = await bot.services.storage.db.fetchall("SELECT status FROM outbox WHERE template = 'outreach.ask'")
    assert row[0] == "dead"


def test_quiet_hours_are_checked_in_the_config(tmp_path) -> None:
    """A span that is not two times of day is refused; the default is 21:00-08:00, over midnight."""
    from datetime import datetime

    from bot.config import ConfigError
    from tests.harness import TZ, district_config

    with pytest.raises(ConfigError):
        district_config(tmp_path / "x.sqlite3", outreach={"quiet_hours": "21:00"})
    outreach = district_config(tmp_path / "x.sqlite3").outreach
    assert outreach.quiet_hours == "21:00-08:00"
    assert outreach.is_quiet(datetime(2026, 11, 23, 23, 0, tzinfo=TZ))
    assert not outreach.is_quiet(datetime(2026, 11, 23, 8, 0, tzinfo=TZ))
    assert outreach.quiet_end(datetime(2026, 11, 23, 21, 0, tzinfo=TZ)) == datetime(2026, 11, 24, 8, 0, tzinfo=TZ)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_quiet_hours_are_promised_only_where_the_district_keeps_them(tmp_path, lang) -> None:
    """Settings name the quiet hours with their times; a district with none ("00:00-00:00", as the sandbox)
    promises nothing it would not keep."""
    for quiet, promised in (("21:00-08:00", True), ("00:00-00:00", False)):
        async with running_bot(tmp_path / f"{quiet[:2]}.sqlite3", outreach={"quiet_hours": quiet}) as bot:
            bot.user(COURIER, "Li", language_code=lang)
            await bot.say(COURIER, "/settings")
            clause = bot.services.text(lang, "quiet.clause", hours="21:00-08:00")
            assert (clause in bot.last_text(COURIER)) is promised
            assert bot.services.text(lang, "outreach.settings_hint") in bot.last_text(COURIER)
