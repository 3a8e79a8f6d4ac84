"""Evidence reaches the people who handle an appeal, and each of them holds one card for it, kept current."""

import pytest

from domain.commands import ActOnAppeal, EventArgs
from domain.lifecycle import Event
from handlers.telegram_text import said
from tests.harness import running_bot

COURIER, WORKER, OTHER_WORKER, COORDINATOR = 1001, 500, 501, 900


@pytest.fixture
async def bot(tmp_path):
    """The test district: Station One has workers 500 and 501; coordinator 900."""
    async with running_bot(tmp_path / "evidence.sqlite3") as running:
        await running.start(COURIER, WORKER, OTHER_WORKER, COORDINATOR)
        yield running


def t(bot, key: str, **values) -> str:
    return bot.services.text("en", key, **values)


def since(bot, chat: int, seen: int) -> list[dict]:
    """The bot's messages in `chat` after the first `seen`."""
    return bot.core.bot_messages(chat)[seen:]


def labels(bot, message: dict) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(message)]


def files_of(messages: list[dict]) -> list[tuple[str, str | None]]:
    """(kind, album id) of each file message, in order."""
    found = []
    for m in messages:
        for kind in ("photo", "voice", "document"):
            if kind in m:
                found.append((kind, m.get("media_group_id")))
    return found


def assert_album_and_voice(bot, messages: list[dict], number: int) -> None:
    """Two photos in one album captioned with the appeal's number, then the voice note on its own."""
    (photo, album), (second, same_album), (voice, no_album) = files_of(messages)
    assert (photo, second, voice) == ("photo", "photo", "voice")
    assert album is not None and same_album == album and no_album is None
    photos = [m for m in messages if "photo" in m]
    assert photos[0]["caption"] == t(bot, "evidence.caption", number=number) and "caption" not in photos[1]
    assert [m for m in messages if "voice" in m][0]["caption"] == t(bot, "evidence.caption", number=number)


async def file_with_evidence(bot) -> int:
    """The courier files a suggestion (no rule routes it) with two photos and a voice note; returns its number."""
    await bot.say(COURIER, "/appeal")
    await bot.press(COURIER, "Suggestions")
    for photo in (b"photo one", b"photo two"):
        bot.core.send_photo(COURIER, photo)
        await bot.deliver()
    bot.core.send_voice(COURIER, b"voice note", duration=4)
    await bot.deliver()
    assert bot.last_text(COURIER) == t(bot, "filing.file_added", count=3)
    await bot.say(COURIER, "The charger at the gate sparks, see the photos")
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Confirm")
    return int(bot.last_text(COURIER).split("#")[1].split()[0])


async def test_files_follow_the_card_to_coordinators_and_the_unit_and_come_again_on_request(bot) -> None:
    """Card, then an album of the photos and the voice note; the Files button and /open send them again."""
    seen = len(bot.core.bot_messages(COORDINATOR))
    number = await file_with_evidence(bot)

    card, *files = since(bot, COORDINATOR, seen)
    assert card["text"].startswith(t(bot, "notice.submit.coordinators", number=number))
    assert t(bot, "card.files", count=3) in card["text"]
    # A coordinator's card ends with the filer's mute (tests/handlers/test_mute_button.py), after the files.
    assert (
        labels(bot, card)[-2:]
        == [t(bot, "evidence.files_button", count=3), "Mute filer"]
        == ["Files (3)", "Mute filer"]
    )
    assert_album_and_voice(bot, files, number)

    # The coordinator assigns it: the unit's workers get the card and the files.
    await bot.press(COORDINATOR, "Assign")
    await bot.press(COORDINATOR, "Station One")
    seen_by = {w: len(bot.core.bot_messages(w)) for w in (WORKER, OTHER_WORKER)}
    await bot.press(COORDINATOR, "Normal")
    cards = {}
    for worker in (WORKER, OTHER_WORKER):
        card, *files = since(bot, worker, seen_by[worker])
        cards[worker] = card
        assert card["text"].startswith(t(bot, "notice.assign.unit", unit="Station One"))
        assert "The charger at the gate sparks" in card["text"]
        assert labels(bot, card) == ["Accept", "Send back", "Files (3)"]
        assert_album_and_voice(bot, files, number)

    # The Files button sends them again, and nothing else.
    seen = len(bot.core.bot_messages(WORKER))
    query = await bot.press(WORKER, "Files (3)")
    assert bot.core.answered_callback(query) == {"text": None, "show_alert": False}
    assert_album_and_voice(bot, since(bot, WORKER, seen), number)
    assert len(since(bot, WORKER, seen)) == 3

    # /open shows the card with its story, then the files; the card it replaces loses its buttons.
    notice_card = cards[WORKER]
    assert labels(bot, notice_card) == ["Accept", "Send back", "Files (3)"]
    await bot.say(WORKER, f"/open {number}")
    card, *files = since(bot, WORKER, seen + 3)
    assert t(bot, "history.title") in card["text"] and t(bot, "history.assign", unit="Station One") in card["text"]
    assert labels(bot, card) == ["Accept", "Send back", "Files (3)"]
    assert_album_and_voice(bot, files, number)
    assert labels(bot, bot.core.messages(WORKER)[notice_card["message_id"] - 1]) == []


async def test_a_new_event_edits_the_card_a_worker_holds(bot) -> None:
    """One card per appeal per worker: events edit it in place; the news comes as a short line under it."""
    number = await file_with_evidence(bot)
    await bot.press(COORDINATOR, "Assign")
    await bot.press(COORDINATOR, "Station One")
    await bot.press(COORDINATOR, "Normal")
    card = [m for m in bot.core.bot_messages(OTHER_WORKER) if "text" in m][-1]
    assert labels(bot, card) == ["Accept", "Send back", "Files (3)"]

    # Worker 500 accepts; 501 gets no notice of it, but their card now says so, with the buttons that apply.
    count = len(bot.core.bot_messages(OTHER_WORKER))
    await bot.press(WORKER, "Accept")
    assert len(bot.core.bot_messages(OTHER_WORKER)) == count
    edited = bot.core.messages(OTHER_WORKER)[card["message_id"] - 1]
    assert "edit_date" in edited and t(bot, "state.accepted") in edited["text"]
    assert labels(bot, edited) == ["Ask the courier", "Note", "Resolve", "Request more time", "Files (3)"]

    # Worker 500 asks; the courier answers with a photo: 501's card is edited (its story has the answer),
    # a short line (a reply to the card, without buttons) says what happened, and the photo follows.
    await bot.press(WORKER, "Ask")
    await bot.say(WORKER, "Which gate?")
    storage = bot.services.storage
    applied = await storage.appeals.apply(
        ActOnAppeal(number, Event.ANSWER, COURIER, EventArgs(note="The north gate")), bot.clock()
    )
    await storage.db.write(  # what filing an answer with a photo stores (built elsewhere)
        lambda conn: conn.execute(
            "INSERT INTO attachments (appeal_id, event_id, kind, file_id, file_unique_id, created_at)"
            " SELECT ?, ?, 'photo', file_id, file_unique_id, created_at FROM attachments WHERE appeal_id = ? LIMIT 1",
            (number, applied.event_id, number),
        )
    )
    count = len(bot.core.bot_messages(OTHER_WORKER))
    await bot.tick()
    line, photo = since(bot, OTHER_WORKER, count)
    news = t(bot, "notice.answer.unit", number=number, note=said("The north gate"))
    assert line["text"] == news and "reply_markup" not in line
    assert line["reply_to_message"]["message_id"] == card["message_id"]
    assert "photo" in photo and photo["caption"] == t(bot, "evidence.caption", number=number)
    edited = bot.core.messages(OTHER_WORKER)[card["message_id"] - 1]
    assert edited["text"].startswith(f"#{number} · ") and "Files (4)" in labels(bot, edited)
    assert t(bot, "history.answer", note=said("The north gate")) in edited["text"]


async def test_buttons_that_no_longer_apply_are_taken_away(bot) -> None:
    """The courier's Reply button goes once they answered; rating buttons go once the appeal closed without one."""
    number = await file_with_evidence(bot)
    await bot.press(COORDINATOR, "Assign")
    await bot.press(COORDINATOR, "Station One")
    await bot.press(COORDINATOR, "Normal")
    await bot.press(WORKER, "Accept")
    await bot.press(WORKER, "Ask")
    await bot.say(WORKER, "Which gate?")
    question = bot.core.last_message(COURIER)
    assert labels(bot, question) == ["Reply"]
    await bot.press(COURIER, "Reply")
    await bot.say(COURIER, "The north gate")
    question = bot.core.messages(COURIER)[question["message_id"] - 1]
    assert labels(bot, question) == [] and question["text"].startswith("A question about appeal")

    await bot.press(WORKER, "Resolve")
    await bot.say(WORKER, "The charger is replaced")

    await bot.press(WORKER, "Confirm resolve")
    rating = bot.core.last_message(COURIER)
    assert labels(bot, rating) == ["Satisfied", "Fairly satisfied", "Not solved"]
    await bot.services.storage.appeals.apply(ActOnAppeal(number, Event.AUTO_CLOSE, None), bot.clock())
    await bot.tick()
    assert bot.last_text(COURIER) == t(bot, "notice.auto_close.courier", number=number)
    rating = bot.core.messages(COURIER)[rating["message_id"] - 1]
    assert labels(bot, rating) == [] and "The charger is replaced" in rating["text"]


async def test_staff_open_shows_the_story_result_and_rating(bot) -> None:
    """/open gives staff and coordinators the history (with the unit's reasons), the result and the rating."""
    number = await file_with_evidence(bot)
    storage, now = bot.services.storage, bot.clock()
    await storage.appeals.apply(ActOnAppeal(number, Event.ASSIGN, COORDINATOR, EventArgs(unit="st1")), now)
    await storage.appeals.apply(
        ActOnAppeal(number, Event.SEND_BACK, WORKER, EventArgs(note="Not a station matter")), now
    )
    await storage.appeals.apply(ActOnAppeal(number, Event.ASSIGN, COORDINATOR, EventArgs(unit="st1")), now)
    for event, args in (
        (Event.ACCEPT, EventArgs()),
        (Event.RESOLVE, EventArgs(note="The charger is replaced")),
    ):
        await storage.appeals.apply(ActOnAppeal(number, event, WORKER, args), now)
    await storage.appeals.apply(ActOnAppeal(number, Event.RATE_FAIRLY_SATISFIED, COURIER), now)
    await bot.tick()
    for person in (WORKER, COORDINATOR):
        await bot.say(person, f"/open {number}")
        card = [m for m in bot.core.bot_messages(person) if "text" in m][-1]["text"]
        assert t(bot, "evidence.result", note=said("The charger is replaced")) in card
        assert t(bot, "evidence.rating", rating=t(bot, "export.rating_rate_fairly_satisfied")) in card
        assert t(bot, "evidence.history_send_back", unit="Station One", note=said("Not a station matter")) in card
    await bot.say(COURIER, f"/open {number}")
    mine = [m for m in bot.core.bot_messages(COURIER) if "text" in m][-1]["text"]
    assert "Not a station matter" not in mine and t(bot, "history.send_back") in mine


async def test_a_failed_album_is_sent_again_without_the_card(bot) -> None:
    """At least once, in order: when the album fails, the notice row stays pending and resumes at the album."""
    from sandbox.core import ApiError

    seen = len(bot.core.bot_messages(COORDINATOR))
    bot.core.fail_next("sendMediaGroup", ApiError.too_many_requests(3))
    number = await file_with_evidence(bot)
    (card,) = since(bot, COORDINATOR, seen)  # the card went; the album did not, so nothing after it either
    rows = await bot.services.storage.db.fetchall(
        "SELECT status, parts_sent, last_error FROM outbox WHERE chat_id = ? AND appeal_id = ?", (COORDINATOR, number)
    )
    # 2: the card, and the slot of the words that go under a card edited in place (a new card needs none).
    assert [tuple(r) for r in rows] == [("pending", 2, "flood control (429)")]
    bot.clock.advance(seconds=3)
    await bot.tick()
    again, *files = since(bot, COORDINATOR, seen)
    assert again == card
    assert_album_and_voice(bot, files, number)
    rows = await bot.services.storage.db.fetchall("SELECT status FROM outbox WHERE chat_id = ?", (COORDINATOR,))
    assert {r[0] for r in rows} == {"sent"}


async def test_a_deleted_card_is_replaced_not_an_error(bot) -> None:
    """A worker deleted their card: the next news comes as a new card, and nothing is dead-lettered."""
    number = await file_with_evidence(bot)
    await bot.press(COORDINATOR, "Assign")
    await bot.press(COORDINATOR, "Station One")
    await bot.press(COORDINATOR, "Normal")
    card = [m for m in bot.core.bot_messages(OTHER_WORKER) if "text" in m][-1]
    await bot.core.call("deleteMessage", {"chat_id": OTHER_WORKER, "message_id": card["message_id"]})
    storage = bot.services.storage
    await storage.appeals.apply(ActOnAppeal(number, Event.ACCEPT, WORKER), bot.clock())
    await storage.appeals.apply(ActOnAppeal(number, Event.ASK, WORKER, EventArgs(note="Which gate?")), bot.clock())
    await storage.appeals.apply(
        ActOnAppeal(number, Event.ANSWER, COURIER, EventArgs(note="The north gate")), bot.clock()
    )
    await bot.tick()
    latest = bot.core.last_message(OTHER_WORKER)
    assert latest["text"].startswith(t(bot, "notice.answer.unit", number=number, note=said("The north gate")))
    assert "Resolve" in labels(bot, latest)
    dead = await storage.db.fetchall("SELECT count(*) FROM outbox WHERE status = 'dead'")
    assert dead[0][0] == 0


def test_a_card_is_cut_to_what_one_message_holds() -> None:
    """Telegram counts UTF-16 units: emoji count twice; a cut text ends with an ellipsis and fits."""
    from handlers.telegram_text import TEXT, shorten

    assert shorten("短文本") == "短文本"
    for text in ("字" * 5000, "🚲" * 3000, "a" * 4096 + "b"):
        cut = shorten(text)
        assert len(cut.encode("utf-16-le")) // 2 <= TEXT and cut.endswith("…")
    assert shorten("a" * 4096) == "a" * 4096


async def test_a_file_telegram_no_longer_has_is_said_and_the_rest_still_come(bot) -> None:
    """A stored file id Telegram refuses: the Files button sends what it can and says how many could not be sent."""
    number = await file_with_evidence(bot)
    await bot.services.storage.db.write(
        lambda conn: conn.execute(
            "UPDATE attachments SET file_id = 'gone-from-telegram' WHERE appeal_id = ? AND kind = 'voice'", (number,)
        )
    )
    seen = len(bot.core.bot_messages(COORDINATOR))
    await bot.press(COORDINATOR, "Files (3)")
    sent = since(bot, COORDINATOR, seen)
    assert [kind for kind, _ in files_of(sent)] == ["photo", "photo"]
    assert sent[-1]["text"] == t(bot, "evidence.files_lost", number=number, count=1)
