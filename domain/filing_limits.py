"""How often one person may file: at most so many appeals in any minute and in any 24 hours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Window = Literal["minute", "day"]
WINDOWS: dict[Window, timedelta] = {"minute": timedelta(minutes=1), "day": timedelta(days=1)}
LONGEST = max(WINDOWS.values())


@dataclass(frozen=True)
class FilingLimits:
    """The most appeals one person may file in any minute, and in any 24 hours."""

    per_minute: int
    per_day: int

    def most(self, window: Window) -> int:
        """The limit of `window`."""
        return self.per_minute if window == "minute" else self.per_day


@dataclass(frozen=True)
class Refusal:
    """A filing refused: which limit it reached, how many that is, and when the person may file again."""

    window: Window
    limit: int
    until: datetime


def refusal(filed: Sequence[datetime], now: datetime, limits: FilingLimits) -> Refusal | None:
    """Whether one more filing at `now` would pass a limit, given when the person filed lately (any order).

    The day's limit is named before the minute's when both are reached: its wait is the longer.
    """
    for window in ("day", "minute"):
        length, most = WINDOWS[window], limits.most(window)
        inside = sorted(moment for moment in filed if moment > now - length)
        if len(inside) >= most:
            # Free again when enough of them have left the window that one more fits.
            return Refusal(window, most, inside[len(inside) - most] + length)
    return None


class FilingLimited(Exception):
    """Raised by a submission that a filing limit refuses; nothing was written."""

    def __init__(self, refused: Refusal) -> None:
        super().__init__(f"filing limit per {refused.window} ({refused.limit}) reached")
        self.refusal = refused
