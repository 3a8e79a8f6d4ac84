"""A send scheduled for an audience (issue 18): a notice, a survey when it is opened and an activity when it is
published end with the same steps (who, when, a preview, a confirmation), through the real bot on the fake clock;
/outreach shows a scheduled send and cancels it after asking; only coordinators, and only at the step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers import callbacks
from handlers.callbacks import Family, NoticeVerb
from storage.stations import Station
from tests.handlers.test_surveys import SMALL, send_file
from tests.harness import START, running_bot
from tests.helpers import press_data

COURIER, ZH_COURIER, COORDINATOR = 1001, 1002, 900
TUESDAY_10 = START + timedelta(days=1)  # START is Monday 23 Nov 2026, 10:00 district time

ACTIVITY = """
[[activities]]
title = "Free clinic"
details = "Blood pressure and eyesight checks."
starts = "2026-11-30 09:00"
station = "st-a"
places = 20
"""


@pytest.fixture
async def bot(tmp_path):
    """A coordinator, an English and a Chinese courier who both chose to hear about everything, and a station."""
    async with running_bot(tmp_path / "schedule.sqlite3") as running:
        await running.services.storage.stations.upsert(
            [Station(id="st-a", name="长宁驿站", name_en="Changning Station", lat=31.22, lon=121.42, grade="A")]
        )
        await running.start(COURIER, COORDINATOR)
        running.user(ZH_COURIER, "Wang", language_code="zh")
        await running.say(ZH_COURIER, "/start")
        for person in (COURIER, ZH_COURIER):
            await running.services.storage.outreach.choose(
                person, ("surveys", "activities", "notices"), True, running.clock()
            )
        yield running


def t(bot, key: str, lang: str = "en", **values: object) -> str:
    return bot.services.text(lang, key, **values)


def labels(bot, person: int, back: int = 1) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(bot.core.bot_messages(person)[-back])]


def toast(bot, query: str) -> str | None:
    return (bot.core.answered_callback(query) or {}).get("text")


def got(bot, person: int, fragment: str) -> int:
    return sum(fragment in text for text in bot.texts(person))


async def write_notice(bot, text: str = "Cool-down packages at Station One", lang: str = "en") -> None:
    """A notice up to its audience's first question: text, no photo, no button."""
    await bot.say(COORDINATOR, "/notice")
    await bot.say(COORDINATOR, text)
    await bot.press(COORDINATOR, t(bot, "outreach.skip", lang))
    await bot.press(COORDINATOR, t(bot, "outreach.skip", lang))


async def to_everyone_everywhere(bot, everyone_key: str = "outreach.everyone", lang: str = "en") -> None:
    await bot.press(COORDINATOR, t(bot, everyone_key, lang))
    await bot.press(COORDINATOR, t(bot, "outreach.everywhere", lang))
    assert bot.last_text(COORDINATOR) == bot.services.with_quiet(lang, t(bot, "sending.ask_when", lang))


# ---------------------------------------------------------------------------- a notice for tomorrow 10:00


async def test_a_notice_for_tomorrow_at_ten_goes_then_and_not_before(bot) -> None:
    await write_notice(bot)
    await to_everyone_everywhere(bot)
    tomorrow = bot.services.local(TUESDAY_10, "en")
    assert tomorrow == "Tue 24 Nov 10:00"
    # Now, then today 15:00, tomorrow 10:00 and 15:00 (10:00 today has passed), then Cancel.
    assert labels(bot, COORDINATOR) == [
        t(bot, "sending.now"),
        "Mon 23 Nov 15:00",
        tomorrow,
        "Tue 24 Nov 15:00",
        t(bot, "button.cancel"),
    ]
    await bot.press(COORDINATOR, tomorrow)
    assert bot.last_text(COORDINATOR) == "\n".join(
        [
            t(bot, "sending2.audience", who=t(bot, "outreach.everyone"), where=t(bot, "outreach.everywhere")),
            t(bot, "outreach.reach", count=2, time=t(bot, "outreach.under_a_minute")),
            t(bot, "sending.starts_at", at=tomorrow),
        ]
    )
    await bot.press(COORDINATOR, t(bot, "sending.schedule", count=2))
    (send,) = await bot.services.storage.outreach.sends()
    assert bot.last_text(COORDINATOR) == t(bot, "sending.scheduled", count=2, send=send.id, at=tomorrow)
    await bot.tick()
    await bot.at(TUESDAY_10 - timedelta(minutes=1))
    assert got(bot, COURIER, "Cool-down packages") == 0
    assert got(bot, ZH_COURIER, "Cool-down packages") == 0
    await bot.at(TUESDAY_10)
    assert got(bot, COURIER, "Cool-down packages") == 1
    assert got(bot, ZH_COURIER, "Cool-down packages") == 1
    counts = await bot.services.storage.outreach.send(send.id)
    assert (counts.sent, counts.pending) == (2, 0)


async def test_a_typed_time_in_quiet_hours_starts_when_they_end_and_a_bad_one_is_asked_again(bot) -> None:
    await write_notice(bot)
    await to_everyone_everywhere(bot)
    for bad in ("tomorrow", "2026-11-23 09:00", "2027-06-01 10:00"):  # not a time, past, too far
        await bot.say(COORDINATOR, bad)
        assert bot.last_text(COORDINATOR) == t(bot, "sending.when_bad")
        assert labels(bot, COORDINATOR)[0] == t(bot, "sending.now")
    await bot.say(COORDINATOR, "2026-11-24 22:30")  # quiet hours: 21:00-08:00
    assert t(bot, "sending.starts_at", at="Wed 25 Nov 08:00") in bot.last_text(COORDINATOR)
    await bot.press(COORDINATOR, t(bot, "sending.schedule", count=2))
    await bot.at(START.replace(day=25, hour=7, minute=59))
    assert got(bot, COURIER, "Cool-down packages") == 0
    await bot.at(START.replace(day=25, hour=8, minute=0))
    assert got(bot, COURIER, "Cool-down packages") == 1


async def test_who_stopped_notices_before_the_start_gets_nothing(bot) -> None:
    """The audience is drawn when the send is confirmed; the sender asks again at the start, so a courier
    who stopped notices meanwhile is counted stopped, not sent to."""
    await write_notice(bot)
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, bot.services.local(TUESDAY_10, "en"))
    await bot.press(COORDINATOR, t(bot, "sending.schedule", count=2))
    await bot.say(COURIER, "Settings")
    await bot.press(COURIER, f"✅ {t(bot, 'outreach.topic_notices')}")
    await bot.at(TUESDAY_10)
    assert got(bot, COURIER, "Cool-down packages") == 0
    assert got(bot, ZH_COURIER, "Cool-down packages") == 1
    (send,) = await bot.services.storage.outreach.sends()
    assert (send.audience, send.sent, send.stopped, send.pending) == (2, 1, 1, 0)


async def test_a_notice_sent_now_does_not_wait_behind_one_scheduled_for_tomorrow(bot) -> None:
    """Each chat's outreach goes in order, but a message whose time has not come holds nothing behind it."""
    await write_notice(bot)
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, bot.services.local(TUESDAY_10, "en"))
    await bot.press(COORDINATOR, t(bot, "sending.schedule", count=2))
    await write_notice(bot, "Road closed on Jiangsu Road today")
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, t(bot, "sending.now"))
    await bot.press(COORDINATOR, t(bot, "outreach.send", count=2))
    await bot.tick()
    assert got(bot, COURIER, "Road closed") == 1
    assert got(bot, COURIER, "Cool-down packages") == 0
    await bot.at(TUESDAY_10)
    assert got(bot, COURIER, "Cool-down packages") == 1


async def test_a_clock_set_back_does_not_bring_a_scheduled_send_forward(bot) -> None:
    await write_notice(bot)
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, bot.services.local(TUESDAY_10, "en"))
    await bot.press(COORDINATOR, t(bot, "sending.schedule", count=2))
    bot.clock.now = START - timedelta(hours=2)  # the host's clock corrected backwards
    await bot.tick()
    assert got(bot, COURIER, "Cool-down packages") == 0


async def test_an_area_with_nobody_near_says_so(bot) -> None:
    await write_notice(bot)
    await bot.press(COORDINATOR, t(bot, "outreach.everyone"))
    await bot.press(COORDINATOR, t(bot, "outreach.near_unit", unit="Station One"))
    await bot.press(COORDINATOR, t(bot, "sending.now"))
    near = t(bot, "outreach.near_unit", unit="Station One")
    assert bot.last_text(COORDINATOR) == "\n".join(
        [
            t(bot, "sending2.audience", who=t(bot, "outreach.everyone"), where=near),
            t(bot, "sending.nobody_near", place="Station One"),
        ]
    )  # no count of nobody, no start, no delivery time
    assert labels(bot, COORDINATOR) == [t(bot, "sending2.button_again"), t(bot, "button.cancel")]
    # Choosing again starts from whom, the notice kept; now it reaches the couriers who chose notices.
    await bot.press(COORDINATOR, t(bot, "sending2.button_again"))
    assert bot.last_text(COORDINATOR) == t(bot, "outreach.ask_language")
    await bot.press(COORDINATOR, t(bot, "outreach.everyone"))
    await bot.press(COORDINATOR, t(bot, "outreach.everywhere"))
    await bot.press(COORDINATOR, t(bot, "sending.now"))
    assert t(bot, "outreach.reach", count=2, time=t(bot, "outreach.under_a_minute")) in bot.last_text(COORDINATOR)


# ---------------------------------------------------------------------------- /outreach: scheduled, cancelled


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_scheduled_send_is_shown_and_cancelled_after_asking(bot, lang) -> None:
    await bot.services.storage.people.set_language(COORDINATOR, lang)
    await write_notice(bot, lang=lang)
    await to_everyone_everywhere(bot, lang=lang)
    tomorrow = bot.services.local(TUESDAY_10, lang)
    assert tomorrow == ("11月24日 周二 10:00" if lang == "zh" else "Tue 24 Nov 10:00")
    await bot.press(COORDINATOR, tomorrow)
    await bot.press(COORDINATOR, t(bot, "sending.schedule", lang, count=2))
    (send,) = await bot.services.storage.outreach.sends()
    await bot.say(COORDINATOR, "/outreach")
    kind = t(bot, "outreach.kind_notice", lang)
    # The send is named by its number and the notice's first words.
    ref = send.ref + t(bot, "sending2.subject", lang, name="Cool-down packages at S…")
    line = t(bot, "sending.send_line_scheduled", lang, send=send.id, kind=kind, ref=ref, at=tomorrow, audience=2)
    assert line in bot.last_text(COORDINATOR)
    assert labels(bot, COORDINATOR) == [
        t(bot, "sending.unsend", lang, send=send.id),
        t(bot, "outreach2.button_new", lang),
    ]
    await bot.press(COORDINATOR, t(bot, "sending.unsend", lang, send=send.id))
    assert bot.last_text(COORDINATOR) == t(
        bot, "sending.unsend_confirm", lang, send=send.id, kind=kind, ref=ref, at=tomorrow, audience=2
    )
    await bot.press(COORDINATOR, t(bot, "sending.unsend_keep", lang))
    assert bot.last_text(COORDINATOR) == t(bot, "sending.unsend_kept", lang)
    assert (await bot.services.storage.outreach.send(send.id)).cancelled_at is None
    await bot.say(COORDINATOR, "/outreach")
    await bot.press(COORDINATOR, t(bot, "sending.unsend", lang, send=send.id))
    confirm = bot.core.bot_messages(COORDINATOR)[-1]["message_id"]
    await bot.press(COORDINATOR, t(bot, "sending.unsend_yes", lang))
    assert bot.last_text(COORDINATOR) == t(bot, "sending.unsent", lang, send=send.id)
    rows = await bot.services.storage.db.fetchall("SELECT 1 FROM outbox WHERE send_id = ?", (send.id,))
    assert rows == []
    # The confirmation pressed again does nothing more.
    query = bot.core.press_button(
        COORDINATOR, confirm, callbacks.encode(Family.NOTICE, NoticeVerb.UNSEND_CONFIRMED, str(send.id))
    )
    await bot.deliver()
    assert toast(bot, query) == t(bot, "sending.unsend_too_late", lang)
    await bot.at(TUESDAY_10 + timedelta(hours=1))
    assert got(bot, COURIER, "Cool-down packages") == 0
    await bot.say(COORDINATOR, "/outreach")
    cancelled = t(
        bot,
        "sending.send_line_cancelled",
        lang,
        send=send.id,
        kind=kind,
        ref=ref,
        at=bot.services.local(START, lang),
    )
    assert cancelled in bot.last_text(COORDINATOR)
    assert labels(bot, COORDINATOR) == [t(bot, "outreach2.button_new", lang)]  # nothing left to cancel


async def test_a_started_send_cannot_be_cancelled(bot) -> None:
    await write_notice(bot)
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, t(bot, "sending.now"))
    await bot.press(COORDINATOR, t(bot, "outreach.send", count=2))
    (send,) = await bot.services.storage.outreach.sends()
    await bot.say(COORDINATOR, "/outreach")
    assert labels(bot, COORDINATOR) == [t(bot, "outreach2.button_new")]  # no Cancel for a send under way
    query = await press_data(bot, COORDINATOR, callbacks.encode(Family.NOTICE, NoticeVerb.UNSEND, str(send.id)))
    assert toast(bot, query) == t(bot, "sending.unsend_too_late")
    assert (await bot.services.storage.outreach.send(send.id)).sent == 2


async def test_a_notice_sent_now_but_held_by_quiet_hours_can_still_be_cancelled(bot) -> None:
    """Sent at 22:00, it waits for 08:00: nothing has gone, so /outreach still offers Cancel, and then nothing goes."""
    bot.clock.now = START + timedelta(hours=12)  # 22:00 district time, in quiet hours
    await write_notice(bot)
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, t(bot, "sending.now"))
    await bot.press(COORDINATOR, t(bot, "outreach.send", count=2))
    await bot.tick()
    (send,) = await bot.services.storage.outreach.sends()
    assert (send.sent, send.pending) == (0, 2)
    await bot.say(COORDINATOR, "/outreach")
    assert labels(bot, COORDINATOR) == [t(bot, "sending.unsend", send=send.id), t(bot, "outreach2.button_new")]
    await bot.press(COORDINATOR, t(bot, "sending.unsend", send=send.id))
    await bot.press(COORDINATOR, t(bot, "sending.unsend_yes"))
    assert bot.last_text(COORDINATOR) == t(bot, "sending.unsent", send=send.id)
    bot.clock.now = START + timedelta(hours=22, minutes=5)  # 08:05 the next morning
    await bot.tick()
    assert got(bot, COURIER, "Cool-down packages") == 0


# ---------------------------------------------------------------------------- authorization


async def test_only_a_coordinator_schedules_or_cancels_and_forged_presses_are_refused(bot) -> None:
    await write_notice(bot)
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, bot.services.local(TUESDAY_10, "en"))
    await bot.press(COORDINATOR, t(bot, "sending.schedule", count=2))
    (send,) = await bot.services.storage.outreach.sends()
    await bot.say(COURIER, "/outreach")
    assert bot.last_text(COURIER) == t(bot, "coord.not_coordinator")
    for verb, arg in (
        (NoticeVerb.UNSEND, str(send.id)),
        (NoticeVerb.UNSEND_CONFIRMED, str(send.id)),
        (NoticeVerb.WHEN, "now"),
        (NoticeVerb.ANNOUNCE, "survey.1"),
        (NoticeVerb.LINK, "activity.1"),
    ):
        query = await press_data(bot, COURIER, callbacks.encode(Family.NOTICE, verb, arg))
        assert toast(bot, query) == t(bot, "coord.not_coordinator"), verb
    assert (await bot.services.storage.outreach.send(send.id)).cancelled_at is None
    # A coordinator's time that was never offered, a step already over, an announcement of nothing.
    await write_notice(bot, "Second notice")
    await to_everyone_everywhere(bot)
    forged = str(int((TUESDAY_10 + timedelta(hours=3)).timestamp()))
    for verb, arg, key in (
        (NoticeVerb.WHEN, forged, "outreach.stale"),
        (NoticeVerb.LINK, "survey.1", "outreach.stale"),
        (NoticeVerb.SEND, "1", "outreach.stale"),
        (NoticeVerb.ANNOUNCE, "survey.77", "outreach.stale"),
        (NoticeVerb.ANNOUNCE, "wish.1", "outreach.stale"),
        (NoticeVerb.UNSEND, "999", "sending.unsend_too_late"),
    ):
        query = await press_data(bot, COORDINATOR, callbacks.encode(Family.NOTICE, verb, arg))
        assert toast(bot, query) == t(bot, key), (verb, arg)
    assert len(await bot.services.storage.outreach.sends()) == 1


# ---------------------------------------------------------------------------- the notice's button


async def test_the_link_step_offers_open_surveys_and_coming_activities(bot) -> None:
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="true"))
    await bot.press(COORDINATOR, "Open the survey")
    await bot.press(COORDINATOR, "Yes, open it")
    await bot.press(COORDINATOR, t(bot, "sending.dont_announce"))
    assert bot.last_text(COORDINATOR) == t(bot, "sending.not_announced")
    bot.core.send_document(COORDINATOR, ACTIVITY.encode(), "activities.toml", "application/toml")
    await bot.deliver()
    await bot.press(COORDINATOR, t(bot, "sending.dont_announce"))
    survey = await bot.services.storage.surveys.by_key("small")
    await bot.say(COORDINATOR, "/notice")
    await bot.say(COORDINATOR, "Two things this week")
    await bot.press(COORDINATOR, t(bot, "outreach.skip"))
    assert bot.last_text(COORDINATOR) == t(bot, "outreach.ask_link")
    assert labels(bot, COORDINATOR) == [
        t(bot, "sending.link_to_survey", title="A small survey"),
        t(bot, "sending.link_to_activity", title="Free clinic"),
        t(bot, "outreach.skip"),
        t(bot, "button.cancel"),
    ]
    await bot.press(COORDINATOR, t(bot, "sending.link_to_survey", title="A small survey"))
    assert bot.last_text(COORDINATOR) == t(bot, "outreach.ask_language")
    draft = await bot.services.storage.outreach.draft(COORDINATOR)
    assert draft["link"] == ["survey", str(survey.id)]
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, t(bot, "sending.now"))
    assert labels(bot, COORDINATOR, back=2) == [t(bot, "outreach.link_survey"), t(bot, "outreach.stop")]


# ---------------------------------------------------------------------------- survey and activity announcements


async def test_a_survey_opened_is_announced_at_the_time_chosen_with_its_button(bot) -> None:
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="true"))
    await bot.press(COORDINATOR, "Open the survey")
    await bot.press(COORDINATOR, "Yes, open it")
    question = bot.last_text(COORDINATOR)
    assert question.startswith(t(bot, "sending.ask_announce_survey", title="A small survey"))
    await to_everyone_everywhere(bot, "sending.everyone_surveys")
    await bot.press(COORDINATOR, bot.services.local(TUESDAY_10, "en"))
    preview = bot.core.bot_messages(COORDINATOR)[-2]
    head = t(bot, "sending.survey_head", title="A small survey")
    assert preview["text"].startswith(head)
    assert t(bot, "surveys.size", count=4) in preview["text"]
    assert labels(bot, COORDINATOR, back=2) == [t(bot, "outreach.link_survey"), t(bot, "outreach.stop")]
    await bot.press(COORDINATOR, t(bot, "sending.schedule", count=2))
    await bot.at(TUESDAY_10 - timedelta(minutes=1))
    assert got(bot, COURIER, head) == 0
    await bot.at(TUESDAY_10)
    assert bot.last_text(COURIER).startswith(head)
    zh_head = t(bot, "sending.survey_head", "zh", title="小调查")
    assert bot.last_text(ZH_COURIER).startswith(zh_head)
    assert labels(bot, ZH_COURIER) == [t(bot, "outreach.link_survey", "zh"), t(bot, "outreach.stop", "zh")]
    await bot.press(COURIER, t(bot, "outreach.link_survey"))
    assert bot.last_text(COURIER).startswith("A small survey")
    assert t(bot, "surveys.button_start") in labels(bot, COURIER)


async def test_a_survey_closed_before_its_announcement_is_not_announced(bot) -> None:
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="true"))
    await bot.press(COORDINATOR, "Open the survey")
    await bot.press(COORDINATOR, "Yes, open it")
    await to_everyone_everywhere(bot, "sending.everyone_surveys")
    await bot.press(COORDINATOR, bot.services.local(TUESDAY_10, "en"))
    await bot.press(COORDINATOR, t(bot, "sending.schedule", count=2))
    survey = await bot.services.storage.surveys.by_key("small")
    await bot.services.storage.surveys.set_state(survey.id, "closed", bot.clock())
    await bot.at(TUESDAY_10)
    assert got(bot, COURIER, t(bot, "sending.survey_head", title="A small survey")) == 0
    (send,) = await bot.services.storage.outreach.sends()
    assert (send.sent, send.pending) == (0, 0)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_activity_published_is_announced_now_with_its_button(bot, lang) -> None:
    await bot.services.storage.people.set_language(COORDINATOR, lang)
    bot.core.send_document(COORDINATOR, ACTIVITY.encode(), "activities.toml", "application/toml")
    await bot.deliver()
    assert bot.last_text(COORDINATOR).startswith(t(bot, "sending.ask_announce_activity", lang, title="Free clinic"))
    await to_everyone_everywhere(bot, "sending.everyone_activities", lang)
    await bot.press(COORDINATOR, t(bot, "sending.now", lang))
    assert bot.texts(COORDINATOR)[-3] == t(bot, "sending.preview_announcement", lang)
    await bot.press(COORDINATOR, t(bot, "outreach.send", lang, count=2))
    (send,) = await bot.services.storage.outreach.sends()
    assert bot.last_text(COORDINATOR) == bot.services.with_quiet(
        lang, t(bot, "sending.announced", lang, count=2, send=send.id)
    )
    await bot.tick()
    for person, reader in ((COURIER, "en"), (ZH_COURIER, "zh")):
        text = bot.last_text(person)
        assert text.startswith(t(bot, "sending.activity_head", reader, card="📌 Free clinic").split("📌")[0])
        assert "Free clinic" in text and "Blood pressure" in text
        assert labels(bot, person) == [t(bot, "outreach.link_activity", reader), t(bot, "outreach.stop", reader)]
    # Stop under it takes only itself away: the activity's button stays.
    await bot.press(ZH_COURIER, t(bot, "outreach.stop", "zh"))
    assert labels(bot, ZH_COURIER) == [t(bot, "outreach.link_activity", "zh")]
    await bot.press(COURIER, t(bot, "outreach.link_activity"))
    assert t(bot, "activities.button_join") in labels(bot, COURIER)


async def test_several_activities_published_are_announced_one_at_a_time(bot) -> None:
    two = ACTIVITY + ACTIVITY.replace("Free clinic", "Winter warm-up packages")
    bot.core.send_document(COORDINATOR, two.encode(), "activities.toml", "application/toml")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == t(bot, "sending.announce_which_activity")
    assert labels(bot, COORDINATOR) == [
        t(bot, "sending.announce_one", title="Free clinic"),
        t(bot, "sending.announce_one", title="Winter warm-up packages"),
    ]
    await bot.press(COORDINATOR, t(bot, "sending.announce_one", title="Winter warm-up packages"))
    assert bot.last_text(COORDINATOR).startswith(
        t(bot, "sending.ask_announce_activity", title="Winter warm-up packages")
    )


async def test_the_preview_speaks_its_readers_language_and_its_buttons_only_say_so(bot) -> None:
    """For Chinese readers only, the preview is what they see (heading and buttons in Chinese) though the
    coordinator reads English; for everyone, it says each reader sees their own language. Its buttons do
    nothing but say it is a preview: a coordinator's Stop there must not stop their own messages."""
    await bot.services.storage.outreach.choose(COORDINATOR, ("notices",), True, bot.clock())
    await write_notice(bot, "驿站明天下午免费测血压")
    await bot.press(COORDINATOR, t(bot, "outreach.readers_zh"))
    await bot.press(COORDINATOR, t(bot, "outreach.everywhere"))
    await bot.press(COORDINATOR, t(bot, "sending.now"))
    preview = bot.texts(COORDINATOR)[-2]
    assert preview == t(bot, "outreach.notice_head", "zh", text="驿站明天下午免费测血压")
    assert labels(bot, COORDINATOR, back=2) == [t(bot, "outreach.stop", "zh")]
    query = await bot.press(COORDINATOR, t(bot, "outreach.stop", "zh"))
    assert bot.core.answered_callback(query) == {"text": t(bot, "sending2.preview_pressed"), "show_alert": True}
    assert (await bot.services.storage.outreach.choices(COORDINATOR))["notices"] is True
    await bot.press(COORDINATOR, t(bot, "button.cancel"))

    await write_notice(bot)
    await to_everyone_everywhere(bot)
    await bot.press(COORDINATOR, t(bot, "sending.now"))
    assert bot.texts(COORDINATOR)[-3] == t(bot, "outreach.preview_above") + "\n" + t(bot, "sending2.preview_languages")
