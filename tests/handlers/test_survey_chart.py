"""A survey's results chart reads on a phone: 4 inches wide (a 10 pt label shows at about 14 points on a
412-point screen), labels above their bars and wrapped, nothing drawn off the edge, Chinese in the CJK font,
and a long survey split into charts a few screens tall."""

import struct

import pytest

from domain.surveys_file import read_survey
from handlers.chart import CJK_FAMILY, chart_language
from handlers.survey_chart import DPI, PAGE_IN, WIDTH_IN, results_figures, wrap
from storage.surveys import Results
from tests.handlers.test_surveys import COORDINATOR, COURIER, OTHER, answer_small, open_small
from tests.harness import running_bot

PNG = b"\x89PNG\r\n\x1a\n"
PHONE_POINTS = 412  # how wide a phone shows a photo
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


def results_of(questions: int, options: int) -> Results:
    counts = [[7] + [1] * (options - 1) for _ in range(questions)]
    return Results(9, counts, [sum(c) for c in counts], [[] for _ in range(questions)])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_text_is_large_on_a_phone_wrapped_and_inside_the_chart(lang) -> None:
    assert chart_language("zh") == "zh", "fonts-noto-cjk is not installed (dev.py test installs it)"
    chosen = survey()
    (figure,) = results_figures(chosen, results_of(1, 3), lang, chosen.title(lang))
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


def test_a_long_survey_becomes_several_charts_each_a_few_screens_tall() -> None:
    chosen = survey(30, 10, long=False)
    figures = results_figures(chosen, results_of(30, 10), "en", chosen.title("en"))
    assert len(figures) > 1
    assert all(f.get_size_inches()[1] <= PAGE_IN for f in figures)
    heads = [f.axes[0].texts[0].get_text() for f in figures]
    assert heads[0] == f"Couriers' needs survey (1/{len(figures)})"
    drawn = [t.get_text() for f in figures for t in f.axes[0].texts]
    assert sum(". Question " in text for text in drawn) == 30  # every question, once


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
        (photo,) = [m for m in bot.core.bot_messages(COORDINATOR) if m.get("photo")]
        title = "A small survey" if lang == "en" else "小调查"
        assert photo["caption"] == bot.services.text(lang, "surveys.chart_caption", title=title)
        png = bot.core.file_bytes(bot.core.file_path(photo["photo"][-1]["file_id"]))
        width, height = struct.unpack(">II", png[16:24])
        assert png.startswith(PNG) and width == WIDTH_IN * DPI and height <= PAGE_IN * DPI
