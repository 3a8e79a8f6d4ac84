"""A survey's results chart reads on a phone: 4 inches wide (a 10 pt label shows at about 14 points on a
412-point screen), labels above their bars and wrapped, nothing drawn off the edge, Chinese in the CJK font,
and no chart taller than 1.25 times its width (Telegram shrinks a taller photo to fit the chat's height, and
its text with it): a long survey, or a long question, is carried over to more charts."""

import struct
from dataclasses import replace

import pytest

from domain.surveys_file import read_survey
from handlers.chart import CJK_FAMILY, chart_language
from handlers.i18n import Catalog
from handlers.survey_chart import DPI, PAGE_IN, WIDTH_IN, ChartWords, results_figures, wrap
from storage.surveys import Results
from tests.handlers.test_surveys import COORDINATOR, COURIER, OTHER, answer_small, open_small
from tests.harness import running_bot

PNG = b"\x89PNG\r\n\x1a\n"
PHONE_POINTS = 412  # how wide a phone shows a photo
# How tall a photo may be for its width before Telegram's chat shows it smaller than the phone's width.
TALLEST = 1.25
CATALOG = Catalog.load()
LONG_EN = "Rest stops with water and phone charging"
LONG_ZH = "驿站歇脚、饮水、手机充电和雨具借用等一站式综合便民服务点位"


def survey(questions: int = 1, options: int = 3, *, long: bool = True):
    """A survey of `questions` single-choice questions, each with `options` options (the first one long)."""
    parts = [
        '[survey]\nid = "chart"\ntitle_zh = "骑手需求调查"\ntitle_en = "Couriers\' needs survey"\nanonymous = true\n'
    ]
    for number in range(questions):
        options_zh = [LONG_ZH if long else "选项0"] + [f"选项{i}" for i in range(1, options)]
        options_en = [LONG_EN if long else "Option 0"] + [f"Option {i}" for i in range(1, options)]
        parts.append(
            f'[[questions]]\nkind = "single"\ntext_zh = "第{number + 1}题：您平时最常去哪个驿站歇脚？"\n'
            f'text_en = "Question {number + 1}: which station do you rest at most often?"\n'
            f"options_zh = {options_zh!r}\noptions_en = {options_en!r}\n".replace("'", '"')
        )
    return read_survey("\n".join(parts).encode(), "toml")


def words(lang: str) -> ChartWords:
    return ChartWords(CATALOG, lang)


def shown_whole_and_wide(figure) -> bool:
    """Whether a phone shows the chart at its full width: no taller than TALLEST times its width."""
    width, height = figure.get_size_inches()
    return width == WIDTH_IN and height <= TALLEST * width


def results_of(questions: int, options: int) -> Results:
    counts = [[7] + [1] * (options - 1) for _ in range(questions)]
    return Results(9, counts, [sum(c) for c in counts], [[] for _ in range(questions)])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_text_is_large_on_a_phone_wrapped_and_inside_the_chart(lang) -> None:
    assert chart_language("zh") == "zh", "fonts-noto-cjk is not installed (dev.py test installs it)"
    chosen = survey()
    (figure,) = results_figures(chosen, results_of(1, 3), lang, chosen.title(lang), words(lang))
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    texts = [t for t in figure.axes[0].texts if t.get_text()]
    assert figure.get_size_inches()[0] == WIDTH_IN
    for text in texts:
        shown_at = text.get_fontsize() * PHONE_POINTS / (WIDTH_IN * 72)
        assert shown_at >= 14, (text.get_text(), shown_at)
        extent = text.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1, text
    # Wrapped, not shrunk: a Chinese option of 30 characters, an English question of 52.
    long = LONG_ZH if lang == "zh" else "1. Question 1: which station do you rest at most often?"
    (label,) = [t for t in texts if t.get_text().replace("\n", "").replace(" ", "") == long.replace(" ", "")]
    assert "\n" in label.get_text()
    assert {t.get_fontname() for t in texts} == {CJK_FAMILY if lang == "zh" else "DejaVu Sans"}
    assert "7 · 77.8%" in [t.get_text() for t in texts]


@pytest.mark.parametrize(
    ("lang", "numbered"), [("en", "Couriers' needs survey (1/{})"), ("zh", "骑手需求调查（1/{}）")]
)
def test_a_long_survey_becomes_several_charts_none_taller_than_a_phone_shows_whole(lang, numbered) -> None:
    chosen = survey(30, 10, long=False)
    figures = results_figures(chosen, results_of(30, 10), lang, chosen.title(lang), words(lang))
    assert len(figures) > 1
    assert all(shown_whole_and_wide(f) for f in figures)
    assert PAGE_IN <= TALLEST * WIDTH_IN
    heads = [f.axes[0].texts[0].get_text() for f in figures]
    assert heads[0] == numbered.format(len(figures))
    drawn = [t.get_text() for f in figures for t in f.axes[0].texts]
    asked = "题：您平时" if lang == "zh" else ". Question "
    assert sum(asked in text for text in drawn) == 30  # every question, once
    assert sum(" · " in text for text in drawn) == 300  # every option's bar, once


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_question_too_long_for_one_chart_goes_on_under_a_continued_head(lang) -> None:
    """A question of 500 characters and 10 options (the first of two lines): its text and options carried over, line by line
    and option by option, each chart still no taller than a phone shows whole and every text large."""
    chosen = survey(1, 10)
    long_text = ("您平时最常去哪个驿站歇脚" if lang == "zh" else "Which station do you rest at most often ") * 40
    question = chosen.questions[0]
    field = "text_zh" if lang == "zh" else "text_en"
    chosen = replace(chosen, questions=(replace(question, **{field: long_text[:500]}),))
    figures = results_figures(chosen, results_of(1, 10), lang, chosen.title(lang), words(lang))
    assert len(figures) >= 3
    continued = CATALOG.text(lang, "surveys2.continued", number=1)
    for figure in figures:
        assert shown_whole_and_wide(figure)
        figure.canvas.draw()
        renderer, box = figure.canvas.get_renderer(), figure.bbox
        for text in (t for t in figure.axes[0].texts if t.get_text()):
            assert text.get_fontsize() * PHONE_POINTS / (WIDTH_IN * 72) >= 14
            extent = text.get_window_extent(renderer)
            assert box.y0 <= extent.y0 and extent.y1 <= box.y1, text.get_text()
    drawn = [[t.get_text() for t in f.axes[0].texts] for f in figures]
    assert all(texts[1] == continued for texts in drawn[1:])
    assert sum(text.startswith("7 · ") for texts in drawn for text in texts) == 1  # the first option once
    assert sum(text.startswith("1 · ") for texts in drawn for text in texts) == 9  # and the other nine once each
    question_lines = [line for texts in drawn for text in texts[1:] if text != continued for line in text.split("\n")]
    assert "".join(question_lines).replace(" ", "").startswith(("1. " + long_text[:500]).replace(" ", ""))


def test_wrap_breaks_between_words_or_anywhere_in_chinese_but_not_before_punctuation() -> None:
    assert wrap("Rest stops with water and charging", 16) == ["Rest stops with", "water and", "charging"]
    assert wrap("您目前是否参加了职业伤害保障？", 28) == ["您目前是否参加了职业伤害保", "障？"]
    assert all(not line.startswith(("？", "，", "）")) for line in wrap("一二三四五六七，八九十？（可多选）", 14))
    assert wrap("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_coordinator_gets_the_phone_sized_chart_through_the_bot(tmp_path, lang) -> None:
    async with running_bot(tmp_path / "chart.sqlite3") as bot:
        await bot.start(COURIER, OTHER, COORDINATOR)
        await open_small(bot)
        await answer_small(bot, COURIER)
        await answer_small(bot, OTHER, None)
        await bot.services.storage.people.set_language(COORDINATOR, lang)
        await bot.say(COORDINATOR, "/surveys")
        await bot.press(COORDINATOR, "A small survey" if lang == "en" else "小调查")
        await bot.press(COORDINATOR, bot.services.text(lang, "surveys.button_results"))
        photos = [m for m in bot.core.bot_messages(COORDINATOR) if m.get("photo")]
        assert len(photos) > 1  # three questions with 12 bars do not fit one chart a phone shows whole
        title = "A small survey" if lang == "en" else "小调查"
        caption = bot.services.text(lang, "surveys.chart_caption", title=title)
        numbered = "{} ({}/{})" if lang == "en" else "{}（{}/{}）"
        assert [p["caption"] for p in photos] == [
            numbered.format(caption, n, len(photos)) for n in range(1, len(photos) + 1)
        ]
        for photo in photos:
            png = bot.core.file_bytes(bot.core.file_path(photo["photo"][-1]["file_id"]))
            width, height = struct.unpack(">II", png[16:24])
            assert png.startswith(PNG) and width == WIDTH_IN * DPI and height <= TALLEST * width
