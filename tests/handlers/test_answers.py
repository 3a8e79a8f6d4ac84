"""Answers before filing (知识库): the answers offered after the description, This answers it (直接答复, never an
appeal), File my appeal anyway, /answers for coordinators and staff, and answer files sent to the bot."""

from pathlib import Path

import pytest

from domain.answers_file import MAX_TEXT, MAX_TITLE, AnswerRecord, read_answers
from handlers.telegram_text import TEXT
from storage.dialogs import Step
from tests.harness import running_bot

COURIER, ZH_COURIER, STAFF, COORDINATOR = 1001, 1002, 600, 900
SAMPLE = Path(__file__).resolve().parents[2] / "sandbox" / "district" / "answers.toml"
CATEGORIES = ("work", "life", "rights", "facilities", "suggestion")


@pytest.fixture
async def bot(tmp_path):
    """The test district with the sandbox's sample answers; an English courier, a Chinese one, HR's worker, a coordinator."""
    async with running_bot(tmp_path / "answers.sqlite3") as running:
        await running.services.storage.answers.import_records(read_answers(SAMPLE.read_bytes(), "toml", CATEGORIES))
        await running.start(COURIER, STAFF, COORDINATOR)
        running.user(ZH_COURIER, "Wang", language_code="zh")
        await running.say(ZH_COURIER, "/start")
        yield running


def t(bot, lang, key, **values):
    return bot.services.text(lang, key, **values)


def labels(bot, person) -> list[str]:
    """The labels of the newest message's inline buttons."""
    return [label for label, _ in bot.core.inline_buttons(bot.core.bot_messages(person)[-1])]


async def describe(bot, person, lang, category, text) -> None:
    """/appeal, the category, then the description."""
    await bot.say(person, "/appeal")
    await bot.press(person, bot.services.category(category).name(lang))
    await bot.say(person, text)


async def direct_answers(bot) -> list[tuple]:
    rows = await bot.services.storage.db.fetchall("SELECT category, answer_id, at FROM direct_answers ORDER BY id")
    return [tuple(r) for r in rows]


async def appeal_count(bot) -> int:
    return (await bot.services.storage.db.fetchone("SELECT count(*) FROM appeals"))[0]


async def test_a_matching_answer_settles_it_in_chinese_and_no_appeal_is_filed(bot) -> None:
    await describe(bot, ZH_COURIER, "zh", "work", "老板拖欠我三个月工资不给")
    card = bot.last_text(ZH_COURIER)
    wage = await bot.services.storage.answers.get("wage-arrears")
    assert card.startswith(t(bot, "zh", "answers_filing.intro"))
    assert wage.title_zh in card and wage.text_zh in card
    assert labels(bot, ZH_COURIER)[0] == "这解答了我的问题"
    assert labels(bot, ZH_COURIER)[-3:] == ["仍要提交诉求", t(bot, "zh", "button.back"), t(bot, "zh", "button.cancel")]
    assert (await bot.services.storage.dialogs.draft(ZH_COURIER)).step is Step.ANSWERS

    await bot.press(ZH_COURIER, "这解答了我的问题")
    assert bot.last_text(ZH_COURIER) == t(bot, "zh", "answers_filing.thanks")
    # The answer that helped stays on screen, its buttons gone.
    assert bot.texts(ZH_COURIER)[-2] == f"{wage.title_zh}\n{wage.text_zh}"
    assert await bot.services.storage.dialogs.draft(ZH_COURIER) is None
    assert await direct_answers(bot) == [("work", "wage-arrears", int(bot.clock().timestamp()))]
    assert await appeal_count(bot) == 0
    # Nothing the courier wrote is kept anywhere.
    columns = await bot.services.storage.db.fetchall("SELECT * FROM direct_answers")
    assert all("老板" not in str(value) for row in columns for value in tuple(row))


async def test_file_my_appeal_anyway_goes_on_to_the_place_and_files_in_english(bot) -> None:
    await describe(bot, COURIER, "en", "work", "I fell off my scooter while delivering and hurt my leg")
    injury = await bot.services.storage.answers.get("injury-protection")
    assert injury.title_en in bot.last_text(COURIER)
    await bot.press(COURIER, "File my appeal anyway")
    assert bot.last_text(COURIER) == t(bot, "en", "filing.ask_place")
    await bot.press(COURIER, t(bot, "en", "button.skip"))
    await bot.press(COURIER, t(bot, "en", "button.skip"))
    await bot.press(COURIER, t(bot, "en", "button.confirm"))
    assert await appeal_count(bot) == 1
    appeal = (await bot.services.storage.db.fetchone("SELECT description FROM appeals"))[0]
    assert appeal == "I fell off my scooter while delivering and hurt my leg"
    assert await direct_answers(bot) == []


async def test_several_answers_are_numbered_and_each_has_its_button(bot) -> None:
    await describe(bot, COURIER, "en", "facilities", "The charger at the station is broken")
    card = bot.last_text(COURIER)
    assert "1. " + (await bot.services.storage.answers.get("station-broken")).title_en in card
    found = [label for label in labels(bot, COURIER) if label.startswith("This answers it")]
    assert found[0] == "This answers it (answer 1)" and 2 <= len(found) <= 3
    await bot.press(COURIER, "This answers it (answer 1)")
    assert await direct_answers(bot) == [("facilities", "station-broken", int(bot.clock().timestamp()))]


async def test_when_nothing_matches_the_flow_is_unchanged(bot) -> None:
    await describe(bot, COURIER, "en", "suggestion", "Please plant more trees along Fuxing Road")
    assert bot.last_text(COURIER) == t(bot, "en", "filing.ask_place")
    assert (await bot.services.storage.dialogs.draft(COURIER)).step is Step.PLACE


async def test_back_returns_to_the_description_and_cancel_ends_the_draft(bot) -> None:
    await describe(bot, COURIER, "en", "work", "My boss has not paid my wages for three months")
    await bot.press(COURIER, t(bot, "en", "button.back"))
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert (draft.step, draft.description) == (Step.DESCRIPTION, "My boss has not paid my wages for three months")
    # Next goes on with the description kept: the answers again.
    await bot.press(COURIER, t(bot, "en", "button.next"))
    assert (await bot.services.storage.dialogs.draft(COURIER)).step is Step.ANSWERS
    await bot.press(COURIER, t(bot, "en", "button.cancel"))
    assert await bot.services.storage.dialogs.draft(COURIER) is None
    assert await direct_answers(bot) == [] and await appeal_count(bot) == 0


async def test_words_added_at_the_answers_are_kept_and_searched_again(bot) -> None:
    await describe(bot, ZH_COURIER, "zh", "rights", "平台罚了我五十块，明明是商家出餐慢")
    assert (await bot.services.storage.answers.get("platform-penalty")).title_zh in bot.last_text(ZH_COURIER)
    await bot.say(ZH_COURIER, "而且回来的路上还被车撞了")
    draft = await bot.services.storage.dialogs.draft(ZH_COURIER)
    assert draft.description == "平台罚了我五十块，明明是商家出餐慢\n而且回来的路上还被车撞了"
    assert bot.last_text(ZH_COURIER).startswith(t(bot, "zh", "filing2.added"))
    assert (await bot.services.storage.answers.get("traffic-accident")).title_zh in bot.last_text(ZH_COURIER)


async def test_a_stale_or_withdrawn_answer_button_does_nothing(bot) -> None:
    await describe(bot, COURIER, "en", "work", "My boss has not paid my wages for three months")
    # The coordinator withdraws the answer while the courier reads it.
    wage = await bot.services.storage.answers.get("wage-arrears")
    withdrawn = AnswerRecord(
        wage.id, wage.category, wage.title_zh, wage.title_en, wage.text_zh, wage.text_en, wage.keywords, False
    )
    await bot.services.storage.answers.import_records([withdrawn])
    query = await bot.press(COURIER, "This answers it")
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "filing.stale_button")
    assert await direct_answers(bot) == []
    assert (await bot.services.storage.dialogs.draft(COURIER)).step is Step.ANSWERS
    # A withdrawn answer is offered no more.
    await bot.press(COURIER, t(bot, "en", "button.cancel"))
    await describe(bot, COURIER, "en", "work", "My boss has not paid my wages for three months")
    assert wage.title_en not in bot.last_text(COURIER)


async def test_the_digest_counts_direct_answers_on_a_line_of_their_own_never_as_appeals(bot) -> None:
    await describe(bot, ZH_COURIER, "zh", "work", "老板拖欠我三个月工资不给")
    await bot.press(ZH_COURIER, "这解答了我的问题")
    await bot.say(COORDINATOR, "/digest")
    digest = "\n".join(bot.texts(COORDINATOR)[-3:])
    assert t(bot, "en", "answers_filing.digest", count=1) in digest
    assert t(bot, "en", "digest.flow", new=0, accepted=0, resolved=0, closed=0, reopened=0) in digest


async def test_a_card_of_three_answers_at_their_caps_fits_one_message(bot) -> None:
    big = [
        AnswerRecord(
            f"big-{n}", "work", "长" * MAX_TITLE, "L" * MAX_TITLE, "字" * MAX_TEXT, "w" * MAX_TEXT, ("夜宵", "宵夜补贴")
        )
        for n in range(3)
    ]
    await bot.services.storage.answers.import_records(big)
    await describe(bot, ZH_COURIER, "zh", "work", "想问问夜班骑手的宵夜补贴")
    card = bot.last_text(ZH_COURIER)
    assert card.count("字" * MAX_TEXT) == 3
    assert len(card.encode("utf-16-le")) // 2 <= TEXT
    await describe(bot, COURIER, "en", "work", "Is there a 宵夜补贴 for night riders?")
    card = bot.last_text(COURIER)
    assert card.count("w" * MAX_TEXT) == 3
    assert len(card.encode("utf-16-le")) // 2 <= TEXT


async def test_answers_lists_by_category_for_coordinators_and_staff_not_couriers(bot) -> None:
    await bot.say(COORDINATOR, "/answers")
    overview = bot.last_text(COORDINATOR)
    assert overview.startswith(t(bot, "en", "answers.overview", count=12))
    assert t(bot, "en", "answers.category_line", category="Work protection", count=3) in overview
    await bot.press(COORDINATOR, "Work protection")
    listing = bot.last_text(COORDINATOR)
    assert listing.startswith(t(bot, "en", "answers.category_title", category="Work protection", count=3))
    assert (
        t(bot, "en", "answers.line", id="wage-arrears", title="Unpaid wages: where to complain and what to bring")
        in listing
    )
    await bot.say(STAFF, "/answers wage-arrears")
    assert "被拖欠工资，去哪里投诉、带什么" in bot.last_text(STAFF)
    assert "Unpaid wages: where to complain and what to bring" in bot.last_text(STAFF)
    await bot.say(COURIER, "/answers")
    assert bot.last_text(COURIER) == t(bot, "en", "answers.not_allowed")


async def test_a_long_category_is_paged(bot) -> None:
    many = [
        AnswerRecord(f"more-{n:02d}", "life", f"标题{n}", f"Title {n}", "正文", "Text", ("托管",)) for n in range(30)
    ]
    await bot.services.storage.answers.import_records(many)
    await bot.say(COORDINATOR, "/answers life")
    # heat-protection, more-00 ... more-23; then the rest, station-hours last.
    assert "more-23" in bot.last_text(COORDINATOR) and "more-24" not in bot.last_text(COORDINATOR)
    await bot.press(COORDINATOR, "Next page (7 more)")
    assert "more-24" in bot.last_text(COORDINATOR) and "more-23" not in bot.last_text(COORDINATOR)
    assert "station-hours" in bot.last_text(COORDINATOR)


@pytest.mark.slow  # the bot's worker process checks the file
async def test_a_coordinators_answer_file_is_checked_whole_then_imported_by_id(bot) -> None:
    good = b"""[[answers]]
id = "wage-arrears"
category = "work"
keywords = ["wage"]
title_zh = "\xe6\xac\xa0\xe8\x96\xaa"
title_en = "Unpaid wages (new)"
text_zh = "\xe6\x89\xbe\xe4\xba\xba\xe7\xa4\xbe\xe5\xb1\x80"
text_en = "Go to the HR bureau"

[[answers]]
id = "night-meals"
category = "life"
title_zh = "\xe5\xa4\x9c\xe5\xae\xb5"
title_en = "Night meals"
text_zh = "\xe9\xa9\xbf\xe7\xab\x99"
text_en = "Stations"
"""
    bad = good.replace(b'category = "life"', b'category = "food"').replace(b'text_en = "Stations"\n', b"")
    bot.core.send_document(COORDINATOR, bad, "answers.toml", "application/toml")
    await bot.deliver()
    report = bot.last_text(COORDINATOR)
    assert report.startswith(t(bot, "en", "station_admin.problems", count=2))
    # Each problem with its line: a missing field at its answer's [[answers]] line.
    assert "• line 10, column text_en: answer 2: is missing\n" in report
    assert "• line 12, column category: answer 2: no category has the id 'food'" in report
    assert (await bot.services.storage.answers.get("wage-arrears")).title_en != "Unpaid wages (new)"
    assert await bot.services.storage.answers.get("night-meals") is None

    bot.core.send_document(COORDINATOR, good, "answers.toml", "application/toml")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == t(bot, "en", "answers.imported", added=1, updated=1)
    assert (await bot.services.storage.answers.get("wage-arrears")).title_en == "Unpaid wages (new)"
    # Answers the file does not name stay, as station imports keep stations.
    assert await bot.services.storage.answers.get("legal-aid") is not None
    # A courier's TOML file is no import: it goes where other messages go.
    bot.core.send_document(COURIER, good, "answers.toml", "application/toml")
    await bot.deliver()
    assert (await bot.services.storage.answers.get("night-meals")).title_en == "Night meals"
    assert len(await bot.services.storage.answers.all()) == 13


@pytest.mark.slow  # the bot's worker process builds the files
async def test_the_export_counts_direct_answers_in_its_caption_and_lists_only_appeals(bot) -> None:
    await describe(bot, ZH_COURIER, "zh", "work", "老板拖欠我三个月工资不给")
    await bot.press(ZH_COURIER, "这解答了我的问题")
    await describe(bot, COURIER, "en", "work", "My boss has not paid my wages for three months")
    await bot.press(COURIER, "File my appeal anyway")
    await bot.press(COURIER, t(bot, "en", "button.skip"))
    await bot.press(COURIER, t(bot, "en", "button.skip"))
    await bot.press(COURIER, t(bot, "en", "button.confirm"))
    await bot.say(COORDINATOR, "/export 2026-11-23 2026-11-29")
    captions = [m.get("caption") for m in bot.core.bot_messages(COORDINATOR) if m.get("document")]
    expected = "Ledger 2026-11-23 – 2026-11-29. Appeals: 1" + t(bot, "en", "answers_filing.export_caption", count=1)
    assert captions[-2:] == [expected, expected]
