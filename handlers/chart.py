"""The digest's chart: new and resolved appeals per day, as a PNG sized for a phone.

Drawn with matplotlib's object API on the Agg canvas (no pyplot state, so charts drawn on worker
threads do not share a current figure). Chinese labels need a CJK font: the Debian package
fonts-noto-cjk, which `dev.py test` installs. Without it the chart is drawn in English with the
font matplotlib ships, rather than with boxes where the characters should be.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from domain.periods import month_day_text, weekday_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib and numpy are imported where a chart is drawn, not with the bot: they add about
# 30 MiB to a process that draws a chart a few times a day.

CJK_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FAMILY = "Noto Sans CJK SC"  # the Simplified Chinese face of the collection
FALLBACK_FAMILY = "DejaVu Sans"  # ships with matplotlib
NEW, RESOLVED, INK, GRID = "#3b82f6", "#22c55e", "#1e293b", "#e2e8f0"
# 6 x 4 inches at 150 dpi: 900 x 600 pixels, as wide as Telegram shows a photo on a phone, with
# text large enough to read there without zooming.
SIZE_IN, DPI = (6.0, 4.0), 150
TITLE_PT, LABEL_PT, VALUE_PT = 15, 12, 11
MAX_DAY_LABELS = 10


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, in the language it is drawn in."""

    title: str
    new: str
    resolved: str


@lru_cache(maxsize=4)
def cjk_available(font_file: Path = CJK_FONT_FILE) -> bool:
    """Whether the CJK font is installed (and known to matplotlib, added if it came after its font cache)."""
    from matplotlib import font_manager

    if not font_file.exists():
        return False
    if not any(entry.name == CJK_FAMILY for entry in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(font_file)
    return any(entry.name == CJK_FAMILY for entry in font_manager.fontManager.ttflist)


def chart_language(lang: str, font_file: Path = CJK_FONT_FILE) -> str:
    """The language the chart can be drawn in: the reader's, or English when Chinese has no font."""
    return "en" if lang == "zh" and not cjk_available(font_file) else lang


def font_family(lang: str) -> str:
    """The font family a chart in `lang` (as chart_language chose it) is drawn with."""
    return CJK_FAMILY if lang == "zh" else FALLBACK_FAMILY


def day_label(day: datetime, lang: str) -> str:
    """A day under its bars: weekday over date, "周一\n11/30" or "Mon\n30 Nov"."""
    return f"{weekday_text(day, lang)}\n{month_day_text(day, lang)}"


def daily_figure(days: list[tuple[datetime, int, int]], labels: ChartLabels, lang: str) -> Figure:
    """Grouped bars per day (blue: new, green: resolved), counted on whole-number ticks, on an Agg canvas."""
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    font = font_manager.FontProperties(family=font_family(lang))
    figure = Figure(figsize=SIZE_IN, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # Agg, whatever backend pyplot would pick
    axes = figure.add_subplot()
    positions = range(len(days))
    width = 0.4
    bars = [
        axes.bar([x - width / 2 for x in positions], [new for _, new, _ in days], width, color=NEW, label=labels.new),
        axes.bar(
            [x + width / 2 for x in positions],
            [done for _, _, done in days],
            width,
            color=RESOLVED,
            label=labels.resolved,
        ),
    ]
    for group in bars:
        values = [int(bar.get_height()) for bar in group]
        axes.bar_label(group, labels=[str(v) if v else "" for v in values], fontsize=VALUE_PT, color=INK, padding=2)
    peak = max([0] + [max(new, done) for _, new, done in days])
    axes.set_ylim(0, max(1, peak) * 1.18)  # room above the tallest bar for its count
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    step = max(1, -(-len(days) // MAX_DAY_LABELS))
    axes.set_xticks(list(positions)[::step], [day_label(day, lang) for day, _, _ in days][::step])
    figure.suptitle(labels.title, fontproperties=font, fontsize=TITLE_PT, color=INK)
    # Under the day labels: never over a tall bar's count.
    figure.legend(
        prop=font_manager.FontProperties(family=font_family(lang), size=LABEL_PT),
        frameon=False,
        loc="outside lower center",
        ncols=2,
    )
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        label.set_fontproperties(font)
        label.set_fontsize(LABEL_PT)
    axes.tick_params(colors=INK, length=0)
    axes.grid(axis="y", color=GRID)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    return figure


def daily_chart(days: list[tuple[datetime, int, int]], labels: ChartLabels, lang: str) -> bytes:
    """The chart as PNG bytes (slow enough to run off the event loop: asyncio.to_thread)."""
    figure = daily_figure(days, labels, lang)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
