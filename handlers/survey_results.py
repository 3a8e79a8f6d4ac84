"""A survey's results as coordinators read them: counts and shares per option, a chart, and the files.

Pure functions of the counted results (storage/surveys.py Results): the text in the bot, the chart as
PNG bytes (matplotlib, drawn as handlers/chart.py draws the digest's, off the event loop), and the
table that goes out as CSV and Excel through the ledger export's writers (handlers/ledger_files.py).
"""

from __future__ import annotations

import io
import unicodedata

from domain.surveys_file import Survey
from handlers.chart import DPI, GRID, INK, LABEL_PT, NEW, TITLE_PT, VALUE_PT, font_family
from handlers.i18n import Catalog
from handlers.ledger_files import Value, to_csv, to_xlsx
from storage.surveys import Results

WIDTH_IN = 6.0
BAR_IN = 0.32  # each option's bar, with its gap
QUESTION_IN = 0.7  # each question's title and margins
MAX_CHART_IN = 40.0  # Telegram refuses photos far taller than wide


def share(count: int, of: int) -> float:
    """`count` as a percentage of `of`, to one decimal (0 when nobody answered)."""
    return round(100 * count / of, 1) if of else 0.0


def _share_text(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0") + "%"


def option_labels(survey: Survey, index: int, lang: str) -> tuple[str, ...]:
    """What each count of a question is about: its options, or 1 to 5 with what the ends mean."""
    question = survey.questions[index]
    if question.kind != "scale":
        return question.options(lang)
    low, high = question.ends(lang)
    labels = list(question.options(lang))
    if low:
        labels[0] = f"1 {low}"
    if high:
        labels[-1] = f"5 {high}"
    return tuple(labels)


def summary_text(catalog: Catalog, lang: str, survey: Survey, results: Results) -> str:
    """The results in the bot: each question, each option's count and share, a scale's average, texts counted."""
    t = lambda key, **kw: catalog.text(lang, key, **kw)  # noqa: E731
    lines = [t("surveys.results_head", title=survey.title(lang), count=results.responses)]
    for index, question in enumerate(survey.questions):
        answered = results.answered[index]
        lines += ["", t("surveys.results_question", number=index + 1, text=question.text(lang), count=answered)]
        if question.kind == "text":
            lines.append(t("surveys.results_texts", count=len(results.texts[index])))
            continue
        for label, count in zip(option_labels(survey, index, lang), results.counts[index], strict=True):
            lines.append(
                t("surveys.results_option", option=label, count=count, share=_share_text(share(count, answered)))
            )
        if question.kind == "scale" and answered:
            total = sum(value * count for value, count in enumerate(results.counts[index], 1))
            lines.append(t("surveys.results_average", average=f"{total / answered:.1f}"))
    return "\n".join(lines)


def table(catalog: Catalog, lang: str, survey: Survey, results: Results) -> tuple[list[str], list[list[Value]]]:
    """The results as one table: a row per option (count and share), then a row per free text."""
    t = lambda key: catalog.text(lang, key)  # noqa: E731
    headers = [t(f"surveys.col_{c}") for c in ("number", "question", "answer", "count", "share")]
    rows: list[list[Value]] = []
    for index, question in enumerate(survey.questions):
        if question.kind == "text":
            rows += [[index + 1, question.text(lang), text, None, None] for text in results.texts[index]]
            continue
        answered = results.answered[index]
        for label, count in zip(option_labels(survey, index, lang), results.counts[index], strict=True):
            rows.append([index + 1, question.text(lang), label, count, share(count, answered)])
    return headers, rows


def build_files(catalog: Catalog, lang: str, survey: Survey, results: Results) -> tuple[bytes, bytes]:
    """The results as CSV and as Excel (text never a formula: domain/cells.py)."""
    headers, rows = table(catalog, lang, survey, results)
    return to_csv(headers, rows), to_xlsx(headers, rows, catalog.text(lang, "surveys.sheet"))


def chart(survey: Survey, results: Results, lang: str, title: str) -> bytes | None:
    """Each choice and scale question's options as horizontal bars of their shares, as PNG bytes; None when
    the survey has no such question. Slow: run it off the event loop (asyncio.to_thread)."""
    from matplotlib import font_manager, transforms
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = [i for i, q in enumerate(survey.questions) if q.kind != "text"]
    if not shown:
        return None
    heights = [QUESTION_IN + BAR_IN * len(results.counts[i]) for i in shown]
    figure = Figure(figsize=(WIDTH_IN, min(MAX_CHART_IN, 0.6 + sum(heights))), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # Agg, whatever backend pyplot would pick
    font = font_manager.FontProperties(family=font_family(lang))
    grid = figure.add_gridspec(len(shown), 1, height_ratios=heights)
    for row, index in enumerate(shown):
        axes = figure.add_subplot(grid[row])
        labels = option_labels(survey, index, lang)
        answered = results.answered[index]
        shares = [share(c, answered) for c in results.counts[index]]
        positions = range(len(labels))
        bars = axes.barh(list(positions), shares, color=NEW, height=0.6)
        axes.bar_label(
            bars,
            labels=[f"{c} · {_share_text(s)}" for c, s in zip(results.counts[index], shares, strict=True)],
            fontsize=VALUE_PT - 2,
            color=INK,
            padding=3,
        )
        axes.set_yticks(list(positions), labels)
        axes.invert_yaxis()  # the first option on top, as in the bot
        axes.set_xlim(0, 125)  # room to the right of a full bar for its count
        axes.set_xticks([])
        # The question from the figure's left edge (an axes title would start after the option labels and
        # run off the right); the blank title keeps its line free in the layout.
        axes.set_title(" ", fontsize=LABEL_PT - 1, loc="left")
        where = transforms.blended_transform_factory(figure.transFigure, axes.transAxes)
        axes.text(
            0.01,
            1.0,
            f"{index + 1}. {_clip(survey.questions[index].text(lang))}",
            transform=transforms.offset_copy(where, fig=figure, y=5, units="points"),
            fontproperties=font,
            fontsize=LABEL_PT - 1,
            color=INK,
            va="bottom",
        )
        for label in axes.get_yticklabels():
            label.set_fontproperties(font)
            label.set_fontsize(LABEL_PT - 2)
        axes.tick_params(colors=INK, length=0)
        axes.grid(axis="x", color=GRID)
        axes.set_axisbelow(True)
        for side in ("top", "right", "bottom"):
            axes.spines[side].set_visible(False)
    figure.suptitle(title, fontproperties=font, fontsize=TITLE_PT, color=INK)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _clip(text: str, columns: int = 68) -> str:
    """A question's text as a chart title: its first line, cut to fit the chart's width (a Chinese
    character is as wide as two Latin letters)."""
    line = text.splitlines()[0] if text else ""
    width = 0
    for end, character in enumerate(line):
        width += 2 if unicodedata.east_asian_width(character) in "WF" else 1
        if width > columns:
            return line[: end - 1] + "…"
    return line
