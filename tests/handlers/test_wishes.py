"""Micro-wishes (微心愿) through the real Application: post, review, claim, grant, receive; refusals; digest; erasure."""

import asyncio

import pytest
from telegram import Update

from handlers import callbacks
from handlers.callbacks import Family, WishVerb
from handlers.telegram_text import said
from tests.harness import running_bot
from tests.helpers import submit_appeal

COURIER, STATION_STAFF, HR_STAFF, COORDINATOR = 1001, 500, 600, 900


@pytest.fixture
async def bot(tmp_path):
    """The district: station st1 (staff 500, 501), HR (600), coordinator 900."""
    async with running_bot(tmp_path / "wishes.sqlite3") as running:
        yield running


def t(bot, lang: str, key: str, **values) -> str:
    return bot.services.text(lang, key, **values)


async def rows(bot, sql: str, params=()) -> list[tuple]:
    return [tuple(r) for r in await bot.services.storage.db.fetchall(sql, params)]


async def post_wish(bot, lang: str, courier: int = COURIER, text: str = "A raincoat, size L") -> int:
    """The courier posts a rain-gear wish from the menu; its number."""
    bot.user(courier, f"P{courier}", language_code=lang)
    before = await rows(bot, "SELECT count(*) FROM wishes WHERE courier_id = ?", (courier,))
    await bot.say(courier, "/start")
    assert t(bot, lang, "wishes.menu") in bot.reply_labels(courier)
    await bot.say(courier, t(bot, lang, "wishes.menu"))
    assert bot.last_text(courier).startswith(t(bot, lang, "wishes.intro"))
    await bot.press(courier, t(bot, lang, "wishes.button_new"))
    assert bot.last_text(courier) == t(bot, lang, "wishes.ask_category")
    await bot.press(courier, "雨具" if lang == "zh" else "Rain gear")
    assert bot.last_text(courier).startswith(
        t(bot, lang, "wishes.ask_text", category="雨具" if lang == "zh" else "Rain gear", limit=120)[:10]
    )
    await bot.say(courier, text)
    assert text in bot.last_text(courier)  # shown back before anything is posted
    assert await rows(bot, "SELECT count(*) FROM wishes WHERE courier_id = ?", (courier,)) == before
    await bot.press(courier, t(bot, lang, "button.confirm"))
    (number,) = (await rows(bot, "SELECT max(id) FROM wishes"))[0]
    # The wish stays in view under the news that it is posted.
    assert bot.last_text(courier).startswith(t(bot, lang, "wishes.posted", number=number))
    assert text in bot.last_text(courier)
    return number


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_whole_flow(bot, lang) -> None:
    """Posted, approved by the coordinator, claimed by a unit (without the courier's identity), granted with a
    place, received by the courier's tap: each step told, each in the ledger, and in the digest."""
    await bot.start(COORDINATOR, STATION_STAFF)
    number = await post_wish(bot, lang)
    # The coordinator is told, with where the courier stands (never their id) and the review buttons.
    assert bot.texts(COORDINATOR)[-1].startswith(t(bot, "en", "wishnotice.post", number=number))
    assert t(bot, "en", "wishpeople.new") in bot.texts(COORDINATOR)[-1]
    assert str(COURIER) not in bot.texts(COORDINATOR)[-1]
    await bot.press(COORDINATOR, f"Approve wish {number}")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "wishes.done_approve", number=number)
    # The notice pressed now shows the wish as it stands, without its buttons.
    notice = bot.texts(COORDINATOR)[-2]
    assert notice.startswith(t(bot, "en", "wishnotice.post", number=number))
    assert t(bot, "en", "wishes.state_approved") in notice and t(bot, "en", "wishes.state_posted") not in notice
    assert bot.core.inline_buttons(bot.core.bot_messages(COORDINATOR)[-2]) == []
    category = "雨具" if lang == "zh" else "Rain gear"
    assert bot.last_text(COURIER) == t(bot, lang, "wishes.notice_approve", number=number, category=category)
    # A unit's worker lists it without who posted it, and claims it.
    await bot.say(STATION_STAFF, "/wishes")
    listed = bot.last_text(STATION_STAFF)
    assert "A raincoat, size L" in listed and str(COURIER) not in listed
    await bot.press(STATION_STAFF, f"Claim wish {number}")
    assert bot.last_text(COURIER) == t(
        bot,
        lang,
        "wishes.notice_claim",
        number=number,
        category=category,
        unit="一号驿站" if lang == "zh" else "Station One",
    )
    # Granted with where to collect it: asked, shown back, confirmed.
    await bot.say(STATION_STAFF, "/wishes")
    await bot.press(STATION_STAFF, f"Mark wish {number} granted")
    assert bot.last_text(STATION_STAFF) == t(bot, "en", "wishes.ask_grant", number=number, limit=200)
    await bot.say(STATION_STAFF, "Station One, Monday 10:00-17:00")
    assert "Station One, Monday 10:00-17:00" in bot.last_text(STATION_STAFF)
    await bot.press(STATION_STAFF, "Confirm")
    assert bot.last_text(STATION_STAFF) == bot.services.with_quiet(
        "en", t(bot, "en", "wishes.done_grant", number=number)
    )
    told = bot.last_text(COURIER)
    assert told.startswith(t(bot, lang, "wishes.notice_grant", number=number, category=category, place="X")[:8])
    assert "Station One, Monday 10:00-17:00" in told
    await bot.press(COURIER, t(bot, lang, "wishes.button_collect", number=number))
    assert bot.last_text(COURIER) == t(bot, lang, "wishes.done_collect", number=number)
    assert bot.last_text(STATION_STAFF).startswith(t(bot, "en", "wishnotice.collect", number=number))
    assert await rows(
        bot, "SELECT step, from_state, to_state FROM wish_events WHERE wish_id = ? ORDER BY id", (number,)
    ) == [
        ("post", None, "posted"),
        ("approve", "posted", "approved"),
        ("claim", "approved", "claimed"),
        ("grant", "claimed", "granted"),
        ("collect", "granted", "collected"),
    ]
    assert await rows(bot, "SELECT unit_id FROM wishes WHERE id = ?", (number,)) == [("st1",)]
    # The digest's line.
    await bot.say(COORDINATOR, t(bot, "en", "menu2.digest"))
    assert any(
        t(bot, "en", "wishes.digest", post=1, claim=1, grant=1, collect=1) in text for text in bot.texts(COORDINATOR)
    )


async def test_declined_with_a_reason(bot) -> None:
    """Decline asks for the reason, shows it back, and the courier reads it."""
    await bot.start(COORDINATOR)
    number = await post_wish(bot, "en")
    await bot.press(COORDINATOR, f"Decline wish {number}")
    await bot.say(COORDINATOR, "Please ask your station for rain gear directly.")
    await bot.press(COORDINATOR, "Confirm")
    assert bot.last_text(COURIER) == t(
        bot,
        "en",
        "wishes.notice_decline",
        number=number,
        category="Rain gear",
        reason=said("Please ask your station for rain gear directly."),
    )
    assert await rows(bot, "SELECT state, reason FROM wishes") == [
        ("declined", "Please ask your station for rain gear directly.")
    ]


async def test_phone_and_id_numbers_are_refused(bot) -> None:
    """A wish naming a phone or ID number is refused with why, and nothing is posted."""
    bot.user(COURIER, "Wang", language_code="zh")
    await bot.say(COURIER, "/wishes")
    await bot.press(COURIER, "发布心愿")
    await bot.press(COURIER, "手机支架")
    await bot.say(COURIER, "想要个手机支架，电话13800138000")
    assert bot.last_text(COURIER) == t(bot, "zh", "wishes.refused_phone")
    await bot.say(COURIER, "身份证110101199003074512")
    assert bot.last_text(COURIER) == t(bot, "zh", "wishes.refused_id_number")
    await bot.say(COURIER, "想要一个结实的手机支架")
    await bot.press(COURIER, "取消")
    # Cancelled at the review: what was not posted stays in view under the word.
    assert bot.last_text(COURIER).startswith(t(bot, "zh", "wishes.cancelled"))
    assert "想要一个结实的手机支架" in bot.last_text(COURIER)
    assert await rows(bot, "SELECT count(*) FROM wishes") == [(0,)]


async def test_two_units_claim_at_once_and_one_wins(bot) -> None:
    """Two units' workers tap Claim in the same moment: one claims it, the other is told it moved on."""
    await bot.start(COORDINATOR, STATION_STAFF, HR_STAFF)
    number = await post_wish(bot, "en")
    await bot.press(COORDINATOR, f"Approve wish {number}")
    for worker in (STATION_STAFF, HR_STAFF):
        await bot.say(worker, "/wishes")
    queries = [bot.core.press(worker, f"Claim wish {number}") for worker in (STATION_STAFF, HR_STAFF)]
    updates = bot.core.take_updates()
    await asyncio.gather(*(bot.app.process_update(Update.de_json(raw, bot.app.bot)) for raw in updates))
    await bot.app.bot_data.sender.flush()
    answers = [bot.core.answered_callback(q) for q in queries]
    refused = [a for a in answers if a.get("text")]
    assert len(refused) == 1 and refused[0]["text"] == t(bot, "en", "wishes.refused_step_state", number=number)
    assert await rows(bot, "SELECT count(*) FROM wish_events WHERE step = 'claim'") == [(1,)]


async def test_forged_presses_are_refused(bot) -> None:
    """Presses forged or out of turn act on nothing: a courier approving, a unit approving, another unit
    marking granted, a second post over the limit."""
    await bot.start(COORDINATOR, STATION_STAFF, HR_STAFF)
    number = await post_wish(bot, "en")
    message = bot.core.bot_messages(COURIER)[-1]["message_id"]
    forged = lambda verb: callbacks.encode(Family.WISH, verb, str(number))  # noqa: E731
    query = bot.core.press_button(COURIER, message, forged(WishVerb.APPROVE))
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "wishes.refused_step_role")
    await bot.say(STATION_STAFF, "/wishes")
    message = bot.core.bot_messages(STATION_STAFF)[-1]["message_id"]
    query = bot.core.press_button(STATION_STAFF, message, forged(WishVerb.APPROVE))
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "wishes.refused_step_role")
    await bot.press(COORDINATOR, f"Approve wish {number}")
    await bot.say(STATION_STAFF, "/wishes")
    await bot.press(STATION_STAFF, f"Claim wish {number}")
    await bot.say(HR_STAFF, "/wishes")
    message = bot.core.bot_messages(HR_STAFF)[-1]["message_id"]
    query = bot.core.press_button(HR_STAFF, message, forged(WishVerb.GRANT))
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "wishes.refused_step_role")
    query = bot.core.press_button(HR_STAFF, message, forged(WishVerb.CLAIM))
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "wishes.refused_step_state", number=number)
    query = bot.core.press_button(HR_STAFF, message, callbacks.encode(Family.WISH, WishVerb.CATEGORY, "no_such"))
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "press.invalid")
    assert await rows(bot, "SELECT state, unit_id FROM wishes") == [("claimed", "st1")]


async def test_at_most_a_few_open_wishes(bot) -> None:
    """A courier with max_open open wishes is told the limit and offered no Post button."""
    for text in ("Rain boots", "A raincoat", "An umbrella"):
        await post_wish(bot, "en", text=text)
    await bot.say(COURIER, "/wishes")
    assert t(bot, "en", "wishes.at_limit", limit=3) in bot.last_text(COURIER)
    labels = [label for label, _ in bot.core.inline_buttons(bot.core.bot_messages(COURIER)[-1])]
    assert "Post a wish" not in labels


async def test_erasure_withdraws_open_wishes_and_erases_their_texts(bot) -> None:
    """/privacy's erasure: the courier's wish texts are gone, open wishes withdrawn in the ledger."""
    number = await post_wish(bot, "en")
    await bot.say(COURIER, "/privacy")
    await bot.press(COURIER, t(bot, "en", "privacy.delete"))
    await bot.press(COURIER, t(bot, "en", "privacy.confirm"))
    assert await rows(bot, "SELECT courier_id, text, state FROM wishes") == [(None, "", "withdrawn")]
    assert await rows(bot, "SELECT step, actor_id FROM wish_events WHERE wish_id = ? ORDER BY id", (number,)) == [
        ("post", None),
        ("withdraw", None),
    ]


async def test_retention_blanks_wishes_settled_long_ago_and_keeps_open_ones(bot) -> None:
    """The retention run treats settled wishes as it treats closed appeals; an open one keeps its courier."""
    await bot.start(COORDINATOR)
    declined = await post_wish(bot, "en", text="Rain boots")
    await bot.press(COORDINATOR, f"Decline wish {declined}")
    await bot.say(COORDINATOR, "Boots are handed out at the station.")
    await bot.press(COORDINATOR, "Confirm")
    still_open = await post_wish(bot, "en", text="A raincoat")
    bot.clock.advance(days=800)
    await bot.services.storage.privacy.anonymise_expired(bot.clock(), 730)
    assert await rows(bot, "SELECT id, courier_id, text FROM wishes ORDER BY id") == [
        (declined, None, ""),
        (still_open, COURIER, "A raincoat"),
    ]
    assert await rows(bot, "SELECT actor_id FROM wish_events WHERE wish_id = ?", (declined,)) == [(None,), (None,)]
    assert await rows(bot, "SELECT count(*) FROM people WHERE telegram_id = ?", (COURIER,)) == [(1,)]


async def test_the_menu_and_commands_offer_wishes(bot) -> None:
    """Help names Micro-wish; the command list has /wishes for couriers and coordinators."""
    courier = bot.user(1004, "Zhou", language_code="zh")
    (reply,) = await bot.say(courier, "/help")
    assert "“微心愿”（/wishes）" in reply["text"]
    calls = [params for method, params in bot.core.calls if method.lower() == "setmycommands"]
    chat_900 = next(c for c in calls if c.get("scope", {}).get("chat_id") == 900)
    assert "wishes" in str(chat_900["commands"])


@pytest.mark.slow  # the bot's worker process builds the files
async def test_the_export_caption_counts_the_wishes(bot) -> None:
    """The ledger export's caption says how many wishes were posted, claimed, granted and received."""
    await bot.start(COORDINATOR)
    await post_wish(bot, "en")
    await submit_appeal(bot, COURIER)
    await bot.say(COORDINATOR, "/export 2026-11-23 2026-11-29")
    captions = [m.get("caption") for m in bot.core.bot_messages(COORDINATOR) if m.get("document")]
    tail = t(bot, "en", "wishes.export_caption", post=1, claim=0, grant=0, collect=0)
    assert len(captions) == 2 and all(c.endswith(tail) for c in captions)


async def test_typed_again_replaces_the_words_and_an_old_question_lapses(bot) -> None:
    """Words typed at the show-back replace the shown ones (the older Confirm goes stale); a question left
    for over an hour no longer takes the next text."""
    bot.user(COURIER, "Li", language_code="en")
    await bot.say(COURIER, "/wishes")
    await bot.press(COURIER, "Post a wish")
    await bot.press(COURIER, "Phone holder")
    await bot.say(COURIER, "A phone holder")
    first_confirm = bot.core.bot_messages(COURIER)[-1]["message_id"]
    await bot.say(COURIER, "A sturdy phone holder for a scooter")
    assert "A sturdy phone holder for a scooter" in bot.last_text(COURIER)
    shown = next(m for m in bot.core.bot_messages(COURIER) if m["message_id"] == first_confirm)
    data = next(d for label, d in bot.core.inline_buttons(shown) if label.startswith("Confirm"))
    query = bot.core.press_button(COURIER, first_confirm, data)
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "wishes.stale")
    await bot.press(COURIER, "Confirm")
    assert await rows(bot, "SELECT text FROM wishes") == [("A sturdy phone holder for a scooter",)]
    await bot.say(COURIER, "/wishes")
    await bot.press(COURIER, "Post a wish")
    await bot.press(COURIER, "Other")
    bot.clock.advance(hours=2)
    await bot.say(COURIER, "My wage for October is missing")
    assert not bot.last_text(COURIER).startswith("Please check your wish")
    assert await bot.services.storage.wishes.dialog(COURIER) is None
