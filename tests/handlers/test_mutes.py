"""Mutes: a coordinator mutes a courier for a period, named by an appeal of theirs; the courier's
messages, commands and presses then get one notice (a toast on each press) and nothing is kept; the
mute ends by itself or early; coordinators cannot be muted; the ledger of people actions lists it all."""

from datetime import timedelta

import pytest

from storage.dialect import table_names
from storage.people_actions import PeopleAction
from tests.harness import running_bot
from tests.helpers import submit_appeal

COURIER, ZH_COURIER, HR_STAFF, COORDINATOR, OTHER_COORDINATOR = 1001, 1002, 600, 900, 901


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "mutes.sqlite3", coordinators=[COORDINATOR, OTHER_COORDINATOR]) as running:
        for person, lang in (
            (COURIER, "en"),
            (ZH_COURIER, "zh"),
            (HR_STAFF, "en"),
            (COORDINATOR, "en"),
            (OTHER_COORDINATOR, "en"),
        ):
            running.user(person, f"P{person}", language_code=lang)
            await running.say(person, "/start")
        yield running


async def kept(db) -> dict[str, list[tuple]]:
    """Every row of every table but the ledger of people actions (it records that the notice was sent)."""

    def read(conn) -> dict[str, list[tuple]]:
        tables = [
            row[0]
            for row in conn.execute(table_names(conn)).fetchall()
            if not row[0].startswith(("sqlite_", "station_index")) and row[0] != "people_actions"
        ]
        return {
            t: sorted((tuple(row) for row in conn.execute(f"SELECT * FROM {t}").fetchall()), key=repr) for t in tables
        }

    return await db.run(read)


async def mute(bot, number: int, period: str, by: int = COORDINATOR) -> None:
    """/mute N, a period, then the confirmation."""
    await bot.say(by, f"/mute {number}")
    await bot.press(by, period)
    await bot.press(by, "Mute")


async def test_a_muted_courier_gets_one_notice_and_nothing_is_kept_until_the_mute_ends(bot) -> None:
    """Muted for a day: a text, /appeal and a press each do nothing but the one notice (a toast on the
    press); nothing of theirs is kept; a day later everything works again."""
    number = await submit_appeal(bot, COURIER)
    (ask,) = await bot.say(COORDINATOR, f"/mute {number}")
    assert ask["text"] == (
        f"Mute the courier of appeal #{number}? Until the time you choose, everything they send gets one notice"
        " and nothing else, and nothing of theirs is kept. For how long?"
    )
    assert [label for label, _ in bot.core.inline_buttons(ask)] == ["1 hour", "1 day", "7 days", "Cancel"]
    await bot.press(COORDINATOR, "1 day")
    assert bot.last_text(COORDINATOR) == f"Mute the courier of appeal #{number} for 1 day, until Tue 24 Nov 10:00?"
    assert await bot.services.storage.people_actions.mute_of(COURIER, bot.clock()) is None  # asked first
    await bot.press(COORDINATOR, "Mute")
    assert (
        bot.last_text(COORDINATOR)
        == f"Done: the courier of appeal #{number} is muted for 1 day, until Tue 24 Nov 10:00."
    )

    db = bot.services.storage.db
    await db.write_deferred()  # records of handled updates that wait for a write
    before = await kept(db)
    (notice,) = await bot.say(COURIER, "My wages for November were not paid either")
    assert notice["text"] == (
        "A coordinator has muted you in this bot until Tue 24 Nov 10:00. Until then the bot does not read or keep"
        " anything you send (except /privacy, to see or erase your data); after that you can write and file"
        " appeals as usual."
    )
    assert await bot.say(COURIER, "/appeal") == []  # one notice per mute
    old = bot.core.bot_messages(COURIER)[0]["message_id"]
    query = bot.core.press_button(COURIER, old, f"ap:{number}:open")
    await bot.deliver()
    assert bot.core.answered_callback(query) == {
        "text": "Muted until Tue 24 Nov 10:00: nothing you send is read or kept.",
        "show_alert": False,
    }
    assert bot.texts(COURIER)[-1] == notice["text"]
    await bot.services.storage.db.write_deferred()
    assert await kept(db) == before  # no draft, no kept text, no prompt, not even a handled update
    assert await bot.services.storage.dialogs.draft(COURIER) is None

    bot.clock.advance(hours=23, minutes=59)
    assert await bot.say(COURIER, "/appeal") == []  # still muted, still quiet
    bot.clock.advance(minutes=1)
    (question,) = await bot.say(COURIER, "/appeal")
    assert question["text"].startswith(bot.services.text("en", "filing.ask_category"))


async def test_unmuted_early_the_courier_is_told_and_acts_in_chinese(bot) -> None:
    """Muted for 7 days from the Filing limits list, in Chinese for the courier; the coordinator unmutes
    from the list's button; the courier is told and can file again."""
    number = await submit_appeal(bot, ZH_COURIER)
    await bot.say(COORDINATOR, f"/lift {number}")
    await bot.press(COORDINATOR, "Mute")
    await bot.press(COORDINATOR, "7 days")
    await bot.press(COORDINATOR, "Mute")
    (notice,) = await bot.say(ZH_COURIER, "/appeal")
    assert notice["text"] == (
        "协调员已暂停您使用本服务，至11月30日 周一 10:00止。在此期间，您发送的任何内容都不会被处理或保存"
        "（发送 /privacy 查看或删除个人数据除外）；到期后即可照常留言、提交诉求。"
    )
    old = bot.core.bot_messages(ZH_COURIER)[0]["message_id"]
    query = bot.core.press_button(ZH_COURIER, old, "lg:set:en")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == "已暂停使用至11月30日 周一 10:00，发送的内容不会被处理或保存。"
    assert (await bot.services.storage.people.get(ZH_COURIER)).language == "zh"  # the press did nothing

    bot.clock.advance(hours=2)
    (listing,) = await bot.say(COORDINATOR, "/lift")
    assert f"Muted now:\nThe courier of appeal #{number}: muted until Mon 30 Nov 10:00" in listing["text"]
    await bot.press(COORDINATOR, f"Unmute #{number}")
    assert bot.last_text(COORDINATOR) == f"Done: the courier of appeal #{number} is no longer muted, and has been told."
    await bot.tick()
    assert bot.last_text(ZH_COURIER) == "协调员已恢复您使用本服务，现在可以照常留言、提交诉求。"
    (question,) = await bot.say(ZH_COURIER, "/appeal")
    assert question["text"].startswith(bot.services.text("zh", "filing.ask_category"))
    (again,) = await bot.say(COORDINATOR, f"/unmute {number}")
    assert again["text"] == f"The courier of appeal #{number} is not muted."


async def test_the_ledger_of_people_actions_lists_lifts_and_mutes_with_who_and_until(bot) -> None:
    """Lift, apply again, mute, unmute: each a row (who, whom, which appeal, when, until when), shown
    under the Filing limits list; a mute asked twice is recorded once."""
    number = await submit_appeal(bot, COURIER)
    await bot.say(COORDINATOR, f"/lift {number}")
    await bot.press(COORDINATOR, "Lift the limits")
    bot.clock.advance(minutes=5)
    await bot.say(COORDINATOR, f"/lift {number}")
    await bot.press(COORDINATOR, "Apply the limits again")
    bot.clock.advance(minutes=5)
    await mute(bot, number, "1 hour")
    confirm = bot.core.bot_messages(COORDINATOR)[-1]["message_id"]
    query = bot.core.press_button(COORDINATOR, confirm, f"mu:yes:{number}.1h")  # the same button again
    await bot.deliver()
    assert bot.core.answered_callback(query) == {
        "text": f"The courier of appeal #{number} is already muted, until Mon 23 Nov 11:10.",
        "show_alert": True,
    }
    bot.clock.advance(minutes=5)
    await bot.say(OTHER_COORDINATOR, f"/unmute {number}")

    rows = await bot.services.storage.people_actions.of(COURIER)
    assert [(r.action, r.actor_id, r.appeal_id) for r in rows] == [
        (PeopleAction.LIFT, COORDINATOR, number),
        (PeopleAction.RESTORE, COORDINATOR, number),
        (PeopleAction.MUTE, COORDINATOR, number),
        (PeopleAction.UNMUTE, OTHER_COORDINATOR, number),
    ]
    assert rows[2].until - rows[2].at == timedelta(hours=1)
    (listing,) = await bot.say(COORDINATOR, "/lift")
    ledger = listing["text"].split("Latest actions on people:\n")[1].split("\n\n")[0]
    assert ledger.splitlines() == [
        f"Mon 23 Nov 10:15, P{OTHER_COORDINATOR}: unmuted the courier of appeal #{number}",
        f"Mon 23 Nov 10:10, you: muted the courier of appeal #{number} until Mon 23 Nov 11:10",
        f"Mon 23 Nov 10:05, you: applied the filing limits again to the courier of appeal #{number}",
        f"Mon 23 Nov 10:00, you: lifted the filing limits of the courier of appeal #{number}",
    ]
    (listing_zh,) = await bot.say(COORDINATOR, "/language")
    await bot.press(COORDINATOR, "中文")
    (listing_zh,) = await bot.say(COORDINATOR, "/lift")
    assert (
        f"11月23日 周一 10:10，您暂停诉求 #{number} 的提交人使用本服务，至11月23日 周一 11:10止" in listing_zh["text"]
    )


async def test_only_a_coordinator_mutes_and_never_a_coordinator(bot) -> None:
    """A courier's or staff's /mute and mute buttons are refused and change nothing; a coordinator
    cannot mute another coordinator or themself, by command or by a forged button."""
    number = await submit_appeal(bot, COURIER)
    (refused,) = await bot.say(COURIER, f"/mute {number}")
    assert refused["text"] == bot.services.text("en", "coord.not_coordinator")
    (refused,) = await bot.say(HR_STAFF, f"/unmute {number}")
    assert refused["text"] == bot.services.text("en", "coord.not_coordinator")
    last = bot.core.bot_messages(HR_STAFF)[-1]["message_id"]
    query = bot.core.press_button(HR_STAFF, last, f"mu:yes:{number}.7d")
    await bot.deliver()
    assert bot.core.answered_callback(query) == {
        "text": bot.services.text("en", "coord.not_coordinator"),
        "show_alert": True,
    }
    assert await bot.services.storage.people_actions.of(COURIER) == []

    bot.clock.advance(days=3)  # filed long ago still names them (unlike /lift's list, a mute is not about filing)
    (ask,) = await bot.say(COORDINATOR, f"/mute #{number}")
    assert ask["text"].startswith(f"Mute the courier of appeal #{number}?")

    theirs = await submit_appeal(bot, OTHER_COORDINATOR)
    mine = await submit_appeal(bot, COORDINATOR)
    for appeal in (theirs, mine):
        (refused,) = await bot.say(COORDINATOR, f"/mute {appeal}")
        assert refused["text"] == "Coordinators cannot be muted, and you cannot mute yourself."
        last = bot.core.bot_messages(COORDINATOR)[-1]["message_id"]
        query = bot.core.press_button(COORDINATOR, last, f"mu:yes:{appeal}.1h")
        await bot.deliver()
        assert (
            bot.core.answered_callback(query)["text"] == "Coordinators cannot be muted, and you cannot mute yourself."
        )
    assert await bot.services.storage.people_actions.active(bot.clock()) == []
    (wrong,) = await bot.say(COORDINATOR, "/mute 4711")
    assert wrong["text"] == (
        "There is no appeal “4711”. Write /mute and the number of an appeal the person filed, for example /mute 123."
    )


async def test_a_muted_courier_can_still_see_and_erase_their_data(bot) -> None:
    """A mute does not suspend the right to erasure: /privacy and its buttons work; other words stay quiet."""
    number = await submit_appeal(bot, COURIER)
    await mute(bot, number, "7 days")
    (notice,) = await bot.say(COURIER, "hello?")
    assert notice["text"].startswith("A coordinator has muted you")
    (shown,) = await bot.say(COURIER, "/privacy")
    assert "Delete my data" in [label for label, _ in bot.core.inline_buttons(shown)]
    await bot.press(COURIER, "Delete my data")
    await bot.press(COURIER, "Yes, delete it")
    assert await bot.services.storage.people.get(COURIER) is None
    assert (await bot.services.storage.appeals.get(number)).courier_id is None
