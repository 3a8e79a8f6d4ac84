"""Surveys (问卷): a coordinator's file checked whole, the preview, opening; couriers answering each kind of
question in buttons, stopping and continuing, answering once, told whether it is anonymous; the results
with a chart, CSV and Excel; forged presses refused; erasure."""

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from domain.surveys_file import read_survey
from storage.store import open_database
from tests.harness import on_this_backend, running_bot

COURIER, ZH_COURIER, OTHER, COORDINATOR = 1001, 1002, 1003, 900
SAMPLE = Path(__file__).resolve().parents[2] / "sandbox" / "district" / "survey-needs.toml"

SMALL = """
[survey]
id = "small"
title_zh = "小调查"
title_en = "A small survey"
anonymous = {anonymous}

[[questions]]
kind = "single"
text_zh = "常去哪个驿站？"
text_en = "Which station do you use most?"
options_zh = ["一号驿站", "二号驿站"]
options_en = ["Station One", "Station Two"]

[[questions]]
kind = "multiple"
text_zh = "需要哪些服务？"
text_en = "Which services do you need?"
options_zh = ["饮水", "充电", "午休"]
options_en = ["Water", "Charging", "A nap"]

[[questions]]
kind = "scale"
text_zh = "满意吗？"
text_en = "How satisfied are you?"
low_zh = "很不满意"
low_en = "very dissatisfied"
high_zh = "很满意"
high_en = "very satisfied"

[[questions]]
kind = "text"
text_zh = "还有什么建议？"
text_en = "Anything else?"
optional = true
"""


@pytest.fixture
async def bot(tmp_path):
    """The test district: an English courier, a Chinese one, another courier, a coordinator."""
    async with running_bot(tmp_path / "surveys.sqlite3") as running:
        await running.start(COURIER, OTHER, COORDINATOR)
        running.user(ZH_COURIER, "Wang", language_code="zh")
        await running.say(ZH_COURIER, "/start")
        yield running


def t(bot, lang, key, **values):
    return bot.services.text(lang, key, **values)


def labels(bot, person) -> list[str]:
    """The labels of the newest message's inline buttons."""
    return [label for label, _ in bot.core.inline_buttons(bot.core.bot_messages(person)[-1])]


async def send_file(bot, person, text: str, name: str = "survey-small.toml") -> None:
    bot.core.send_document(person, text.encode(), name, "application/toml")
    await bot.deliver()


async def open_small(bot, anonymous: str = "true") -> int:
    """Import the small survey through the bot and open it (after the confirmation); its number."""
    await send_file(bot, COORDINATOR, SMALL.format(anonymous=anonymous))
    await bot.press(COORDINATOR, "Open the survey")
    assert bot.last_text(COORDINATOR) == t(bot, "en", "surveys.open_confirm", title="A small survey")
    await bot.press(COORDINATOR, "Yes, open it")
    return (await bot.services.storage.surveys.by_key("small")).id


async def answer_small(bot, person=COURIER, text: str | None = "More shade, please") -> None:
    """Answer every question of the small survey in English."""
    await bot.say(person, "/surveys")
    await bot.press(person, "A small survey")
    await bot.press(person, "Start")
    await bot.press(person, "Station Two")
    await bot.press(person, "☐ Water")
    await bot.press(person, "☐ A nap")
    await bot.press(person, "Done")
    await bot.press(person, "4")
    if text is None:
        await bot.press(person, "Skip")
    else:
        await bot.say(person, text)
    await bot.press(person, "Send my answers")


async def rows(bot, sql: str, params=()) -> list[tuple]:
    return [tuple(r) for r in await bot.services.storage.db.fetchall(sql, params)]


# ---- import -----------------------------------------------------------------------------------


async def test_a_file_with_problems_lists_each_with_its_line_and_imports_nothing(bot) -> None:
    bad = SMALL.format(anonymous='"maybe"').replace('kind = "scale"', 'kind = "stars"')
    bad = bad.replace('options_en = ["Water", "Charging", "A nap"]', 'options_en = ["Water", "Charging"]')
    await send_file(bot, COORDINATOR, bad)
    report = bot.last_text(COORDINATOR)
    assert report.startswith(t(bot, "en", "station_admin.problems", count=3))
    assert "• line 6, column anonymous: survey: 'maybe' is not true or false" in report
    assert "• line 20, column options_en: question 2: has 2 options, options_zh 3" in report
    assert "• line 23, column kind: question 3: 'stars' is not a kind of question" in report
    assert report.endswith(t(bot, "en", "station_admin.nothing_imported"))
    assert await bot.services.storage.surveys.all() == []


async def test_a_courier_sending_a_survey_file_imports_nothing(bot) -> None:
    await send_file(bot, COURIER, SMALL.format(anonymous="true"))
    assert await bot.services.storage.surveys.all() == []


@pytest.mark.slow  # the answer file is checked in the bot's worker process
async def test_a_survey_table_routes_a_toml_file_under_any_name_and_answer_files_still_import(bot) -> None:
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="true"), name="needs.toml")
    assert bot.texts(COORDINATOR)[-1].startswith(t(bot, "en", "surveys.imported", title="A small survey"))
    answers = Path(__file__).resolve().parents[2] / "sandbox" / "district" / "answers.toml"
    bot.core.send_document(COORDINATOR, answers.read_bytes(), "answers.toml", "application/toml")
    await bot.deliver()
    assert bot.last_text(COORDINATOR) == t(bot, "en", "answers.imported", added=12, updated=0)


async def test_an_opened_survey_cannot_be_replaced(bot) -> None:
    await open_small(bot)
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="false"))
    assert bot.last_text(COORDINATOR) == t(
        bot, "en", "surveys.locked", id="small", state=t(bot, "en", "surveys.state_open")
    )
    assert (await bot.services.storage.surveys.by_key("small")).survey.anonymous is True


# ---- preview and open -------------------------------------------------------------------------


async def test_the_preview_steps_through_what_couriers_see_in_both_languages(bot) -> None:
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="true"))
    stored = await bot.services.storage.surveys.by_key("small")
    await bot.press(COORDINATOR, "Preview")
    page = bot.last_text(COORDINATOR)
    assert page.startswith(t(bot, "en", "surveys.preview_head", page=1, pages=6))
    assert t(bot, "en", "surveys.anonymous") in page
    await bot.press(COORDINATOR, "Start")
    page = bot.last_text(COORDINATOR)
    assert "Which station do you use most?" in page
    assert labels(bot, COORDINATOR) == ["Station One", "Station Two", "Later", "Preview in Chinese"]
    await bot.press(COORDINATOR, "Station One")
    assert labels(bot, COORDINATOR)[:4] == ["☐ Water", "☐ Charging", "☐ A nap", "Done"]
    await bot.press(COORDINATOR, "Preview in Chinese")
    page = bot.last_text(COORDINATOR)
    assert "需要哪些服务？" in page and t(bot, "zh", "surveys.hint_multiple") in page
    await bot.press(COORDINATOR, "选好了")
    assert labels(bot, COORDINATOR)[:5] == ["1", "2", "3", "4", "5"]
    assert "1为很不满意，5为很满意" in bot.last_text(COORDINATOR)
    # Nothing a preview shows is an answer, and the survey is still a draft.
    assert await rows(bot, "SELECT * FROM survey_progress") == []
    assert (await bot.services.storage.surveys.get(stored.id)).state == "draft"
    # A courier cannot answer a survey that is not open, even with the button's data.
    query = bot.core.press_button(COURIER, bot.core.bot_messages(COURIER)[-1]["message_id"], f"sv:go:{stored.id}")
    await bot.deliver()
    assert bot.core.answered_callback(query) == {"text": t(bot, "en", "surveys.not_open"), "show_alert": True}


async def test_opening_asks_first_and_makes_it_available_with_a_menu_item(bot) -> None:
    assert "Surveys" not in bot.reply_labels(COURIER)
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="true"))
    await bot.press(COORDINATOR, "Open the survey")
    await bot.press(COORDINATOR, "Not yet")
    assert (await bot.services.storage.surveys.by_key("small")).state == "draft"
    await bot.say(COURIER, "/surveys")
    assert bot.last_text(COURIER) == t(bot, "en", "surveys.none_open")
    await open_small(bot)
    await bot.say(COURIER, "/start")
    assert "Surveys" in bot.reply_labels(COURIER)
    await bot.say(COURIER, "Surveys")
    assert bot.last_text(COURIER) == t(bot, "en", "surveys.open_list", count=1)
    assert labels(bot, COURIER) == ["A small survey"]


# ---- answering --------------------------------------------------------------------------------


async def test_a_courier_answers_each_kind_and_answers_once_anonymously(bot) -> None:
    number = await open_small(bot)
    await bot.say(COURIER, "/surveys")
    await bot.press(COURIER, "A small survey")
    intro = bot.last_text(COURIER)
    assert t(bot, "en", "surveys.anonymous") in intro and t(bot, "en", "surveys.size", count=4) in intro
    await bot.press(COURIER, "Start")
    assert bot.last_text(COURIER).startswith("A small survey · question 1 of 4")
    await bot.press(COURIER, "Station Two")
    await bot.press(COURIER, "☐ Water")
    await bot.press(COURIER, "☐ A nap")
    await bot.press(COURIER, "☑ Water")  # ticked again: untouched
    assert labels(bot, COURIER)[:3] == ["☐ Water", "☐ Charging", "☑ A nap"]
    await bot.press(COURIER, "Done")
    await bot.press(COURIER, "4")
    assert t(bot, "en", "surveys.hint_text", limit=1000) in bot.last_text(COURIER)
    # An anonymous answer may not carry a phone or ID number: asked again, nothing kept.
    await bot.say(COURIER, "More shade, please; call me on 138 0013 8000")
    assert bot.last_text(COURIER) == t(bot, "en", "surveys.no_personal_numbers")
    await bot.say(COURIER, "More shade, please")
    assert bot.texts(COURIER)[-2] == t(bot, "en", "surveys.noted", text="More shade, please")
    assert bot.last_text(COURIER) == t(bot, "en", "surveys.end", title="A small survey")
    await bot.press(COURIER, "Send my answers")
    assert bot.last_text(COURIER) == t(bot, "en", "surveys.thanks", title="A small survey")
    # Anonymous: the response names nobody and has no time; who answered is kept apart, without an order.
    assert await rows(bot, "SELECT survey_id, telegram_id, submitted_at FROM survey_responses") == [
        (number, None, None)
    ]
    assert await rows(bot, "SELECT question, choice, text FROM survey_answers ORDER BY question, choice") == [
        (0, 1, None),
        (1, 2, None),
        (2, 4, None),
        (3, None, "More shade, please"),
    ]
    assert await rows(bot, "SELECT * FROM survey_progress") == []
    # Nor does the record of handled updates (kept to spot redeliveries) hold the buttons pressed.
    digests = [d for (d,) in await rows(bot, "SELECT digest FROM handled_updates")]
    assert any(d.startswith("cq:") and d.endswith(":sv") for d in digests)
    assert not any("sv:pick" in d for d in digests)
    # Once: the list is empty, and an old button is refused.
    await bot.say(COURIER, "/surveys")
    assert bot.last_text(COURIER) == t(bot, "en", "surveys2.answered_one", title="A small survey")
    query = bot.core.press_button(COURIER, bot.core.bot_messages(COURIER)[-1]["message_id"], f"sv:go:{number}")
    await bot.deliver()
    assert bot.core.answered_callback(query) == {"text": t(bot, "en", "surveys.already"), "show_alert": True}
    assert len(await rows(bot, "SELECT * FROM survey_responses")) == 1


async def test_stop_and_continue_later_keeps_the_answers_so_far(bot) -> None:
    await open_small(bot)
    await bot.say(COURIER, "/surveys")
    await bot.press(COURIER, "A small survey")
    await bot.press(COURIER, "Start")
    await bot.press(COURIER, "Station One")
    await bot.press(COURIER, "Later")
    assert bot.last_text(COURIER) == t(bot, "en", "surveys.later", title="A small survey")
    # Text typed meanwhile is not taken as an answer.
    await bot.say(COURIER, "/surveys")
    assert labels(bot, COURIER) == [t(bot, "en", "surveys.button_continue", title="A small survey", done=1, total=4)]
    await bot.press(COURIER, "A small survey")
    assert bot.last_text(COURIER).startswith("A small survey · question 2 of 4")
    await bot.press(COURIER, "Back")
    assert bot.last_text(COURIER).startswith("A small survey · question 1 of 4")
    await bot.press(COURIER, "Station Two")
    await bot.press(COURIER, "Done")  # nothing ticked on a required question
    assert bot.last_text(COURIER).startswith("A small survey · question 2 of 4")
    await bot.press(COURIER, "☐ Charging")
    await bot.press(COURIER, "Done")
    await bot.press(COURIER, "2")
    await bot.say(COURIER, "/cancel")  # at the text question: it waits no more, and the answers so far stay
    assert bot.last_text(COURIER) == t(bot, "en", "cancel.done")
    await bot.say(COURIER, "this is not an answer")
    assert await rows(bot, "SELECT awaiting_text FROM survey_progress") == [(0,)]
    await bot.press(COURIER, "A small survey")  # the list's button, still on screen
    await bot.press(COURIER, "Skip")
    await bot.press(COURIER, "Send my answers")
    assert await rows(bot, "SELECT question, choice, text FROM survey_answers ORDER BY question, choice") == [
        (0, 1, None),
        (1, 1, None),
        (2, 2, None),
    ]


async def test_a_named_survey_says_so_before_the_first_question_and_keeps_the_name(bot) -> None:
    number = await open_small(bot, anonymous="false")
    await bot.say(ZH_COURIER, "/surveys")
    await bot.press(ZH_COURIER, "小调查")
    intro = bot.last_text(ZH_COURIER)
    assert t(bot, "zh", "surveys.named") in intro
    assert intro.index(t(bot, "zh", "surveys.named")) < len(intro)
    assert labels(bot, ZH_COURIER) == ["开始填写", "稍后再填"]
    await bot.press(ZH_COURIER, "开始填写")
    assert bot.last_text(ZH_COURIER).startswith("小调查 · 第1题，共4题")
    await bot.press(ZH_COURIER, "一号驿站")
    await bot.press(ZH_COURIER, "☐ 饮水")
    await bot.press(ZH_COURIER, "选好了")
    await bot.press(ZH_COURIER, "5")
    await bot.say(ZH_COURIER, "希望多设几个饮水点")
    await bot.press(ZH_COURIER, "提交问卷")
    assert bot.last_text(ZH_COURIER) == t(bot, "zh", "surveys.thanks", title="小调查")
    assert await rows(bot, "SELECT survey_id, telegram_id FROM survey_responses") == [(number, ZH_COURIER)]


async def test_forged_and_stale_presses_are_refused_and_change_nothing(bot) -> None:
    number = await open_small(bot)
    await bot.say(COURIER, "/surveys")
    await bot.press(COURIER, "A small survey")
    await bot.press(COURIER, "Start")
    message = bot.core.bot_messages(COURIER)[-1]["message_id"]
    cases = [
        (f"sv:pick:{number}.1.0", "surveys.stale"),  # not the question they are at
        (f"sv:pick:{number}.0.7", "press.invalid"),  # no such option
        (f"sv:skip:{number}.0", "press.invalid"),  # a required question
        (f"sv:send:{number}", "surveys.stale"),  # not at the end
        ("sv:pick:999.0.0", "surveys.not_open"),
        (f"sv:pick:{number}.x.0", "press.invalid"),
        (f"sv:res:{number}", "coord.not_coordinator"),
        (f"sv:openy:{number}", "coord.not_coordinator"),
        (f"sv:pv:{number}.fr.0", "press.invalid"),
    ]
    before = await rows(bot, "SELECT * FROM survey_progress")
    for data, key in cases:
        query = bot.core.press_button(COURIER, message, data)
        await bot.deliver()
        assert bot.core.answered_callback(query) == {"text": t(bot, "en", key), "show_alert": True}, data
    assert await rows(bot, "SELECT * FROM survey_progress") == before
    # A coordinator does not answer surveys: they preview them.
    query = bot.core.press_button(COORDINATOR, bot.core.bot_messages(COORDINATOR)[-1]["message_id"], f"sv:go:{number}")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == t(bot, "en", "surveys.couriers_only")


# ---- results ----------------------------------------------------------------------------------


async def test_results_show_counts_shares_chart_and_texts_and_go_out_as_csv_and_excel(bot) -> None:
    number = await open_small(bot)
    await answer_small(bot, COURIER, "More shade, please")
    await answer_small(bot, OTHER, None)
    await bot.say(COORDINATOR, "/surveys")
    await bot.press(COORDINATOR, "A small survey")
    assert "Answers received: 2" in bot.last_text(COORDINATOR)
    await bot.press(COORDINATOR, "Results")
    messages = bot.core.bot_messages(COORDINATOR)
    summary = next(m["text"] for m in messages if (m.get("text") or "").startswith("Results of"))
    assert summary.startswith(t(bot, "en", "surveys.results_head", title="A small survey", count=2))
    assert "   Station Two: 2 (100%)" in summary and "   Station One: 0 (0%)" in summary
    assert "   4: 2 (100%)" in summary and "   Average: 4.0" in summary
    assert "4. Anything else? (1 answered)" in summary
    photos = [m for m in messages if m.get("photo")]
    caption = t(bot, "en", "surveys.chart_caption", title="A small survey")
    assert [p["caption"] for p in photos] == [f"{caption} ({n}/{len(photos)})" for n in range(1, len(photos) + 1)]
    assert (
        bot.last_text(COORDINATOR) == t(bot, "en", "surveys.texts_head", number=4, count=1) + "\n• More shade, please"
    )

    await bot.press(COORDINATOR, "CSV and Excel")
    documents = [m["document"] for m in bot.core.bot_messages(COORDINATOR) if m.get("document")]
    assert [d["file_name"] for d in documents] == ["survey-small.csv", "survey-small.xlsx"]
    csv_text = bot.core.file_bytes(bot.core.file_path(documents[0]["file_id"])).decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(csv_text)))
    assert csv_rows[0] == ["Question no.", "Question", "Answer", "Count", "Share (%)"]
    assert ["1", "Which station do you use most?", "Station Two", "2", "100.0"] in csv_rows
    assert ["4", "Anything else?", "More shade, please", "", ""] in csv_rows
    book = load_workbook(io.BytesIO(bot.core.file_bytes(bot.core.file_path(documents[1]["file_id"]))))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Question no.", "Question", "Answer", "Count", "Share (%)"]
    assert [2, "Which services do you need?", "Water", 2, 100.0] in values
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    assert number


async def test_a_free_text_that_looks_like_a_formula_stays_text_in_excel(bot) -> None:
    await open_small(bot)
    await answer_small(bot, COURIER, "=HYPERLINK(1)")
    await bot.say(COORDINATOR, "/surveys")
    await bot.press(COORDINATOR, "A small survey")
    await bot.press(COORDINATOR, "CSV and Excel")
    document = [m["document"] for m in bot.core.bot_messages(COORDINATOR) if m.get("document")][-1]
    sheet = load_workbook(io.BytesIO(bot.core.file_bytes(bot.core.file_path(document["file_id"])))).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(1)"]
    assert cells and all(c.data_type == "s" for c in cells)


async def test_closing_stops_answers_and_keeps_them(bot) -> None:
    number = await open_small(bot)
    await bot.say(COURIER, "/surveys")
    await bot.press(COURIER, "A small survey")
    await bot.press(COURIER, "Start")
    await bot.say(COORDINATOR, "/surveys")
    await bot.press(COORDINATOR, "A small survey")
    await bot.press(COORDINATOR, "Close the survey")
    await bot.press(COORDINATOR, "Yes, close it")
    assert (await bot.services.storage.surveys.get(number)).state == "closed"
    query = bot.core.press(COURIER, "Station One")
    await bot.deliver()
    assert bot.core.answered_callback(query) == {"text": t(bot, "en", "surveys.not_open"), "show_alert": True}


# ---- erasure ----------------------------------------------------------------------------------


async def test_erasure_removes_named_answers_and_progress_but_not_anonymous_counts(bot) -> None:
    await send_file(bot, COORDINATOR, SMALL.format(anonymous="false"))
    await bot.press(COORDINATOR, "Open the survey")
    await bot.press(COORDINATOR, "Yes, open it")
    await answer_small(bot, COURIER, "My own words")
    anonymous = read_survey(SAMPLE.read_bytes(), "toml")
    _, sample = await bot.services.storage.surveys.import_survey(anonymous, bot.clock())
    await bot.services.storage.surveys.set_state(sample, "open", bot.clock())
    await bot.say(COURIER, "/surveys")
    await bot.press(COURIER, "Couriers' needs survey")
    await bot.press(COURIER, "Start")
    await bot.say(COURIER, "/privacy")
    assert t(bot, "en", "surveys.privacy_held", count=2) in bot.last_text(COURIER)
    await bot.press(COURIER, "Delete")
    await bot.press(COURIER, t(bot, "en", "privacy.confirm"))
    for table in ("survey_responses", "survey_takers", "survey_progress", "survey_answers"):
        assert await rows(bot, f"SELECT * FROM {table}") == [], table
    assert await rows(bot, "SELECT 1 FROM survey_answers WHERE text = 'My own words'") == []


# ---- the sandbox ------------------------------------------------------------------------------


async def test_the_sandbox_district_starts_with_its_needs_survey_open(tmp_path) -> None:
    from bot.sandbox_run import district_config, load_sample_survey

    config = on_this_backend(district_config(None), tmp_path / "sandbox.sqlite3")
    assert await load_sample_survey(config) == 1
    assert await load_sample_survey(config) == 1  # a restart: still the one survey, still open
    db = await open_database(config.database.location())
    try:
        assert [tuple(row) for row in await db.fetchall("SELECT key, state FROM surveys")] == [("needs-2026", "open")]
    finally:
        await db.close()


async def test_retention_unlinks_old_named_answers_and_drops_surveys_left_unfinished(bot) -> None:
    from bot.retention import run_retention

    await send_file(bot, COORDINATOR, SMALL.format(anonymous="false"))
    await bot.press(COORDINATOR, "Open the survey")
    await bot.press(COORDINATOR, "Yes, open it")
    await answer_small(bot, COURIER, "Named words")
    await bot.say(OTHER, "/surveys")
    await bot.press(OTHER, "A small survey")
    await bot.press(OTHER, "Start")
    days = bot.config.privacy.retention_days
    bot.clock.advance(days=days - 1)
    await run_retention(bot.services, days)
    assert await rows(bot, "SELECT telegram_id FROM survey_responses") == [(COURIER,)]
    assert await rows(bot, "SELECT telegram_id FROM survey_progress") == [(OTHER,)]
    bot.clock.advance(days=2)
    await run_retention(bot.services, days)
    assert await rows(bot, "SELECT telegram_id, submitted_at FROM survey_responses") == [(None, None)]
    assert await rows(bot, "SELECT * FROM survey_progress") == []
    # The answers themselves stay, counted without a name.
    assert (
        await bot.services.storage.surveys.results(await bot.services.storage.surveys.by_key("small"))
    ).responses == 1
