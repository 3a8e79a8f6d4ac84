"""A survey's results as charts a phone shows whole: a bar per option, its label on the line above it.

Drawn as the digest's chart is (handlers/chart.py: matplotlib's object API on the Agg canvas, the CJK font
for Chinese). A phone shows a photo about 412 points wide whatever its pixels, so what makes text readable
there is the figure's width in inches: at 4 inches, a 10 pt label shows at about 14 points (at 6 inches it
was 9). Labels go above their bars, so neither squeezes the other; long ones wrap rather than shrink; a long
survey becomes several charts, each about a screen tall (a question too long for one carried on to the next),
rather than one Telegram would shrink to fit.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, replace

from domain.surveys_file import Survey
from handlers.chart import GRID, INK, NEW, font_family
from handlers.i18n import Catalog
from handlers.survey_results import option_labels, share, share_text
from storage.surveys import Results

WIDTH_IN, DPI = 4.0, 200  # 800 pixels wide
MARGIN_IN = 0.15
TITLE_PT, QUESTION_PT, OPTION_PT, VALUE_PT = 13, 11.5, 11, 10
LINE = 1.35  # a line of text is this many times its size tall
BAR_IN, GAP_IN, QUESTION_GAP_IN = 0.2, 0.1, 0.22
VALUE_IN = 0.95  # room right of a full bar for its "12 · 100%"
# One chart's height at most: 1,000 pixels, 1.25 times its width. Telegram shows a taller photo shrunk to fit
# the chat's height, and its text with it; at this shape it shows at the full width of a phone.
PAGE_IN = 5.0
# How many columns (a Chinese character is two, a Latin letter one) fit across the text's width at a size.
POINTS_PER_COLUMN = 0.55


@dataclass(frozen=True)
class ChartWords:
    """The chart's own words, from the catalog in the language it is drawn in."""

    catalog: Catalog
    lang: str

    def numbered(self, text: str, number: int, total: int) -> str:
        """A chart's title with its number among the charts: "(1/2)", in Chinese "（1/2）"."""
        return self.catalog.text(self.lang, "surveys2.numbered", text=text, number=number, total=total)

    def continued(self, number: int) -> str:
        """The head of a question carried over from the chart before."""
        return self.catalog.text(self.lang, "surveys2.continued", number=number)


@dataclass(frozen=True)
class _Piece:
    """What a chart draws as one: a question's text (or part of it), or an option's label and bar."""

    lines: list[str]
    bar: tuple[float, int] | None = None  # an option's share and count
    after: float = 0.0  # room below it

    @property
    def height(self) -> float:
        """Its height in inches, the room below it included."""
        if self.bar is None:
            return len(self.lines) * _line_in(QUESTION_PT) + self.after
        return len(self.lines) * _line_in(OPTION_PT) + BAR_IN + GAP_IN + self.after


@dataclass(frozen=True)
class _Block:
    """One question as drawn: its number, then its text and each option as pieces."""

    number: int
    pieces: list[_Piece]

    @property
    def height(self) -> float:
        """Its height in inches, its gap below included."""
        return sum(p.height for p in self.pieces)


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
        pieces = [_Piece(wrap(f"{index + 1}. {question.text(lang)}", _columns(QUESTION_PT)), after=0.05)]
        pieces += [
            _Piece(wrap(label, _columns(OPTION_PT)), (share(count, answered), count))
            for label, count in zip(option_labels(survey, index, lang), results.counts[index], strict=True)
        ]
        pieces[-1] = replace(pieces[-1], after=pieces[-1].after + QUESTION_GAP_IN)
        blocks.append(_Block(index + 1, pieces))
    return blocks


def _head_in(title_lines: int) -> float:
    return 2 * MARGIN_IN + title_lines * _line_in(TITLE_PT) + QUESTION_GAP_IN


def _pages(room: float, blocks: list[_Block], words: ChartWords) -> list[list[_Piece]]:
    """The pieces in charts of at most `room` inches below the title each: a question whole on one chart
    where one holds it, else carried over piece by piece (a long text line by line) under a "continued" head."""
    pages: list[list[_Piece]] = [[]]
    used, fresh = 0.0, True  # fresh: nothing on this chart yet but a "continued" head
    for block in blocks:
        if not fresh and used + block.height > room:
            pages.append([])
            used, fresh = 0.0, True
        carried = False  # whether part of this question is on an earlier chart
        for piece in block.pieces:
            while used + piece.height > room:
                lines = int((room - used) / _line_in(QUESTION_PT)) if piece.bar is None else 0
                lines = min(lines, len(piece.lines) - 1)
                if lines > 0:  # a long question's text: the lines that fit here, the rest on the next chart
                    pages[-1].append(_Piece(piece.lines[:lines]))
                    piece = replace(piece, lines=piece.lines[lines:])
                    carried = True
                elif fresh:
                    break  # taller than a whole chart, and not to be split: drawn as it is
                pages.append([])
                used, fresh = 0.0, True
                if carried:
                    head = _Piece([words.continued(block.number)], after=0.05)
                    pages[-1].append(head)
                    used += head.height
            pages[-1].append(piece)
            used += piece.height
            fresh, carried = False, True
    return pages


def results_figures(survey: Survey, results: Results, lang: str, title: str, words: ChartWords) -> list:
    """The figures of the choice and scale questions' shares, on Agg canvases; none when there is no such question.

    Each is at most PAGE_IN inches tall: a phone shows it whole at full width, its text as large as measured."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    family = font_family(lang)
    font = {pt: FontProperties(family=family, size=pt) for pt in (TITLE_PT, QUESTION_PT, OPTION_PT, VALUE_PT)}
    blocks = _blocks(survey, results, lang)
    if not blocks:
        return []
    # Room is measured under the numbered title (the longest it can be), so every chart keeps within PAGE_IN.
    widest = words.numbered(title, 999, 999)
    pages = _pages(PAGE_IN - _head_in(len(wrap(widest, _columns(TITLE_PT)))), blocks, words)
    figures = []
    for number, page in enumerate(pages, 1):
        head = title if len(pages) == 1 else words.numbered(title, number, len(pages))
        head_lines = wrap(head, _columns(TITLE_PT))
        height = _head_in(len(head_lines)) + sum(p.height for p in page)
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
        for piece in page:
            if piece.bar is None:
                axes.text(MARGIN_IN, y, "\n".join(piece.lines), fontproperties=font[QUESTION_PT], color=INK, va="top")
                y += piece.height
                continue
            value, count = piece.bar
            axes.text(MARGIN_IN, y, "\n".join(piece.lines), fontproperties=font[OPTION_PT], color=INK, va="top")
            y += len(piece.lines) * _line_in(OPTION_PT)
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
            y += BAR_IN + GAP_IN + piece.after
        figures.append(figure)
    return figures


def results_charts(survey: Survey, results: Results, lang: str, title: str, words: ChartWords) -> list[bytes]:
    """The charts as PNG bytes, in order. Slow: run it off the event loop (asyncio.to_thread)."""
    charts = []
    for figure in results_figures(survey, results, lang, title, words):
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
        charts.append(out.getvalue())
    return charts
