"""/start, /help and /language through the real Application and the in-process Bot API."""

import pytest

from tests.harness import running_bot


@pytest.fixture
async def bot(tmp_path):
    """The bot on a fresh database."""
    async with running_bot(tmp_path / "bot.sqlite3") as running:
        yield running


async def test_start_in_english(bot) -> None:
    """An English Telegram app gets an English greeting and the main menu."""
    courier = bot.user(1001, "Li", language_code="en")
    (reply,) = await bot.say(courier, "/start")
    assert reply["text"].startswith("Hello, Li!")
    assert "rest station" in reply["text"]
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


async def test_start_in_chinese(bot) -> None:
    """A Chinese Telegram app gets Chinese."""
    courier = bot.user(1002, "王", language_code="zh-hans")
    (reply,) = await bot.say(courier, "/start")
    assert reply["text"].startswith("王，您好！")
    assert "爱心驿站" in reply["text"]
    assert bot.reply_labels(courier)[0] == "我要反映"


async def test_unknown_app_language_gets_the_default(bot) -> None:
    """Neither zh nor en: the config default (zh)."""
    courier = bot.user(1003, "Ana", language_code="pt-br")
    (reply,) = await bot.say(courier, "/start")
    assert reply["text"].startswith("Ana，您好！")


@pytest.mark.parametrize("lang,expected", [("en", "(/appeal) — file a new appeal"), ("zh", "（/appeal）— 提交新诉求")])
async def test_help_in_each_language(bot, lang, expected) -> None:
    """/help lists the courier's commands, and so does the Help button."""
    courier = bot.user(1004, "Zhou", language_code=lang)
    (reply,) = await bot.say(courier, "/help")
    assert expected in reply["text"]
    assert "/queue" not in reply["text"] and "/triage" not in reply["text"]
    button = "Help" if lang == "en" else "帮助"
    (again,) = await bot.say(courier, button)
    assert again["text"] == reply["text"]


async def test_help_shows_staff_and_coordinator_commands_by_role(bot) -> None:
    """Roles come from the database (here, from the config): staff see /queue, coordinators /triage."""
    staff = bot.user(500, "Station worker")
    coordinator = bot.user(900, "Coordinator")
    (staff_help,) = await bot.say(staff, "/help")
    (coordinator_help,) = await bot.say(coordinator, "/help")
    assert "/queue" in staff_help["text"] and "/triage" not in staff_help["text"]
    assert "/triage" in coordinator_help["text"] and "/queue" not in coordinator_help["text"]


async def test_language_switch_is_remembered(bot) -> None:
    """Choosing English in a Chinese app sticks for later messages."""
    courier = bot.user(1005, "Chen", language_code="zh")
    await bot.say(courier, "/language")
    query = await bot.press(courier, "English")
    assert bot.core.answered_callback(query) is not None
    assert "English" in bot.texts(courier)[-2]
    (reply,) = await bot.say(courier, "/start")
    assert reply["text"].startswith("Hello, Chen!")
    person = await bot.services.storage.people.get(courier)
    assert person.language == "en"


async def test_forged_language_button_changes_nothing(bot) -> None:
    """Callback data is client-written: an unknown language is ignored."""
    courier = bot.user(1006, "Sun", language_code="en")
    await bot.say(courier, "/language")
    message = bot.core.last_message(courier)
    bot.core.press_button(courier, message["message_id"], "lang:fr")
    await bot.deliver()
    assert (await bot.services.storage.people.get(courier)).language == "en"  # from the app, not "fr"


async def test_anything_else_gets_a_pointer_to_the_menu(bot) -> None:
    """Free text outside a dialog is never met with silence."""
    courier = bot.user(1007, "Wu", language_code="en")
    (reply,) = await bot.say(courier, "hi?")
    # Too few words to file: what the bot does, with the menu.
    assert reply["text"] == bot.services.text("en", "fallback.not_understood")
    assert "New appeal" in bot.reply_labels(courier)


async def test_commands_are_registered_in_both_languages(bot) -> None:
    """setMyCommands ran for the default language and for English, and for each worker's and coordinator's chat."""
    calls = [params for method, params in bot.core.calls if method.lower() == "setmycommands"]
    everyone = [c for c in calls if "scope" not in c]
    assert len(everyone) == 2
    assert {c.get("language_code") for c in everyone} == {None, "en"}
    assert sorted(c["scope"]["chat_id"] for c in calls if "scope" in c) == [500, 501, 600, 900]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_names_every_button_of_the_persons_menu(bot, lang) -> None:
    """Whatever a menu offers, /help says what it is for: each label (a count aside) is quoted in the help."""
    courier, staff, coordinator = bot.user(1006, "Xu", language_code=lang), bot.user(500, "W"), bot.user(900, "C")
    for person in (courier, staff, coordinator):
        await bot.services.storage.people.seen(person, lang, bot.clock())
        await bot.services.storage.people.set_language(person, lang)
        await bot.say(person, "/start")
        labels = [label.split("（")[0].split(" (")[0] for label in bot.reply_labels(person)]
        (help_text,) = await bot.say(person, "/help")
        missing = [label for label in labels if f"“{label}" not in help_text["text"]]
        assert missing == [], (person, missing)
