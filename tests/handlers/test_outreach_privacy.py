"""Outreach and privacy through the real Application: /privacy lists what outreach keeps, erasure forgets it to
the byte, retention keeps a courier still asking to hear from the district; Settings and the Language item."""

from datetime import timedelta

import pytest

from bot.retention import run_retention
from domain.activities import ActivityRecord
from storage.outreach import TOPICS
from tests.handlers.test_erasure import leftovers
from tests.harness import running_bot

COORDINATOR = 900
# A Telegram id no other number in the database comes near, so its bytes cannot turn up by chance.
COURIER = 7_318_264_905
WISH = "Winter gloves for the Quillmarsh route 羽沼线路冬季手套"
NAME = "Ysolde Brackenfurrow"


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "outreach-privacy.sqlite3") as running:
        await running.start(COORDINATOR)
        yield running


def t(bot, lang: str, key: str, **values) -> str:
    return bot.services.text(lang, key, **values)


async def activity(bot, starts_in: timedelta) -> int:
    """An activity of ten places starting `starts_in` from now, open for sign-up until it starts."""
    starts = bot.clock() + starts_in
    record = ActivityRecord(title="Free clinic", starts=starts, places=10, signup_until=starts, address="Hall 1")
    (activity_id,) = await bot.services.storage.activities.publish([record], COORDINATOR, bot.clock())
    return activity_id


async def post_wish(bot, courier: int, lang: str, text: str) -> None:
    await bot.say(courier, "/wishes")
    await bot.press(courier, t(bot, lang, "wishes.button_new"))
    await bot.press(courier, "其他" if lang == "zh" else "Other")
    await bot.say(courier, text)
    await bot.press(courier, t(bot, lang, "button.confirm"))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_privacy_lists_what_outreach_keeps(bot, lang) -> None:
    """/privacy names the topics chosen, counts the wishes and sign-ups, and says anonymous answers are not held."""
    bot.user(COURIER, "Y", language_code=lang)
    await bot.say(COURIER, "/privacy")
    assert t(bot, lang, "privacy2.choices_none") in bot.last_text(COURIER)
    await bot.services.storage.outreach.choose(COURIER, ("surveys", "notices"), True, bot.clock())
    await post_wish(bot, COURIER, lang, WISH)
    await bot.services.storage.activities.join(await activity(bot, timedelta(days=3)), COURIER, NAME, bot.clock())
    await bot.say(COURIER, "/privacy")
    shown = bot.last_text(COURIER)
    sep = t(bot, lang, "digest2.list_sep")
    topics = sep.join(t(bot, lang, f"outreach.topic_{topic}") for topic in ("surveys", "notices"))
    for line in (
        t(bot, lang, "privacy2.choices", topics=topics),
        t(bot, lang, "privacy2.wishes", count=1, open=1),
        t(bot, lang, "privacy2.signups", count=1),
        t(bot, lang, "privacy2.anonymous_surveys"),
        t(bot, lang, "privacy2.erases_outreach"),
    ):
        assert line in shown


@pytest.mark.sqlite_only  # the byte scans read SQLite's files (test_erasure scans PostgreSQL's)
async def test_erasure_forgets_choices_wishes_and_sign_ups_to_the_byte(bot, tmp_path) -> None:
    """Delete my data: the choices, the sign-up (with the name given), the wish's words and the news queued about
    it are gone, and no byte of them, or of the courier's id, is left in the database files."""
    bot.user(COURIER, "Y", language_code="en")
    await bot.say(COURIER, "/start")
    await bot.services.storage.outreach.choose(COURIER, TOPICS, True, bot.clock())
    await post_wish(bot, COURIER, "en", WISH)
    activity_id = await activity(bot, timedelta(days=3))
    await bot.services.storage.activities.join(activity_id, COURIER, NAME, bot.clock())
    await bot.at(bot.clock.now.replace(hour=22))  # the approval's news to the courier waits for the morning
    await bot.press(COORDINATOR, "Approve wish")
    values = {"telegram id": COURIER, "wish": WISH, "name": NAME}
    path = tmp_path / "outreach-privacy.sqlite3"
    assert {found.split(" (")[0] for found in leftovers(path, values)} == set(values)
    await bot.say(COURIER, "/privacy")
    await bot.press(COURIER, t(bot, "en", "privacy.delete"))
    await bot.press(COURIER, t(bot, "en", "privacy.confirm"))
    assert bot.last_text(COURIER).startswith(t(bot, "en", "privacy.erased", appeals=0, withdrawn=0)[:20])
    storage = bot.services.storage
    assert await storage.outreach.choices(COURIER) is None
    assert (await storage.activities.get(activity_id)).taken == 0
    assert [tuple(r) for r in await storage.db.fetchall("SELECT courier_id, text, state FROM wishes")] == [
        (None, "", "withdrawn")
    ]
    assert await storage.db.fetchall("SELECT 1 FROM outbox WHERE chat_id = ?", (COURIER,)) == []
    assert leftovers(path, values) == []


async def test_retention_keeps_whom_the_district_may_still_reach(bot) -> None:
    """Two years on, a courier who opted in and is reachable is kept; one who blocked the bot, one who said no,
    and one whose only sign-up is long past are forgotten; one signed up for a coming activity is kept."""
    listening, blocked, declined, long_past, coming = 3001, 3002, 3003, 3004, 3005
    for person in (listening, blocked, declined, long_past, coming):
        bot.user(person)
        await bot.say(person, "/start")
    outreach = bot.services.storage.outreach
    await outreach.choose(listening, TOPICS, True, bot.clock())
    await outreach.choose(blocked, TOPICS, True, bot.clock())
    await outreach.choose(declined, (), False, bot.clock())
    await bot.services.storage.activities.join(await activity(bot, timedelta(days=1)), long_past, "A", bot.clock())
    await bot.services.storage.people.set_reachable(blocked, False)
    bot.clock.advance(days=bot.config.privacy.retention_days + 30)
    await bot.services.storage.activities.join(await activity(bot, timedelta(days=2)), coming, "B", bot.clock())
    expired = await run_retention(bot.services, bot.config.privacy.retention_days)
    people = bot.services.storage.people
    assert [await people.get(p) is not None for p in (listening, blocked, declined, long_past, coming)] == [
        True,
        False,
        False,
        False,
        True,
    ]
    assert expired.people >= 3


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_settings_keep_their_summary_when_done(bot, lang) -> None:
    """Done in Settings leaves the choices in view, under the word that they are saved."""
    bot.user(COURIER, "Y", language_code=lang)
    await bot.say(COURIER, "/settings")
    await bot.press(COURIER, f"⬜ {t(bot, lang, 'outreach.topic_activities')}")
    await bot.press(COURIER, t(bot, lang, "outreach.done"))
    shown = bot.texts(COURIER)[-2]  # the menu follows it
    assert shown.startswith(t(bot, lang, "outreach.saved"))
    assert f"✅ {t(bot, lang, 'outreach.topic_activities')}" in shown
    assert f"⬜ {t(bot, lang, 'outreach.topic_surveys')}" in shown


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_language_item_reads_in_both_languages(bot, lang) -> None:
    """The menu's Language item names 语言 and Language in either language; the label it had before still works."""
    bot.user(COURIER, "Y", language_code=lang)
    await bot.say(COURIER, "/start")
    (label,) = [label for label in bot.reply_labels(COURIER) if "Language" in label]
    assert "语言" in label
    await bot.say(COURIER, label)
    assert bot.last_text(COURIER) == t(bot, lang, "language.prompt")
    await bot.say(COURIER, t(bot, lang, "menu_former.language"))
    assert bot.last_text(COURIER) == t(bot, lang, "language.prompt")
    assert bot.texts(COURIER).count(t(bot, lang, "language.prompt")) == 2
