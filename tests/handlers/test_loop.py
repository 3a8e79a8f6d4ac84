"""The whole loop in Telegram: a courier files, a unit handles, the courier rates; in en and zh."""

import pytest

from domain.lifecycle import Event, Outcome, State
from handlers.i18n import Catalog
from handlers.telegram_text import said
from tests.harness import running_bot

COURIER, HR_STAFF, COORDINATOR = 1001, 600, 900
PHONE = "+8613800138000"

REQUIRED_ENGLISH_LABELS = {
    "menu.new_appeal": "New appeal",
    "menu.my_appeals": "My appeals",
    "menu.nearest_station": "Nearest station",
    "menu.help": "Help",
    "menu.language": "Language",
    "button.share_location": "Share location",
    "button.confirm": "Confirm",
    "button.back": "Back",
    "button.cancel": "Cancel",
    "button.skip": "Skip",
    "button.accept": "Accept",
    "button.send_back": "Send back",
    "button.ask": "Ask",
    "button.note": "Note",
    "button.resolve": "Resolve",
    "button.satisfied": "Satisfied",
    "button.fairly_satisfied": "Fairly satisfied",
    "button.not_solved": "Not solved",
    "button.withdraw": "Withdraw",
    "button.assign": "Assign",
    "button.reject": "Reject",
    "button.merge": "Merge",
}


def test_english_labels_begin_with_the_agreed_words() -> None:
    """People and tests find buttons by these first words."""
    catalog = Catalog.load()
    for key, start in REQUIRED_ENGLISH_LABELS.items():
        assert catalog.text("en", key).startswith(start), key


@pytest.fixture
async def bot(tmp_path):
    """The bot with a district: HR (staff 600) gets work appeals; coordinator 900."""
    async with running_bot(tmp_path / "loop.sqlite3") as running:
        yield running


async def file_wage_appeal(bot, lang: str, courier: int = COURIER) -> int:
    """The courier files a wage appeal with their phone; returns its number."""
    t = lambda key, **kw: bot.services.text(lang, key, **kw)  # noqa: E731
    await bot.say(courier, "/appeal")
    assert bot.last_text(courier).startswith(t("filing.ask_category") + "\n")
    # Each category is named with a few examples, so a courier knows where wages or a broken charger go.
    assert t(
        "filing2.category_example",
        category=bot.services.category("work").name(lang),
        example=bot.services.category("work").example(lang),
    ) in bot.last_text(courier)
    shown = len(bot.texts(courier))
    await bot.press(courier, bot.services.category("work").name(lang))
    # The category question turns into the description question: no new message.
    assert len(bot.texts(courier)) == shown
    category = t("filing.review_category", category=bot.services.category("work").name(lang))
    assert bot.last_text(courier) == category + "\n" + t("filing.ask_description", limit=2000)
    await bot.say(courier, "My October wages were not paid")
    assert bot.last_text(courier) == t("filing.ask_place")
    await bot.press(courier, t("button.skip"))
    assert bot.last_text(courier) == t("filing.ask_contact")
    assert bot.reply_labels(courier) == [t("button.share_phone")]
    bot.core.share_contact(courier, PHONE, "Li", contact_user_id=courier)
    await bot.deliver()
    review = bot.last_text(courier)
    assert "My October wages were not paid" in review and PHONE in review
    bot.clock.advance(minutes=1)
    shown = len(bot.texts(courier))
    await bot.press(courier, t("button.confirm"))
    # The receipt takes the confirm button's place under the summary.
    assert len(bot.texts(courier)) == shown
    confirmation = bot.last_text(courier)
    assert confirmation.startswith(category) and PHONE in confirmation
    assert bot.core.inline_buttons(bot.core.bot_messages(courier)[-1]) == []
    number = int(confirmation.split("#")[1].split()[0])
    assert (
        bot.services.text(lang, "filing.submitted_routed", number=number, unit="X", deadline="Y").split("#")[0]
        in confirmation
    )
    return number


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_file_handle_reopen_and_rate(bot, lang) -> None:
    """courier files -> routed -> accept -> ask -> answer -> resolve -> reopen -> resolve -> satisfied."""
    t = lambda key, **kw: bot.services.text(lang, key, **kw)  # noqa: E731
    bot.user(COURIER, "Li", language_code=lang)
    bot.user(HR_STAFF, "HR worker", language_code=lang)
    await bot.services.storage.people.set_language(HR_STAFF, lang)
    number = await file_wage_appeal(bot, lang)
    unit = "HR Bureau" if lang == "en" else "人社局"

    # The unit gets a card with the courier's shared phone, but never the courier's name.
    card = bot.last_text(HR_STAFF)
    assert card.startswith(t("notice.assign.unit", unit=unit))
    assert f"#{number}" in card and PHONE in card and "My October wages" in card
    assert "Li" not in card.replace(PHONE, "")
    labels = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(HR_STAFF))]
    assert labels == [t("button.accept"), t("button.send_back")]

    bot.clock.advance(minutes=10)
    await bot.press(HR_STAFF, t("button.accept"))
    assert t("state.accepted") in bot.texts(HR_STAFF)[-2]  # the card, edited in place
    assert bot.last_text(HR_STAFF) == t("appeal.done_accept", number=number)
    assert bot.last_text(COURIER).startswith(
        t("notice.accept.courier", number=number, unit=unit, deadline="").split("{")[0][:12]
    )

    bot.clock.advance(minutes=10)
    await bot.press(HR_STAFF, t("button.ask"))
    assert bot.last_text(HR_STAFF) == t("appeal.prompt_ask", number=number)
    await bot.say(HR_STAFF, "Which platform do you ride for?")
    assert bot.last_text(COURIER) == t(
        "notice.ask.courier", unit=unit, number=number, note=said("Which platform do you ride for?")
    )

    bot.clock.advance(minutes=10)
    await bot.press(COURIER, t("button.reply"))
    await bot.say(COURIER, "Meituan")
    assert bot.last_text(COURIER) == t("appeal.done_answer", number=number)
    assert bot.last_text(HR_STAFF).startswith(t("notice.answer.unit", number=number, note=said("Meituan")))

    bot.clock.advance(minutes=10)
    await bot.press(HR_STAFF, t("button.resolve"))
    await bot.say(HR_STAFF, "Paid on Friday")
    assert bot.last_text(HR_STAFF) == t("confirm.resolve", number=number, text=said("Paid on Friday"))
    await bot.press(HR_STAFF, t("confirm.button_resolve"))
    resolved = bot.core.last_message(COURIER)
    assert resolved["text"] == t("notice.resolve.courier", unit=unit, number=number, note=said("Paid on Friday"))
    assert [label for label, _ in bot.core.inline_buttons(resolved)] == [
        t("button.satisfied"),
        t("button.fairly_satisfied"),
        t("button.not_solved"),
    ]

    bot.clock.advance(minutes=10)
    await bot.press(COURIER, t("button.not_solved"))
    assert bot.last_text(COURIER) == t("appeal.prompt_unsatisfied", number=number)
    await bot.say(COURIER, "Only half was paid")
    assert bot.last_text(COURIER) == t("appeal.done_rate_unsatisfied", number=number)
    assert bot.last_text(HR_STAFF).startswith(
        t("notice.rate_unsatisfied.unit", number=number, redo=1, note=said("Only half was paid"))
    )

    bot.clock.advance(minutes=10)
    await bot.press(HR_STAFF, t("button.resolve"))
    await bot.say(HR_STAFF, "The rest is paid too")
    await bot.press(HR_STAFF, t("confirm.button_resolve"))
    bot.clock.advance(minutes=10)
    await bot.press(COURIER, t("button.satisfied"))
    assert t("appeal.done_rate_satisfied", number=number) in bot.texts(COURIER)
    assert bot.last_text(HR_STAFF) == t("notice.rate_satisfied.unit", number=number)

    appeal = await bot.services.storage.appeals.get(number)
    assert (appeal.state, appeal.outcome, appeal.reopens) == (State.CLOSED, Outcome.RESOLVED, 1)
    ledger = await bot.services.storage.appeals.ledger(number)
    assert [(e.event, e.actor_id) for e in ledger] == [
        (Event.SUBMIT, COURIER),
        (Event.ASSIGN, None),
        (Event.ACCEPT, HR_STAFF),
        (Event.ASK, HR_STAFF),
        (Event.ANSWER, COURIER),
        (Event.RESOLVE, HR_STAFF),
        (Event.RATE_UNSATISFIED, COURIER),
        (Event.RESOLVE, HR_STAFF),
        (Event.RATE_SATISFIED, COURIER),
    ]
    minutes = [int((e.at - ledger[0].at).total_seconds() // 60) for e in ledger]
    assert minutes == [0, 0, 10, 20, 30, 40, 50, 60, 70]
    assert [e.on_time for e in ledger if e.event in (Event.ACCEPT, Event.RESOLVE)] == [True, True, True]

    # The courier's own view tells the story in plain words.
    await bot.say(COURIER, "/my")
    await bot.press(COURIER, t("button.open", number=number))
    story = bot.last_text(COURIER)
    for line in (t("history.accept"), t("history.answer", note=said("Meituan")), t("history.rate_satisfied")):
        assert line in story


async def test_unrouted_appeal_is_triaged_assigned_and_merged(bot) -> None:
    """What no rule routes waits for a coordinator, who assigns one and merges a duplicate."""
    t = lambda key, **kw: bot.services.text("en", key, **kw)  # noqa: E731
    courier, other = bot.user(COURIER, "Li"), bot.user(1002, "Wang")
    coordinator, station_staff = bot.user(COORDINATOR, "Coordinator"), bot.user(500, "Station worker")
    for person in (coordinator, station_staff):
        await bot.say(person, "/start")  # their Telegram app is English; config people have no language yet
    numbers = []
    for person in (courier, other):
        await bot.say(person, "/appeal")
        await bot.press(person, "Suggestions")
        await bot.say(person, "Please add a microwave at the station")
        await bot.press(person, "Skip")
        await bot.press(person, "Skip")
        await bot.press(person, "Confirm")
        assert "To be assigned to a unit by" in bot.last_text(person)
        numbers.append(int(bot.last_text(person).split("#")[1].split()[0]))
    first, second = numbers
    assert bot.texts(coordinator)[-1].startswith(t("notice.submit.coordinators", number=second))

    await bot.say(coordinator, "/triage")
    assert f"#{first}" in bot.last_text(coordinator) and f"#{second}" in bot.last_text(coordinator)
    await bot.press(coordinator, t("button.open", number=first))
    await bot.press(coordinator, "Assign")
    await bot.press(coordinator, "Station One")
    await bot.press(coordinator, "Urgent")
    appeal = await bot.services.storage.appeals.get(first)
    assert (appeal.state, appeal.unit_id, appeal.priority) == (State.HANDLING, "st1", "urgent")
    assert bot.last_text(station_staff).startswith(t("notice.assign.unit", unit="Station One"))
    assert bot.last_text(courier).startswith(f"Appeal #{first} has been sent to the unit: Station One")

    await bot.say(coordinator, f"/open {second}")
    await bot.press(coordinator, "Merge")
    await bot.say(coordinator, "not a number")
    assert bot.last_text(coordinator) == t("appeal.merge_bad_number")
    await bot.say(coordinator, f"#{first}")
    assert bot.last_text(coordinator).startswith(
        t("confirm.merge", number=second, target=first, duplicate="", original="").split("\n")[0]
    )
    await bot.press(coordinator, "Confirm merge")
    merged = await bot.services.storage.appeals.get(second)
    assert (merged.outcome, merged.merged_into) == (Outcome.MERGED, first)
    assert bot.last_text(other) == t("notice.merge.courier", number=second, original=first)

    # The duplicate's courier follows the original to its end.
    await bot.press(station_staff, "Accept")
    assert bot.last_text(other) == t("notice.accept.followers", number=first, unit="Station One")
    await bot.press(station_staff, "Resolve")
    await bot.say(station_staff, "A microwave is installed")
    await bot.press(station_staff, "Confirm resolve")
    assert bot.last_text(other) == t(
        "notice.resolve.followers", number=first, unit="Station One", note=said("A microwave is installed")
    )
    assert "Satisfied" not in [label for label, _ in bot.core.inline_buttons(bot.core.last_message(other))]


async def test_send_back_reject_and_withdraw(bot) -> None:
    """A unit sends an appeal back with a reason, a coordinator rejects one, a courier withdraws one."""
    t = lambda key, **kw: bot.services.text("en", key, **kw)  # noqa: E731
    bot.user(COURIER, "Li")
    coordinator, hr = bot.user(COORDINATOR, "Coordinator"), bot.user(HR_STAFF, "HR worker")
    for person in (coordinator, hr):
        await bot.say(person, "/start")
    first = await file_wage_appeal(bot, "en")
    await bot.press(hr, "Send back")
    await bot.say(hr, "This is for the trade union")
    assert bot.last_text(coordinator).startswith(
        t("notice.send_back.coordinators", number=first, unit="HR Bureau", note=said("This is for the trade union"))
    )
    await bot.press(coordinator, "Reject")
    await bot.say(coordinator, "Outside our district")
    await bot.press(coordinator, "Confirm reject")
    assert bot.last_text(COURIER) == t("notice.reject.courier", number=first, note=said("Outside our district"))

    second = await file_wage_appeal(bot, "en")
    await bot.say(COURIER, f"/open {second}")
    await bot.press(COURIER, "Withdraw")
    assert bot.last_text(COURIER) == t("appeal.withdraw_confirm", number=second)
    await bot.press(COURIER, "Withdraw it")
    assert bot.last_text(COURIER) == t("appeal.done_withdraw", number=second)
    assert bot.last_text(hr) == t("notice.withdraw.unit", number=second)
    assert (await bot.services.storage.appeals.get(second)).outcome == Outcome.WITHDRAWN
