"""Report periods: a digest's whole calendar days, written as people in the district read them."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.periods import day_text, digest_period, midnight, period_text, recent_days

TZ = ZoneInfo("Asia/Shanghai")


def test_a_digest_covers_the_whole_days_before_its_slot() -> None:
    """Weekly on Monday 09:00: the Monday to Sunday before; daily: the day before."""
    slot = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
    assert digest_period("weekly", slot, TZ) == (midnight(date(2026, 11, 30), TZ), midnight(date(2026, 12, 7), TZ))
    assert digest_period("daily", slot, TZ) == (midnight(date(2026, 12, 6), TZ), midnight(date(2026, 12, 7), TZ))
    # A slot given in UTC is the same local day: 01:00 UTC is 09:00 in Shanghai.
    assert digest_period("daily", slot.astimezone(ZoneInfo("UTC")), TZ)[1] == midnight(date(2026, 12, 7), TZ)


@pytest.mark.parametrize(
    ("start", "end", "zh", "en"),
    [
        (date(2026, 11, 30), date(2026, 12, 7), "11月30日 周一 至 12月6日 周日", "Mon 30 Nov – Sun 6 Dec"),
        (date(2026, 12, 6), date(2026, 12, 7), "12月6日 周日", "Sun 6 Dec"),
        (
            date(2026, 12, 28),
            date(2027, 1, 4),
            "2026年12月28日 周一 至 2027年1月3日 周日",
            "Mon 28 Dec 2026 – Sun 3 Jan 2027",
        ),
    ],
)
def test_whole_days_read_as_calendar_days(start: date, end: date, zh: str, en: str) -> None:
    """First and last day with their weekdays; the year only when the period crosses one."""
    assert period_text(midnight(start, TZ), midnight(end, TZ), TZ, "zh") == zh
    assert period_text(midnight(start, TZ), midnight(end, TZ), TZ, "en") == en


def test_a_period_to_now_ends_at_the_time() -> None:
    """/digest: today and the six days before, to this minute."""
    now = datetime(2026, 12, 7, 14, 5, 30, tzinfo=TZ)
    start = recent_days(now, 7, TZ)
    assert start == midnight(date(2026, 12, 1), TZ)
    assert period_text(start, now + timedelta(seconds=1), TZ, "zh") == "12月1日 周二 至 12月7日 周一 14:05"
    assert period_text(midnight(date(2026, 12, 7), TZ), now, TZ, "en") == "Mon 7 Dec 00:00–14:05"


def test_day_text() -> None:
    """Chinese dates as 12月7日 周一, English as Mon 7 Dec."""
    assert (day_text(date(2026, 12, 7), "zh"), day_text(date(2026, 12, 7), "en")) == ("12月7日 周一", "Mon 7 Dec")
