"""Which appeal a duplicate may be merged into: the rule storage enforces and the dialog explains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.lifecycle import Outcome, State

# A duplicate may still join an appeal closed this recently: its courier then hears the outcome.
RECENTLY_CLOSED = timedelta(days=30)


class MergeRefusal(StrEnum):
    """Why an appeal may not be merged into another (a stable key for the message catalog)."""

    SELF = "merge_self"
    MISSING = "merge_missing"
    NOT_OPEN = "merge_not_open"  # still a draft, or itself merged, rejected or withdrawn
    CLOSED_LONG_AGO = "merge_closed_long_ago"
    UNRELATED = "merge_unrelated"  # neither the same category nor the same station


@dataclass(frozen=True)
class MergeSide:
    """What the rule needs to know about one of the two appeals."""

    id: int
    state: State
    outcome: Outcome | None
    category: str
    station_id: str | None
    updated_at: datetime  # for a closed appeal, when it closed


def merge_refusal(duplicate: MergeSide, target: MergeSide | None, now: datetime) -> MergeRefusal | None:
    """Why `duplicate` may not be merged into `target`, or None if it may."""
    if target is None:
        return MergeRefusal.MISSING
    if target.id == duplicate.id:
        return MergeRefusal.SELF
    if target.state is State.COLLECTING or target.outcome in (Outcome.MERGED, Outcome.REJECTED, Outcome.WITHDRAWN):
        return MergeRefusal.NOT_OPEN
    if target.state is State.CLOSED and now - target.updated_at > RECENTLY_CLOSED:
        return MergeRefusal.CLOSED_LONG_AGO
    same_station = duplicate.station_id is not None and duplicate.station_id == target.station_id
    if duplicate.category != target.category and not same_station:
        return MergeRefusal.UNRELATED
    return None
