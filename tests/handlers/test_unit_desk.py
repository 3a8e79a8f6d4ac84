"""A unit's shared desk: a coordinator links a group to a unit, its cards go there (a topic per appeal
in a forum), any of its workers acts from the group, and a group that stops working sends everything
back to the workers directly."""

from datetime import timedelta

import pytest

from domain.lifecycle import Event
from handlers import callbacks
from handlers.callbacks import AppealVerb
from sandbox.core import ApiError
from tests.harness import running_bot
from tests.helpers import file_appeal, press_data, submit_appeal

COORDINATOR, WORKER, OTHER_WORKER, HR_WORKER, STRANGER, COURIER = 900, 500, 501, 600, 700, 1001
FORUM = -1001000000001
PLAIN = -1001000000002
PHONE = "+8613800138000"


@pytest.fixture
async def bot(tmp_path):
    """The district (Station One: staff 500 and 501); a forum supergroup and a plain one with the staff,
    the coordinator, a worker of another unit and a stranger in them."""
    async with running_bot(tmp_path / "desk.sqlite3") as running:
        await running.start(COORDINATOR, WORKER, OTHER_WORKER, HR_WORKER, COURIER)
        running.user(STRANGER, "Stranger")
        running.core.add_group(FORUM, "Station One desk", forum=True)
        running.core.add_group(PLAIN, "Station One chat")
        for group in (FORUM, PLAIN):
            for person in (COORDINATOR, WORKER, OTHER_WORKER, HR_WORKER, STRANGER):
                running.core.join_group(group, person)
        yield running


def t(bot, key: str, **values) -> str:
    return bot.services.text("en", key, **values)


async def in_group(bot, person: int, text: str, group: int = FORUM) -> list[dict]:
    """`person` writes in the group; the bot's new messages there."""
    seen = len(bot.core.bot_messages(group))
    bot.core.send_text(person, text, chat_id=group)
    await bot.deliver()
    return bot.core.bot_messages(group)[seen:]


async def press_in_group(bot, person: int, label: str, group: int = FORUM) -> dict | None:
    """`person` presses the newest button in the group starting with `label`; the answer to the press."""
    query = bot.core.press(person, label, chat_id=group)
    await bot.deliver()
    return bot.core.answered_callback(query)


def group_texts(bot, group: int = FORUM) -> list[str]:
    return [m.get("text") or "" for m in bot.core.bot_messages(group)]


async def link(bot, group: int = FORUM) -> None:
    await in_group(bot, COORDINATOR, "/link_unit st1", group)
    await bot.tick()


async def desk_row(bot, group: int = FORUM):
    return await bot.services.storage.db.fetchone("SELECT * FROM unit_desks WHERE chat_id = ?", (group,))


async def file_for_station(bot) -> int:
    number = await submit_appeal(bot, COURIER, "facilities", "st1", "The charger is broken", contact_phone=PHONE)
    await bot.tick()
    return number


async def test_without_a_link_each_worker_gets_the_card_and_groups_get_nothing(bot) -> None:
    number = await file_for_station(bot)
    for worker in (WORKER, OTHER_WORKER):
        assert any(f"#{number}" in text and PHONE in text for text in bot.texts(worker))
    assert bot.core.bot_messages(FORUM) == []


async def test_a_coordinator_links_and_unlinks_the_group(bot) -> None:
    (said,) = await in_group(bot, COORDINATOR, "/link_unit st1")
    how = t(bot, "desk.how_topics")
    assert said["text"] == t(bot, "desk.linked", unit="Station One", how=how)
    row = await desk_row(bot)
    assert (row["unit_id"], row["topics"], row["linked_by"], row["broken_at"]) == ("st1", 1, COORDINATOR, None)
    await bot.tick()
    for worker in (WORKER, OTHER_WORKER):
        assert bot.last_text(worker) == t(bot, "desk.linked_workers", group="Station One desk")
    assert not any("Station One desk" in text for text in bot.texts(HR_WORKER))

    (asked,) = await in_group(bot, COORDINATOR, "/unlink_unit")
    assert asked["text"] == t(bot, "desk.unlink_confirm", unit="Station One")
    await press_in_group(bot, COORDINATOR, t(bot, "desk.button_keep"))
    assert group_texts(bot)[-1] == t(bot, "desk.kept")
    assert await desk_row(bot) is not None

    await in_group(bot, COORDINATOR, "/unlink_unit")
    await press_in_group(bot, COORDINATOR, t(bot, "desk.button_unlink"))
    assert group_texts(bot)[-1] == t(bot, "desk.unlinked", unit="Station One")
    assert await desk_row(bot) is None
    await bot.tick()
    assert bot.last_text(WORKER) == t(bot, "desk.unlinked_workers", group="Station One desk")
    number = await file_for_station(bot)
    assert any(f"#{number}" in text for text in bot.texts(WORKER))


async def test_without_an_id_the_units_are_buttons(bot) -> None:
    (said,) = await in_group(bot, COORDINATOR, "/link_unit", PLAIN)
    assert said["text"] == t(bot, "desk.choose_unit")
    labels = [label for label, _ in bot.core.inline_buttons(said)]
    assert "Station One" in labels and "HR Bureau" in labels
    # Only a coordinator's press links: the database says who presses.
    answer = await press_in_group(bot, WORKER, "Station One", PLAIN)
    assert answer == {"text": t(bot, "coord.not_coordinator"), "show_alert": True}
    assert await desk_row(bot, PLAIN) is None
    await press_in_group(bot, COORDINATOR, "Station One", PLAIN)
    assert group_texts(bot, PLAIN)[-1] == t(bot, "desk.linked", unit="Station One", how=t(bot, "desk.how_plain"))
    assert (await desk_row(bot, PLAIN))["topics"] == 0


async def test_only_a_coordinator_links_and_an_unknown_unit_is_listed(bot) -> None:
    (said,) = await in_group(bot, WORKER, "/link_unit st1")
    assert said["text"] == t(bot, "desk.not_coordinator")
    (said,) = await in_group(bot, STRANGER, "/unlink_unit")
    assert said["text"] == t(bot, "desk.not_coordinator")
    assert await desk_row(bot) is None
    (said,) = await in_group(bot, COORDINATOR, "/link_unit nowhere")
    assert said["text"] == t(bot, "desk.unknown_unit", unit="nowhere")
    assert bot.core.inline_buttons(said)
    (said,) = await in_group(bot, COORDINATOR, "/unlink_unit")
    assert said["text"] == t(bot, "desk.not_linked")


async def test_the_card_goes_into_its_own_topic_renamed_as_it_moves_and_a_worker_acts_from_the_group(bot) -> None:
    await link(bot)
    before = {worker: len(bot.texts(worker)) for worker in (WORKER, OTHER_WORKER)}
    number = await file_for_station(bot)
    # One card, in the group, in the appeal's own topic; no worker gets it privately.
    assert all(len(bot.texts(worker)) == before[worker] for worker in (WORKER, OTHER_WORKER))
    (topic,) = bot.core.topics(FORUM)
    assert topic["name"] == t(bot, "desk.topic_name", number=number, state=t(bot, "state.handling"))
    (card,) = [m for m in bot.core.bot_messages(FORUM) if f"#{number}" in (m.get("text") or "")]
    assert card["message_thread_id"] == topic["message_thread_id"]
    assert card["text"].startswith(t(bot, "notice.assign.unit", unit="Station One"))
    # The group never sees the courier's phone.
    assert PHONE not in card["text"] and t(bot, "desk.phone_private") in card["text"]
    labels = [label for label, _ in bot.core.inline_buttons(card)]
    assert t(bot, "button.accept") in labels and t(bot, "desk.open_private") in labels

    # A stranger in the group may not press; nothing of theirs is stored.
    answer = await press_in_group(bot, STRANGER, t(bot, "button.accept"))
    assert answer["text"] == t(bot, "desk.not_worker", unit="Station One")
    answer = await press_in_group(bot, HR_WORKER, t(bot, "button.accept"))
    assert answer["text"] == t(bot, "desk.not_worker", unit="Station One")
    assert await bot.services.storage.people.get(STRANGER) is None

    # A worker accepts from the group: the ledger names them, the topic is renamed, the card shows it.
    await press_in_group(bot, OTHER_WORKER, t(bot, "button.accept"))
    ledger = await bot.services.storage.appeals.ledger(number)
    assert (ledger[-1].event, ledger[-1].actor_id) == (Event.ACCEPT, OTHER_WORKER)
    (topic,) = bot.core.topics(FORUM)
    assert topic["name"] == t(bot, "desk.topic_name", number=number, state=t(bot, "state.accepted"))
    card = next(m for m in bot.core.bot_messages(FORUM) if m["message_id"] == card["message_id"])
    assert t(bot, "state.accepted") in card["text"] and PHONE not in card["text"]
    assert bot.last_text(OTHER_WORKER) == t(bot, "appeal.done_accept", number=number)

    # Open privately: the whole card, phone with it, in the presser's own chat.
    await press_in_group(bot, WORKER, t(bot, "desk.open_private"))
    assert PHONE in bot.last_text(WORKER)
    assert PHONE not in "".join(group_texts(bot))

    # Resolve from the group: the result is asked for and confirmed in the worker's own chat.
    answer = await press_in_group(bot, WORKER, t(bot, "button.resolve"))
    assert bot.last_text(WORKER) == t(bot, "appeal.prompt_resolve", number=number)
    assert answer["text"] == t(bot, "desk.continue_private")  # the group shows where it went on
    await bot.say(WORKER, "The charger was replaced this morning.")
    await bot.press(WORKER, "Confirm resolve")
    ledger = await bot.services.storage.appeals.ledger(number)
    assert (ledger[-1].event, ledger[-1].actor_id) == (Event.RESOLVE, WORKER)
    await bot.tick()
    (topic,) = bot.core.topics(FORUM)
    assert topic["name"] == t(bot, "desk.topic_name", number=number, state=t(bot, "state.feedback"))


async def test_a_deleted_topic_sends_the_cards_to_the_workers_and_tells_the_coordinators(bot) -> None:
    await link(bot)
    number = await file_for_station(bot)
    (topic,) = bot.core.topics(FORUM)
    bot.core.delete_topic(FORUM, topic["message_thread_id"])
    # The acceptance reminder is due: the group refuses it (its topic is gone).
    await bot.at(bot.clock.now + timedelta(days=2))
    row = await desk_row(bot)
    assert row["broken_reason"] == "topic_deleted" and row["broken_at"] is not None
    await bot.tick()
    for worker in (WORKER, OTHER_WORKER):
        texts = bot.texts(worker)
        # The reminder the group refused came as the worker's card (since edited by the next step, the chase-up).
        assert any(text.startswith(f"#{number} · ") and PHONE in text for text in texts), texts
        assert t(bot, "desk.broken_workers", group="Station One desk") in texts
    reason = t(bot, "desk.reason_topic_deleted")
    expected = t(bot, "desk.broken_coordinators", group="Station One desk", unit="Station One", reason=reason)
    assert expected in bot.texts(COORDINATOR)
    # Cards go to each worker from now on.
    second = await file_for_station(bot)
    assert any(f"#{second}" in text and PHONE in text for text in bot.texts(WORKER))


async def test_the_bot_removed_from_the_group_sends_the_open_cards_to_the_workers(bot) -> None:
    await link(bot, PLAIN)
    number = await file_for_station(bot)
    assert any(f"#{number}" in text for text in group_texts(bot, PLAIN))
    assert not any(f"#{number}" in text for text in bot.texts(WORKER))
    bot.core.remove_bot(PLAIN, by_user=OTHER_WORKER)
    await bot.deliver()
    row = await desk_row(bot, PLAIN)
    assert row["broken_reason"] == "removed"
    await bot.tick()
    for worker in (WORKER, OTHER_WORKER):
        card = next(
            text
            for text in bot.texts(worker)
            if text.startswith(t(bot, "desk.card", number=number, unit="Station One"))
        )
        assert PHONE in card
    reason = t(bot, "desk.reason_removed")
    expected = t(bot, "desk.broken_coordinators", group="Station One chat", unit="Station One", reason=reason)
    assert expected in bot.texts(COORDINATOR)


async def test_a_kicked_bot_noticed_on_sending_loses_nothing(bot) -> None:
    await link(bot, PLAIN)
    bot.core.fail_next("sendMessage", ApiError(403, "Forbidden: bot was kicked from the supergroup chat"))
    number = await file_for_station(bot)
    await bot.tick()
    assert (await desk_row(bot, PLAIN))["broken_reason"] == "removed"
    for worker in (WORKER, OTHER_WORKER):
        assert any(
            text.startswith(t(bot, "notice.assign.unit", unit="Station One")) and f"#{number}" in text
            for text in bot.texts(worker)
        )
    assert any(text.startswith("The group “Station One chat”") for text in bot.texts(COORDINATOR))


async def test_a_worker_who_has_not_opened_the_bot_is_told_in_the_group(bot) -> None:
    await link(bot)
    number = await file_for_station(bot)
    await press_in_group(bot, WORKER, t(bot, "button.accept"))
    # They never pressed Start in a chat with the bot: it cannot write to them there.
    bot.core.fail_next("sendMessage", ApiError(403, "Forbidden: bot can't initiate conversation with a user"))
    await press_in_group(bot, OTHER_WORKER, t(bot, "button.ask"))
    assert group_texts(bot)[-1] == t(bot, "desk.start_privately", name=f"P{OTHER_WORKER}")
    assert (await bot.services.storage.appeals.ledger(number))[-1].event is Event.ACCEPT


async def test_a_second_worker_pressing_the_same_button_is_told_and_the_card_keeps_the_groups_buttons(bot) -> None:
    await link(bot)
    number = await file_for_station(bot)
    (card,) = [m for m in bot.core.bot_messages(FORUM) if f"#{number}" in (m.get("text") or "")]
    accept = dict(bot.core.inline_buttons(card))[t(bot, "button.accept")]
    await press_in_group(bot, WORKER, t(bot, "button.accept"))
    # The other worker's tap came from the card as it was before (a double tap across two phones).
    query = bot.core.press_button(OTHER_WORKER, card["message_id"], accept, chat_id=FORUM)
    await bot.deliver()
    assert bot.core.answered_callback(query)["show_alert"] is False
    ledger = await bot.services.storage.appeals.ledger(number)
    assert [e.actor_id for e in ledger if e.event is Event.ACCEPT] == [WORKER]
    card = next(m for m in bot.core.bot_messages(FORUM) if m["message_id"] == card["message_id"])
    labels = [label for label, _ in bot.core.inline_buttons(card)]
    assert t(bot, "button.accept") not in labels and t(bot, "desk.open_private") in labels


async def test_a_bot_that_may_not_open_topics_says_why(bot) -> None:
    await link(bot)
    bot.core.fail_next("createForumTopic", ApiError(400, "Bad Request: not enough rights to create a topic"))
    number = await file_for_station(bot)
    await bot.tick()
    assert (await desk_row(bot))["broken_reason"] == "no_rights"
    reason = t(bot, "desk.reason_no_rights")
    expected = t(bot, "desk.broken_coordinators", group="Station One desk", unit="Station One", reason=reason)
    assert expected in bot.texts(COORDINATOR)
    assert any(f"#{number}" in text and PHONE in text for text in bot.texts(WORKER))


async def test_a_co_handling_unit_that_works_from_its_group_gets_the_card_there_and_signs_from_it(bot) -> None:
    """Station One's group is linked; a coordinator adds Station One beside HR, the lead, on a wage appeal: the
    co-handling card goes to the group, not to each worker, and a worker signs for the part from there."""
    await link(bot)
    number = await file_appeal(bot, COURIER, bot.services.category("work").name("en"), "Wages unpaid", lang="en")
    await press_data(bot, HR_WORKER, callbacks.appeal(number, AppealVerb.ACCEPT))
    seen = {person: len(bot.texts(person)) for person in (WORKER, OTHER_WORKER)}
    await press_data(bot, COORDINATOR, callbacks.appeal(number, AppealVerb.OPEN))
    await bot.press(COORDINATOR, t(bot, "button.add_cohandler"))
    await bot.press(COORDINATOR, "Station One")
    await bot.tick()
    card = next(m for m in reversed(bot.core.bot_messages(FORUM)) if f"#{number}" in (m.get("text") or ""))
    assert t(bot, "button.sign_part") in [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert {person: len(bot.texts(person)) for person in (WORKER, OTHER_WORKER)} == seen  # nothing privately
    await press_in_group(bot, OTHER_WORKER, t(bot, "button.sign_part"))
    (part,) = await bot.services.storage.cohandling.parts(number)
    assert part.state == "accepted"
    ledger = await bot.services.storage.appeals.ledger(number)
    assert (ledger[-1].event, ledger[-1].actor_id) == (Event.SIGN_PART, OTHER_WORKER)
