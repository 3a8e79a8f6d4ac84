"""One deadline story everywhere, the courier told of every turn, and each role's own menu, help and tools."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.lifecycle import Outcome
from handlers.deadlines_view import appeal_deadline_line
from handlers.services import Services
from handlers.telegram_text import said
from tests.handlers.test_loop import COORDINATOR, COURIER, HR_STAFF, file_wage_appeal
from tests.harness import TZ, running_bot
from tests.helpers import file_appeal

OTHER = 1002
STATION_STAFF = 500


@pytest.fixture
async def bot(tmp_path):
    """The test district: HR (staff 600) gets work appeals, Station One (500, 501) facilities; coordinator 900."""
    async with running_bot(tmp_path / "roles.sqlite3") as running:
        yield running


def tr(bot, lang: str):
    """The catalog in one language."""
    return lambda key, **kw: bot.services.text(lang, key, **kw)


async def timer(bot, number: int, kind: str):
    """One of the appeal's deadlines as stored."""
    return next(t for t in await bot.services.storage.appeals.timers(number) if t.kind == kind)


def test_dates_read_as_people_write_them() -> None:
    """12月7日 周一 18:00 and Mon 7 Dec 18:00, in the district's time; the year only when it is not this one."""
    now = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
    services = Services(storage=None, catalog=None, clock=lambda: now, zone=TZ)  # type: ignore[arg-type]
    evening = datetime(2026, 12, 7, 18, 0, tzinfo=TZ)
    assert services.local(evening, "zh") == "12月7日 周一 18:00"
    assert services.local(evening, "en") == "Mon 7 Dec 18:00"
    assert services.local(evening.astimezone(UTC), "zh") == "12月7日 周一 18:00"  # whatever zone the moment comes in
    next_year = datetime(2027, 1, 3, 8, 5, tzinfo=TZ)
    assert services.local(next_year, "zh") == "2027年1月3日 周日 08:05"
    assert services.local(next_year, "en") == "Sun 3 Jan 2027 08:05"
    assert services.local(None, "en") == "—"


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_same_next_deadline_everywhere(bot, lang) -> None:
    """The staff card, /my, the appeal's page and the reminder show one deadline, saying what it is for."""
    t = tr(bot, lang)
    bot.user(COURIER, "Li", language_code=lang)
    bot.user(HR_STAFF, "HR worker", language_code=lang)
    await bot.services.storage.people.set_language(HR_STAFF, lang)
    number = await file_wage_appeal(bot, lang)
    accept = await timer(bot, number, "accept")
    appeal = await bot.services.storage.appeals.get(number)
    line = await appeal_deadline_line(bot.services, appeal, lang)
    # Routed: the unit must accept it first; that is the next deadline, not the answer's.
    assert line == t("deadline.accept", when=bot.services.local(accept.due_at, lang))
    pattern = (
        r"承办单位应于\d{1,2}月\d{1,2}日 周[一二三四五六日] \d\d:\d\d前签收"
        if lang == "zh"
        else r"The unit must accept it by (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d\d:\d\d"
    )
    assert re.fullmatch(pattern, line), line

    assert line in bot.last_text(COURIER)  # the receipt under what was filed
    assert line in bot.last_text(HR_STAFF)  # the card that came with the new appeal
    await bot.say(COURIER, "/my")
    assert line in bot.last_text(COURIER)
    await bot.press(COURIER, t("button.open", number=number))
    assert line in bot.last_text(COURIER)
    await bot.say(HR_STAFF, f"/open {number}")
    assert line in bot.last_text(HR_STAFF)

    await bot.at(accept.due_at - timedelta(minutes=1))
    # The worker holds a card for it (from /open): the reminder is a line under that card, edited in place.
    reminder = bot.core.last_message(HR_STAFF)
    assert reminder["text"].startswith(
        t("ladder.accept.remind", number=number, when=bot.services.local(accept.due_at, lang))
    )
    assert line in reminder["reply_to_message"]["text"]
    # Past it, the same line says it is overdue, on the card the chase-up points to and on the page alike.
    await bot.at(accept.due_at + timedelta(minutes=1))
    chase = bot.core.last_message(HR_STAFF)
    assert chase["text"].startswith(t("ladder.accept.due", number=number, when=bot.services.local(accept.due_at, lang)))
    card = bot.core.messages(HR_STAFF)[chase["reply_to_message"]["message_id"] - 1]
    assert line + t("deadline.overdue") in card["text"]
    await bot.say(COURIER, "/my")
    assert line + t("deadline.overdue") in bot.last_text(COURIER)

    # Accepted: the answer's deadline is next, and the courier is told it in the same words.
    await bot.press(HR_STAFF, t("button.accept"))
    handle = await timer(bot, number, "handle")
    answer_line = t("deadline.handle", when=bot.services.local(handle.due_at, lang))
    unit = "HR Bureau" if lang == "en" else "人社局"
    assert bot.last_text(COURIER) == t("notice.accept.courier", number=number, unit=unit, deadline=answer_line)
    await bot.say(COURIER, "/my")
    assert answer_line in bot.last_text(COURIER) and line not in bot.last_text(COURIER)


async def test_closed_appeals_show_no_deadline(bot) -> None:
    """Once an appeal is closed, neither /my nor its page names a deadline."""
    t = tr(bot, "en")
    bot.user(COURIER, "Li")
    number = await file_wage_appeal(bot, "en")
    await bot.say(COURIER, f"/open {number}")
    await bot.press(COURIER, "Withdraw")
    await bot.press(COURIER, "Withdraw it")
    await bot.say(COURIER, "/my")
    listed = bot.last_text(COURIER)
    assert t("outcome.withdrawn") in listed
    await bot.press(COURIER, t("button.open", number=number))
    page = bot.last_text(COURIER)
    for kind in ("triage", "accept", "handle", "feedback"):
        said = t(f"deadline.{kind}", when="").strip()
        assert said not in listed and said not in page
    appeal = await bot.services.storage.appeals.get(number)
    assert await appeal_deadline_line(bot.services, appeal, "en") is None


async def test_a_reopened_appeal_states_its_new_deadline(bot) -> None:
    """Not solved: the unit answers again by a new deadline, shown to the courier and on the unit's card."""
    t = tr(bot, "en")
    bot.user(COURIER, "Li")
    await bot.say(bot.user(HR_STAFF, "HR worker"), "/start")
    number = await file_wage_appeal(bot, "en")
    first_handle = (await timer(bot, number, "handle")).due_at
    await bot.press(HR_STAFF, "Accept")
    bot.clock.advance(days=1)
    await bot.press(HR_STAFF, "Resolve")
    await bot.say(HR_STAFF, "Paid on Friday")
    await bot.press(HR_STAFF, "Confirm resolve")
    bot.clock.advance(hours=1)
    await bot.press(COURIER, "Not solved")
    await bot.say(COURIER, "Only half was paid")
    new_handle = (await timer(bot, number, "handle")).due_at
    assert new_handle > first_handle
    line = t("deadline.handle", when=bot.services.local(new_handle, "en"))
    assert bot.last_text(COURIER) == t("appeal.done_rate_unsatisfied", number=number)
    assert line in bot.texts(COURIER)[-2]  # the appeal's page, kept current
    staff_notice = bot.core.last_message(HR_STAFF)
    assert staff_notice["text"].startswith(
        t("notice.rate_unsatisfied.unit", number=number, redo=1, note=said("Only half was paid"))
    )
    # The worker's card for it is kept current in place; the news is a line under it.
    card = bot.core.messages(HR_STAFF)[staff_notice["reply_to_message"]["message_id"] - 1]
    assert line in card["text"]


async def file_suggestion(bot, person: int, lang: str = "en") -> int:
    """A courier files an appeal no rule routes; returns its number."""
    category = bot.services.category("suggestion").name(lang)
    return await file_appeal(bot, person, category, "Please add a microwave at the station", lang=lang)


async def test_the_courier_hears_of_send_back_reassign_and_reject(bot) -> None:
    """Sent back, moved to another unit, not taken up: each in plain words, with what comes next."""
    t = tr(bot, "en")
    bot.user(COURIER, "Li")
    coordinator, hr = bot.user(COORDINATOR, "Coordinator"), bot.user(HR_STAFF, "HR worker")
    for person in (coordinator, hr):
        await bot.say(person, "/start")
    first = await file_wage_appeal(bot, "en")
    await bot.press(hr, "Send back")
    await bot.say(hr, "This is for the trade union")
    triage = await timer(bot, first, "triage")
    assert bot.last_text(COURIER) == t(
        "notice.send_back.courier",
        number=first,
        unit="HR Bureau",
        deadline=t("deadline.triage", when=bot.services.local(triage.due_at, "en")),
    )
    assert "trade union" not in bot.last_text(COURIER)  # the unit's reason is for the coordinators
    await bot.press(coordinator, "Reject")
    await bot.say(coordinator, "Outside our district")
    await bot.press(coordinator, "Confirm reject")
    assert bot.last_text(COURIER) == f"Appeal #{first} was rejected. The reason:\n│ Outside our district"

    second = await file_wage_appeal(bot, "en")
    await bot.say(coordinator, f"/open {second}")
    await bot.press(coordinator, "Reassign")
    await bot.press(coordinator, "Station One")
    accept = await timer(bot, second, "accept")
    assert bot.last_text(COURIER) == t(
        "notice.reassign.courier",
        number=second,
        unit="Station One",
        deadline=t("deadline.accept", when=bot.services.local(accept.due_at, "en")),
    )


async def test_merged_couriers_hear_the_merge_and_the_outcome(bot) -> None:
    """A duplicate's courier is told of the merge, and of how the appeal it joined ends, even when rejected."""
    t = tr(bot, "zh")
    for person in (COURIER, OTHER, COORDINATOR):
        bot.user(person, f"P{person}", language_code="zh")
        await bot.say(person, "/start")
    await bot.services.storage.people.set_language(COORDINATOR, "zh")
    first = await file_suggestion(bot, COURIER, "zh")
    second = await file_suggestion(bot, OTHER, "zh")
    await bot.say(COORDINATOR, f"/open {second}")
    await bot.press(COORDINATOR, t("button.merge"))
    await bot.say(COORDINATOR, str(first))
    await bot.press(COORDINATOR, t("confirm.button_merge"))
    assert bot.last_text(OTHER) == t("notice.merge.courier", number=second, original=first)

    # The appeal it joined is merged in turn: the follower hears of it and follows the new one.
    third = await file_suggestion(bot, COURIER, "zh")
    await bot.say(COORDINATOR, f"/open {first}")
    await bot.press(COORDINATOR, t("button.merge"))
    await bot.say(COORDINATOR, str(third))
    await bot.press(COORDINATOR, t("confirm.button_merge"))
    assert bot.last_text(OTHER) == t("notice.merge.followers", number=first, original=third)
    assert (await bot.services.storage.appeals.get(second)).merged_into == third

    await bot.say(COORDINATOR, f"/open {third}")
    await bot.press(COORDINATOR, t("button.reject"))
    await bot.say(COORDINATOR, "不属于本区")
    await bot.press(COORDINATOR, t("confirm.button_reject"))
    assert bot.last_text(OTHER) == t("notice.reject.followers", number=third, note=said("不属于本区"))
    assert bot.last_text(COURIER) == t("notice.reject.courier", number=third, note=said("不属于本区"))
    assert (await bot.services.storage.appeals.get(third)).outcome == Outcome.REJECTED


async def test_merged_couriers_hear_of_a_withdrawal(bot) -> None:
    """The courier of the appeal others joined withdraws it: the others are told, and how to go on."""
    t = tr(bot, "en")
    for person in (COURIER, OTHER, COORDINATOR):
        bot.user(person, f"P{person}")
        await bot.say(person, "/start")
    first = await file_suggestion(bot, COURIER)
    second = await file_suggestion(bot, OTHER)
    await bot.say(COORDINATOR, f"/open {second}")
    await bot.press(COORDINATOR, "Merge")
    await bot.say(COORDINATOR, str(first))
    await bot.press(COORDINATOR, "Confirm merge")
    await bot.say(COURIER, f"/open {first}")
    await bot.press(COURIER, "Withdraw")
    await bot.press(COURIER, "Withdraw it")
    assert bot.last_text(OTHER) == t("notice.withdraw.followers", number=first)


async def test_each_role_has_its_menu(bot) -> None:
    """Couriers keep theirs; staff get their queue with its count; coordinators get their tools, triage counted."""
    courier, staff, coordinator = bot.user(COURIER, "Li"), bot.user(HR_STAFF, "HR worker"), bot.user(COORDINATOR, "C")
    await bot.say(courier, "/start")
    assert bot.reply_labels(courier) == [
        "New appeal",
        "My appeals",
        "Nearest station",
        "Micro-wish",
        "Activities",
        "Help",
        "Language / 语言",
        "Settings",
    ]
    await bot.say(staff, "/start")
    assert bot.reply_labels(staff) == [
        "Queue (0)",
        "New appeal",
        "My appeals",
        "Nearest station",
        "Micro-wish",
        "Activities",
        "Help",
        "Language / 语言",
        "Settings",
    ]
    number = await file_wage_appeal(bot, "en")
    await bot.say(staff, "/help")
    assert bot.reply_labels(staff)[0] == "Queue (1)"
    await bot.say(staff, "Queue (1)")
    assert bot.last_text(staff).startswith(bot.services.text("en", "staff.queue_title", unit="HR Bureau"))
    assert f"#{number}" in bot.last_text(staff)

    await file_suggestion(bot, courier)
    await bot.say(coordinator, "/start")
    assert bot.reply_labels(coordinator) == [
        "Triage (1)",
        "Digest",
        "Export",
        "Stations",
        "People",
        "Outreach",
        "Activities",
        "Surveys",
        "Micro-wish",
        "Help",
        "Language / 语言",
    ]
    # Reaching out has its own row: each button opens the coordinator's side of it.
    await bot.say(coordinator, "Outreach")
    assert bot.last_text(coordinator) == bot.services.text("en", "outreach.no_sends")
    await bot.press(coordinator, "Write a notice")
    assert bot.last_text(coordinator) == bot.services.text("en", "outreach.ask_text", limit=1000)
    await bot.say(coordinator, "/cancel")
    for label in ("Activities", "Surveys", "Micro-wish"):
        said = await bot.say(coordinator, label)
        assert said and bot.services.text("en", "fallback.not_understood") not in [m["text"] for m in said]
    await bot.say(coordinator, "Triage (1)")
    assert bot.last_text(coordinator).startswith(bot.services.text("en", "coord.triage_title"))
    await bot.say(coordinator, "Export")
    assert bot.last_text(coordinator) == bot.services.text("en", "export.choose")
    await bot.say(coordinator, "Stations")
    assert bot.last_text(coordinator).startswith("Stations: ")
    await bot.say(coordinator, "People")
    assert bot.last_text(coordinator).startswith(bot.services.text("en", "people.title"))
    await bot.say(coordinator, "Digest")
    assert bot.core.bot_messages(coordinator)[-1]  # the digest came (its parts are the digest's own tests)

    # In Chinese, the same menu in Chinese, and a count that moved on is still understood.
    await bot.services.storage.people.set_language(staff, "zh")
    await bot.say(staff, "/start")
    assert bot.reply_labels(staff)[0] == "待办（1）"
    await bot.say(staff, "待办（7）")
    assert bot.last_text(staff).startswith("人社局的待办诉求")
    # A courier typing the staff button is told whose it is.
    await bot.say(courier, "Queue (1)")
    assert bot.last_text(courier) == bot.services.text("en", "staff.not_staff")


async def test_help_lists_what_each_role_can_do(bot) -> None:
    """A courier sees no staff commands; staff see theirs and the courier's; a coordinator theirs."""
    helps = {}
    for person in (COURIER, HR_STAFF, COORDINATOR):
        bot.user(person, f"P{person}")
        (helps[person],) = await bot.say(person, "/help")
    courier, staff, coordinator = (helps[p]["text"] for p in (COURIER, HR_STAFF, COORDINATOR))
    assert "/appeal" in courier and "/my" in courier
    assert not any(c in courier for c in ("/queue", "/open", "/triage", "/invite", "/stations", "/people", "/export"))
    assert "/appeal" in staff and "/queue" in staff and "/open" in staff
    assert not any(c in staff for c in ("/triage", "/invite", "/stations", "/people", "/export"))
    for command in ("/triage", "/digest", "/export", "/stations", "/people", "/invite", "/open", "/help"):
        assert command in coordinator
    assert "/queue" not in coordinator and "/appeal" not in coordinator


async def test_invite_by_button_or_by_name(bot) -> None:
    """No ids needed: /invite offers each unit by name, and takes a unit's name in either language."""
    t = tr(bot, "en")
    coordinator = bot.user(COORDINATOR, "C")
    await bot.say(coordinator, "/invite")
    message = bot.core.last_message(coordinator)
    assert message["text"] == t("coord.invite_usage")
    assert sorted(label for label, _ in bot.core.inline_buttons(message)) == [
        "Invite staff: HR Bureau",
        "Invite staff: Station One",
    ]
    await bot.press(coordinator, "Invite staff: HR Bureau")
    code = bot.last_text(coordinator).rsplit("/join ", 1)[1]
    assert bot.last_text(coordinator) == t("coord.invite_created", unit="HR Bureau", code=code, days=7)
    for typed, unit in (("人社局", "HR Bureau"), ("station one", "Station One"), ("hr", "HR Bureau")):
        (created,) = await bot.say(coordinator, f"/invite {typed}")
        code = created["text"].rsplit("/join ", 1)[1]
        assert created["text"] == t("coord.invite_created", unit=unit, code=code, days=7)
    (unknown,) = await bot.say(coordinator, "/invite the moon")
    assert unknown["text"] == t("people.invite_unknown", name="the moon")
    assert len(bot.core.inline_buttons(unknown)) == 2

    # The button checks the presser's role in the database, not the message it sits on.
    courier = bot.user(COURIER, "Li")
    await bot.say(courier, "/start")
    query = bot.core.press_button(courier, bot.core.last_message(courier)["message_id"], "iv:mk:hr")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t("coord.not_coordinator")
    assert "/join" not in bot.last_text(courier)


async def test_people_lists_units_with_their_staff(bot) -> None:
    """/people: each unit by name with its number of staff, and an Invite button for each."""
    t = tr(bot, "zh")
    coordinator = bot.user(COORDINATOR, "C", language_code="zh")
    await bot.say(coordinator, "/people")
    message = bot.core.last_message(coordinator)
    lines = message["text"].split("\n")
    assert lines[0] == t("people.title")
    assert t("people.line", unit="一号驿站", count=2) in lines and t("people.line", unit="人社局", count=1) in lines
    await bot.press(coordinator, "邀请人社局工作人员")
    code = bot.last_text(coordinator).rsplit("/join ", 1)[1]
    joiner = bot.user(OTHER, "New", language_code="zh")
    await bot.say(joiner, f"/join {code}")
    assert bot.reply_labels(joiner)[0] == "待办（0）"
    await bot.say(coordinator, "/people")
    assert t("people.line", unit="人社局", count=2) in bot.last_text(coordinator)
    courier = bot.user(COURIER, "Li")
    await bot.say(courier, "/people")
    assert bot.last_text(courier) == bot.services.text("en", "coord.not_coordinator")


async def test_merged_couriers_hear_a_reopening_and_its_deadline(bot) -> None:
    """The appeal others joined is not solved after all: they hear it is reopened, and by when it is answered."""
    t = tr(bot, "en")
    for person in (COURIER, OTHER, COORDINATOR, STATION_STAFF):
        bot.user(person, f"P{person}")
        await bot.say(person, "/start")
    first = await file_suggestion(bot, COURIER)
    second = await file_suggestion(bot, OTHER)
    await bot.say(COORDINATOR, f"/open {second}")
    await bot.press(COORDINATOR, "Merge")
    await bot.say(COORDINATOR, str(first))
    await bot.press(COORDINATOR, "Confirm merge")
    await bot.say(COORDINATOR, f"/open {first}")
    await bot.press(COORDINATOR, "Assign")
    await bot.press(COORDINATOR, "Station One")
    await bot.press(COORDINATOR, "Normal")
    await bot.press(STATION_STAFF, "Accept")
    await bot.press(STATION_STAFF, "Resolve")
    await bot.say(STATION_STAFF, "A microwave is installed")
    await bot.press(STATION_STAFF, "Confirm resolve")
    bot.clock.advance(hours=1)
    await bot.press(COURIER, "Not solved")
    await bot.say(COURIER, "It does not work")
    handle = await timer(bot, first, "handle")
    assert bot.last_text(OTHER) == t(
        "notice.rate_unsatisfied.followers",
        number=first,
        deadline=t("deadline.handle", when=bot.services.local(handle.due_at, "en")),
    )


async def test_each_role_sees_its_own_command_list(bot) -> None:
    """Under "/", couriers see theirs; staff also their queue; a coordinator their tools; a new worker at once."""
    from telegram import BotCommandScopeChat

    async def listed(chat_id: int | None, language: str | None = None) -> list[str]:
        scope = BotCommandScopeChat(chat_id) if chat_id is not None else None
        return [c.command for c in await bot.app.bot.get_my_commands(scope=scope, language_code=language)]

    assert await listed(None, "en") == [
        "start",
        "appeal",
        "my",
        "station",
        "wishes",
        "activities",
        "privacy",
        "settings",
        "help",
        "language",
        "cancel",
    ]
    assert (await listed(HR_STAFF))[:2] == ["queue", "open"] and "appeal" in await listed(HR_STAFF)
    coordinator = await listed(COORDINATOR)
    assert "triage" in coordinator and "people" in coordinator and "appeal" not in coordinator
    assert await listed(OTHER) == []  # a courier: the default list

    bot.user(COORDINATOR, "C")
    await bot.say(COORDINATOR, "/invite hr")
    code = bot.last_text(COORDINATOR).rsplit("/join ", 1)[1]
    bot.user(OTHER, "New")
    await bot.say(OTHER, f"/join {code}")
    assert (await listed(OTHER))[:2] == ["queue", "open"]


async def test_start_greets_each_role_with_what_it_does_there(bot) -> None:
    """/start tells a worker which unit's appeals come to them and a coordinator where their tools are."""
    for person, lang in ((HR_STAFF, "zh"), (COORDINATOR, "en"), (COURIER, "en")):
        bot.user(person, f"P{person}", language_code=lang)
        await bot.say(person, "/start")
    assert tr(bot, "zh")("start2.about_staff", unit="人社局") in bot.last_text(HR_STAFF)
    assert tr(bot, "en")("start2.about_coordinator") in bot.last_text(COORDINATOR)
    courier = bot.last_text(COURIER)
    assert tr(bot, "en")("start.about") in courier and "/help" not in courier
