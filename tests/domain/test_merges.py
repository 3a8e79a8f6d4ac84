"""A merge target: another appeal, open or recently closed, of the same category or station."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.lifecycle import Outcome, State
from domain.merges import RECENTLY_CLOSED, MergeRefusal, MergeSide, merge_refusal

NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
DUPLICATE = MergeSide(1, State.ASSESSING, None, "work", "s1", NOW)


def side(**changes) -> MergeSide:
    """The target: appeal 2, open, same category, another station, unless changed."""
    values = dict(id=2, state=State.HANDLING, outcome=None, category="work", station_id="s2", updated_at=NOW)
    return MergeSide(**(values | changes))


@pytest.mark.parametrize(
    ("target", "refusal"),
    [
        (None, MergeRefusal.MISSING),
        (side(id=1), MergeRefusal.SELF),
        (side(state=State.COLLECTING), MergeRefusal.NOT_OPEN),
        (side(state=State.CLOSED, outcome=Outcome.MERGED), MergeRefusal.NOT_OPEN),
        (side(state=State.CLOSED, outcome=Outcome.REJECTED), MergeRefusal.NOT_OPEN),
        (side(state=State.CLOSED, outcome=Outcome.WITHDRAWN), MergeRefusal.NOT_OPEN),
        (
            side(state=State.CLOSED, outcome=Outcome.RESOLVED, updated_at=NOW - RECENTLY_CLOSED - timedelta(seconds=1)),
            MergeRefusal.CLOSED_LONG_AGO,
        ),
        (side(category="life"), MergeRefusal.UNRELATED),
        (side(category="life", station_id=None), MergeRefusal.UNRELATED),
        # Allowed: open, same category; another category at the same station; resolved recently.
        (side(), None),
        (side(category="life", station_id="s1"), None),
        (side(state=State.CLOSED, outcome=Outcome.RESOLVED, updated_at=NOW - timedelta(days=29)), None),
        (side(state=State.FEEDBACK), None),
    ],
)
def test_merge_refusal(target, refusal) -> None:
    """Each rule, and what passes them all."""
    assert merge_refusal(DUPLICATE, target, NOW) is refusal


def test_no_station_on_both_sides_is_not_the_same_station() -> None:
    """Two appeals without a station are not duplicates by place."""
    duplicate = MergeSide(1, State.ASSESSING, None, "work", None, NOW)
    assert merge_refusal(duplicate, side(category="life", station_id=None), NOW) is MergeRefusal.UNRELATED
