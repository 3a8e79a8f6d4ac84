"""A survey's results as charts a phone shows whole: a bar per option, its label on the line above it.

Drawn as the digest's chart is (handlers/chart.py: matplotlib's object API on the Agg canvas, the CJK font
for Chinese). A phone shows a photo about 412 points wide whatever its pixels, so what makes text readable
there is the figure's width in inches: at 4 inches, a 10 pt label shows at about 14 points (at 6 inches it
was 9). Labels go above their bars, so neither squeezes the other; long ones wrap rather than shrink; a long
survey becomes several charts, each a few screens tall, rather than one Telegram would shrink to fit.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass

from domain.surveys_file import Survey
from handlers.chart import GRID, INK, NEW, font_family
from handlers.survey_results import option_labels, share, share_text
from storage.surveys import Results

WIDTH_IN, DPI = 4.0, 200  # 800 pixels wide
MARGIN_IN = 0.15
TITLE_PT, QUESTION_PT, OPTION_PT, VALUE_PT = 13, 11.5, 11, 10
LINE = 1.35  # a line of text is this many times its size tall
BAR_IN, GAP_IN, QUESTION_GAP_IN = 0.2, 0.1, 0.22
VALUE_IN = 0.95  # room right of a full bar for its "12 · 100%"
PAGE_IN = 12.0  # one chart's height at most: 2,400 pixels, about four phone screens
# How many columns (a Chinese character is two, a Latin letter one) fit across the text's width at a size.
POINTS_PER_COLUMN = 0.55


@dataclass(frozen=True)
class _Block:
    """One question as drawn: its wrapped text, each option's wrapped label, share and count."""

    lines: list[str]
    options: list[tuple[list[str], float, int]]

    @property
    def height(self) -> float:
        """Its height in inches, its gap below included."""
        labels = sum(len(lines) for lines, _, _ in self.options) * _line_in(OPTION_PT)
        bars = len(self.options) * (BAR_IN + GAP_IN)
        return len(self.lines) * _line_in(QUESTION_PT) + 0.05 + labels + bars + QUESTION_GAP_IN


def _line_in(points: float) -> float:
    return points * LINE / 72


def _columns(points: float) -> int:
    """How many columns fit across the chart's text width at `points`."""
    return int((WIDTH_IN - 2 * MARGIN_IN) * 72 / (points * POINTS_PER_COLUMN))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """`text` in lines of at most `columns` columns: broken between words, or anywhere in Chinese."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _tokens(paragraph):
            if line and _width(line + token.rstrip()) > columns:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
            while _width(line.rstrip()) > columns:  # a word longer than a line: cut it
                cut = max(1, next(i for i in range(len(line), 0, -1) if _width(line[:i]) <= columns))
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


# Chinese punctuation that never starts a line, and that never ends one.
_CLOSING = set("，。、；：？！）》」』”’…")
_OPENING = set("（《「『“‘")


def _tokens(text: str) -> list[str]:
    """Words with their trailing space, and each wide (Chinese) character on its own (with the punctuation
    that must stay beside it)."""
    tokens: list[str] = []
    word = ""
    for character in text:
        if unicodedata.east_asian_width(character) in "WF":
            if word:
                tokens.append(word)
                word = ""
            if tokens and (character in _CLOSING or tokens[-1][-1] in _OPENING):
                tokens[-1] += character
            else:
                tokens.append(character)
        else:
            word += character
            if character == " ":
                tokens.append(word)
                word = ""
    if word:
        tokens.append(word)
    return tokens


def _blocks(survey: Survey, results: Results, lang: str) -> list[_Block]:
    blocks = []
    for index, question in enumerate(survey.questions):
        if question.kind == "text":
            continue
        answered = results.answered[index]
        options = [
            (wrap(label, _columns(OPTION_PT)), share(count, answered), count)
            for label, count in zip(option_labels(survey, index, lang), results.counts[index], strict=True)
        ]
        blocks.append(_Block(wrap(f"{index + 1}. {question.text(lang)}", _columns(QUESTION_PT)), options))
    return blocks


def _pages(title: list[str], blocks: list[_Block]) -> list[list[_Block]]:
    """The questions in charts of at most PAGE_IN inches (one question to a chart at least)."""
    head = 2 * MARGIN_IN + len(title) * _line_in(TITLE_PT) + QUESTION_GAP_IN
    pages: list[list[_Block]] = [[]]
    for block in blocks:
        if pages[-1] and head + sum(b.height for b in pages[-1]) + block.height > PAGE_IN:
            pages.append([])
        pages[-1].append(block)
    return pages


def results_figures(survey: Survey, results: Results, lang: str, title: str) -> list:
    """The figures of the choice and scale questions' shares, on Agg canvases; none when there is no such question."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    family = font_family(lang)
    font = {pt: FontProperties(family=family, size=pt) for pt in (TITLE_PT, QUESTION_PT, OPTION_PT, VALUE_PT)}
    blocks = _blocks(survey, results, lang)
    if not blocks:
        return []
    pages = _pages(wrap(title, _columns(TITLE_PT)), blocks)
    figures = []
    for number, page in enumerate(pages, 1):
        head = title if len(pages) == 1 else f"{title} ({number}/{len(pages)})"
        head_lines = wrap(head, _columns(TITLE_PT))
        height = 2 * MARGIN_IN + len(head_lines) * _line_in(TITLE_PT) + QUESTION_GAP_IN + sum(b.height for b in page)
        figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        FigureCanvasAgg(figure)  # Agg, whatever backend pyplot would pick
        # One axes over the whole figure, measured in inches from the top left: every line placed exactly.
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, WIDTH_IN)
        axes.set_ylim(height, 0)
        axes.set_axis_off()
        y = MARGIN_IN
        axes.text(MARGIN_IN, y, "\n".join(head_lines), fontproperties=font[TITLE_PT], color=INK, va="top")
        y += len(head_lines) * _line_in(TITLE_PT) + QUESTION_GAP_IN
        full = WIDTH_IN - 2 * MARGIN_IN - VALUE_IN
        for block in page:
            axes.text(MARGIN_IN, y, "\n".join(block.lines), fontproperties=font[QUESTION_PT], color=INK, va="top")
            y += len(block.lines) * _line_in(QUESTION_PT) + 0.05
            for lines, value, count in block.options:
                axes.text(MARGIN_IN, y, "\n".join(lines), fontproperties=font[OPTION_PT], color=INK, va="top")
                y += len(lines) * _line_in(OPTION_PT)
                middle = y + BAR_IN / 2
                axes.barh(middle, full, height=BAR_IN, left=MARGIN_IN, color=GRID)  # the whole: 100%
                axes.barh(middle, full * value / 100, height=BAR_IN, left=MARGIN_IN, color=NEW)
                axes.text(
                    MARGIN_IN + full + 0.06,
                    middle,
                    f"{count} · {share_text(value)}",
                    fontproperties=font[VALUE_PT],
                    color=INK,
                    va="center",
                )
                y += BAR_IN + GAP_IN
            y += QUESTION_GAP_IN
        figures.append(figure)
    return figures


def results_charts(survey: Survey, results: Results, lang: str, title: str) -> list[bytes]:
    """The charts as PNG bytes, in order. Slow: run it off the event loop (asyncio.to_thread)."""
    charts = []
    for figure in results_figures(survey, results, lang, title):
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
        charts.append(out.getvalue())
    return charts
