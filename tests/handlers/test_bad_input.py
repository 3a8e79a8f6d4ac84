"""Bad input at every step gets a clear reply and changes nothing; dialogs survive restarts."""

import pytest

from handlers import callbacks
from handlers.telegram_text import said
from tests.handlers.test_loop import file_wage_appeal
from tests.harness import running_bot

COURIER, OTHER_COURIER, STATION_STAFF, HR_STAFF, COORDINATOR = 1001, 1002, 500, 600, 900


@pytest.fixture
async def bot(tmp_path):
    """The bot with the test district; everyone's app is English."""
    async with running_bot(tmp_path / "bad.sqlite3") as running:
        await running.start(COURIER, OTHER_COURIER, STATION_STAFF, HR_STAFF, COORDINATOR)
        yield running


async def snapshot(bot) -> tuple:
    """Everything a refused action must leave untouched."""
    db = bot.services.storage.db
    counts = await db.fetchone(
        "SELECT (SELECT count(*) FROM appeals), (SELECT count(*) FROM events), (SELECT count(*) FROM outbox)"
    )
    kept = (
        "SELECT id, state, version FROM appeals ORDER BY id",
        "SELECT courier_id, step, data FROM drafts ORDER BY courier_id",
        "SELECT telegram_id, role, unit_id FROM people ORDER BY telegram_id",
    )
    return (*counts, *[[tuple(row) for row in await db.fetchall(sql)] for sql in kept])


def t(bot, key, **values):
    """An English message."""
    return bot.services.text("en", key, **values)


async def test_wrong_kind_of_message_at_each_step(bot) -> None:
    """A contact when a category or a place is due, a sticker-less location: each step says what it needs."""
    await bot.say(COURIER, "/appeal")
    before = await snapshot(bot)
    bot.core.share_contact(COURIER, "+8613800138000", "Li", contact_user_id=COURIER)
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing.expecting_category")
    await bot.press(COURIER, "Work protection")
    bot.core.share_contact(COURIER, "+8613800138000", "Li", contact_user_id=COURIER)
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing.expecting_description")
    await bot.say(COURIER, "Wages unpaid")
    bot.core.share_contact(COURIER, "+8613800138000", "Li", contact_user_id=COURIER)
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing.expecting_place")
    assert before[:3] == (await snapshot(bot))[:3]


async def test_overlong_text_and_oversized_photo_are_refused(bot) -> None:
    """5,000 characters and an 11 MB photo are refused with the limit; the draft stays as it was."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    before = await bot.services.storage.dialogs.draft(COURIER)
    await bot.say(COURIER, "x" * 5000)
    assert bot.last_text(COURIER) == t(bot, "filing.too_long", length=5000, limit=2000)
    bot.core.send_photo(COURIER, b"\xff" * (11 * 1024 * 1024))
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing.photo_too_large", limit=10)
    after = await bot.services.storage.dialogs.draft(COURIER)
    assert after.model_copy(update={"last": None}) == before.model_copy(
        update={"last": None, "updated_at": after.updated_at}
    )


async def test_a_strangers_contact_is_refused(bot) -> None:
    """Only the sender's own contact is taken as their phone."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.say(COURIER, "Wages unpaid")
    await bot.press(COURIER, "Skip")
    before = await snapshot(bot)
    bot.core.share_contact(COURIER, "+8613900000000", "Someone else", contact_user_id=4242)
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing.own_contact_only")
    bot.core.share_contact(COURIER, "+8613900000000", "No user id")
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing.own_contact_only")
    assert await snapshot(bot) == before


async def test_forged_and_stale_buttons_change_nothing(bot) -> None:
    """Other units' and other couriers' appeals, moved-on states and malformed data are all refused."""
    number = await file_wage_appeal(bot, "en")  # routed to HR
    before = await snapshot(bot)
    cases = [
        (STATION_STAFF, callbacks.appeal(number, "acc"), "appeal.not_found"),  # another unit
        (OTHER_COURIER, callbacks.appeal(number, "wd"), "appeal.not_found"),  # another courier
        (OTHER_COURIER, callbacks.appeal(number, "open"), "appeal.not_found"),
        (COURIER, callbacks.appeal(number, "acc"), "appeal.not_permitted"),  # the courier accepting
        (HR_STAFF, callbacks.appeal(number, "rs"), "appeal.not_permitted"),  # staff rating
        (HR_STAFF, callbacks.appeal(number + 100, "acc"), "appeal.not_found"),
        (HR_STAFF, "ap:1:drop_table", "press.invalid"),
        (HR_STAFF, "something-else", "press.invalid"),
        (HR_STAFF, f"ap:{number}:zzz", "press.invalid"),  # a verb no button has
    ]
    for person, data, key in cases:
        query = bot.core.press_button(person, bot.core.last_message(person)["message_id"], data)
        await bot.deliver()
        answer = bot.core.answered_callback(query)
        assert answer is not None and answer["text"] == t(bot, key), (person, data, answer)
        assert answer["show_alert"] is True
    assert await snapshot(bot) == before

    # Already assigned: a toast says what happened, not an alert.
    query = bot.core.press_button(
        COORDINATOR, bot.core.last_message(COORDINATOR)["message_id"], callbacks.appeal(number, "asg")
    )
    await bot.deliver()
    assert bot.core.answered_callback(query) == {
        "text": t(bot, "fixcards.assigned_already", number=number, unit="HR Bureau"),
        "show_alert": False,
    }
    assert await snapshot(bot) == before

    # A button pressed twice: the second press gets a quiet "already done" and changes nothing.
    await bot.press(HR_STAFF, "Accept")
    after_accept = await snapshot(bot)
    card = next(m for m in reversed(bot.core.bot_messages(HR_STAFF)) if "#" in (m.get("text") or ""))
    query = bot.core.press_button(HR_STAFF, card["message_id"], callbacks.appeal(number, "acc"))
    await bot.deliver()
    assert bot.core.answered_callback(query) == {
        "text": t(bot, "stale.already_done", number=number),
        "show_alert": False,
    }
    assert await snapshot(bot) == after_accept


async def test_commands_for_other_roles_are_refused(bot) -> None:
    """Couriers cannot use staff or coordinator commands; staff cannot invite."""
    before = await snapshot(bot)
    assert (await bot.say(COURIER, "/queue"))[0]["text"] == t(bot, "staff.not_staff")
    assert (await bot.say(COURIER, "/triage"))[0]["text"] == t(bot, "coord.not_coordinator")
    assert (await bot.say(STATION_STAFF, "/invite st1"))[0]["text"] == t(bot, "coord.not_coordinator")
    assert (await bot.say(COURIER, "/open 1"))[0]["text"] == t(bot, "appeal.not_found")
    assert await snapshot(bot) == before


async def test_cancel_and_back_at_each_step(bot) -> None:
    """Back returns one step, /cancel throws the draft away, and nothing is filed."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Work protection")
    await bot.press(COURIER, "Back")
    assert bot.last_text(COURIER).startswith(t(bot, "filing.ask_category") + "\n")
    await bot.press(COURIER, "Daily-life services")
    await bot.say(COURIER, "The charger at the station is broken")
    assert bot.last_text(COURIER) == t(bot, "filing.ask_place")
    await bot.press(COURIER, "Back")
    # Back keeps what was written: it is shown, and Next goes on with it.
    assert bot.last_text(COURIER) == "\n".join(
        (
            t(bot, "filing.review_category", category="Daily-life services"),
            t(bot, "filing.review_description", description=said("The charger at the station is broken")),
            t(bot, "filing2.add_or_next"),
        )
    )
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.category) == ("description", "life")
    assert (await snapshot(bot))[0] == 0


async def test_cancel_anywhere(bot) -> None:
    """/cancel mid-dialog and the Cancel button both leave nothing behind."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Daily-life")
    await bot.say(COURIER, "No hot water at the station")
    (reply,) = [m for m in await bot.say(COURIER, "/cancel")]
    assert reply["text"] == t(bot, "cancel.done")
    assert await bot.services.storage.dialogs.draft(COURIER) is None
    (reply,) = await bot.say(COURIER, "/cancel")
    assert reply["text"] == t(bot, "cancel.nothing")
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Cancel")
    assert bot.last_text(COURIER) == t(bot, "filing.cancelled")
    assert (await snapshot(bot))[0] == 0


@pytest.mark.parametrize("word", ["cancel", "取消", " Cancel. "])
async def test_cancel_typed_as_a_word_cancels_and_never_joins_the_appeal(bot, word) -> None:
    """At the phone step, where other words join the description, the word alone cancels like /cancel."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Daily-life")
    await bot.say(COURIER, "No hot water at the station")
    await bot.press(COURIER, "Skip")  # no place: the phone step is next
    (reply,) = await bot.say(COURIER, word)
    assert reply["text"] == t(bot, "cancel.done")
    assert await bot.services.storage.dialogs.draft(COURIER) is None
    assert (await snapshot(bot))[0] == 0
    # A sentence with the word in it is words, as ever.
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Daily-life")
    await bot.say(COURIER, "Please cancel my fine")
    assert "Please cancel my fine" in (await bot.services.storage.dialogs.draft(COURIER)).description


async def test_a_draft_survives_a_restart(tmp_path) -> None:
    """The dialog's step and data are in SQLite: a new process picks up where the courier was."""
    path = tmp_path / "restart.sqlite3"
    async with running_bot(path) as bot:
        bot.user(COURIER, "Li")
        await bot.say(COURIER, "/appeal")
        await bot.press(COURIER, "Work protection")
        await bot.say(COURIER, "Wages unpaid since October")
    async with running_bot(path) as bot:
        bot.clock.advance(minutes=5)  # a new fake Telegram: its message ids start again, its dates do not
        bot.user(COURIER, "Li")
        await bot.say(COURIER, "/appeal")
        assert bot.texts(COURIER)[0].startswith(t(bot, "filing2.draft_waiting", what="Work protection").split(":")[0])
        await bot.press(COURIER, t(bot, "filing2.button_continue"))
        assert bot.last_text(COURIER) == t(bot, "filing.ask_place")
        await bot.press(COURIER, "Skip")
        await bot.press(COURIER, "Skip")
        assert "Wages unpaid since October" in bot.last_text(COURIER)
        await bot.press(COURIER, "Confirm")
        assert (await bot.services.storage.appeals.get(1)).description == "Wages unpaid since October"


async def test_invite_and_join(bot) -> None:
    """A coordinator's one-time code makes a courier staff of a unit, once."""
    await bot.say(COORDINATOR, "/invite")
    labels = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(COORDINATOR))]
    assert sorted(labels) == ["Invite staff: HR Bureau", "Invite staff: Station One"]
    (created,) = await bot.say(COORDINATOR, "/invite st1")
    code = created["text"].rsplit("/join ", 1)[1]
    (joined,) = await bot.say(OTHER_COURIER, f"/join {code}")
    assert joined["text"] == t(bot, "staff.join_ok", unit="Station One")
    person = await bot.services.storage.people.get(OTHER_COURIER)
    assert (person.role, person.unit_id) == ("staff", "st1")
    (again,) = await bot.say(COURIER, f"/join {code}")
    assert again["text"] == t(bot, "staff.join_bad")
    assert (await bot.services.storage.people.get(COURIER)).role == "courier"
    (queue,) = await bot.say(OTHER_COURIER, "/queue")
    assert queue["text"] == t(bot, "staff.queue_empty")
