"""The [calendar] section: the official calendar, the district's own days on top of it, and what
check-config says about the years the library knows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.cli import main
from bot.config import calendar_warnings, holidays_summary, parse_config
from domain.calendar import official_days

UNIT = '[[units]]\nid = "hr"\nkind = "department"\nzh = "人社局"\nen = "HR Bureau"\n'
LAST = official_days().last_year
BEYOND = LAST + 1


def config(**calendar):
    """A config whose [calendar] holds these keys."""
    return parse_config({"calendar": calendar}, environ={})


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No config, database or Telegram settings leak in from the machine; work in a temp folder."""
    for name in ("APPEALS_BOT_CONFIG", "APPEALS_BOT_DATABASE", "TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_by_default_the_official_calendar_counts() -> None:
    """No [calendar] at all: the 2026 Spring Festival is off, its make-up Saturdays are worked."""
    calendar = config().working_calendar()
    assert not calendar.is_working_day(date(2026, 2, 16))
    assert calendar.is_working_day(date(2026, 2, 14)) and calendar.is_working_day(date(2026, 2, 28))


def test_the_districts_lists_add_and_override() -> None:
    """holidays adds days off and drops an official make-up day; makeup_days adds working days and
    works through an official holiday."""
    calendar = config(
        holidays=[date(2026, 3, 9), date(2026, 2, 28)], makeup_days=[date(2026, 3, 14), date(2026, 10, 7)]
    ).working_calendar()
    assert not calendar.is_working_day(date(2026, 3, 9))  # a Monday off for the district
    assert not calendar.is_working_day(date(2026, 2, 28))  # an official make-up Saturday, not kept here
    assert calendar.is_working_day(date(2026, 3, 14))  # a Saturday worked
    assert calendar.is_working_day(date(2026, 10, 7))  # a National Day holiday worked here
    assert not calendar.is_working_day(date(2026, 10, 6))  # the rest of the holiday stands


def test_an_old_config_still_means_what_it_listed() -> None:
    """The lists an existing config holds (the old example's hand-made National Day) load, and each
    listed day is what the config says, even where the official calendar differs (27 September)."""
    listed_off = [date(2026, 10, d) for d in (1, 2, 5, 6, 7)]
    listed_work = [date(2026, 9, 27), date(2026, 10, 10)]
    calendar = config(holidays=listed_off, makeup_days=listed_work).working_calendar()
    assert not any(calendar.is_working_day(d) for d in listed_off)
    assert all(calendar.is_working_day(d) for d in listed_work)


def test_official_calendar_false_counts_only_weekends_and_the_lists() -> None:
    """The 2026 Spring Festival is five ordinary weekdays; the listed day still counts."""
    calendar = config(official_calendar=False, holidays=[date(2026, 2, 17)]).working_calendar()
    assert [calendar.is_working_day(date(2026, 2, d)) for d in range(16, 21)] == [True, False, True, True, True]
    assert not calendar.is_working_day(date(2026, 2, 14))


def test_a_day_listed_both_ways_is_refused() -> None:
    """Off and worked at once is a mistake in the file, named by its key."""
    with pytest.raises(Exception, match="calendar.makeup_days: 2026-03-09 is also listed as a holiday"):
        config(holidays=[date(2026, 3, 9)], makeup_days=[date(2026, 3, 9)])


def test_beyond_the_library_the_calendar_falls_back_to_weekends_and_the_lists() -> None:
    """The first year the library does not know: weekdays work unless the config says otherwise."""
    new_year = date(BEYOND, 1, 1)
    weekday = new_year if new_year.weekday() < 5 else new_year + timedelta(days=7 - new_year.weekday())
    assert config().working_calendar().is_working_day(weekday)
    assert not config(holidays=[weekday]).working_calendar().is_working_day(weekday)


@pytest.mark.parametrize(
    "today,years",
    [
        (date(LAST, 6, 1), []),  # a known year, not yet December
        (date(LAST, 11, 30), []),
        (date(LAST, 12, 1), [BEYOND]),  # December: next year's deadlines are near
        (date(BEYOND, 3, 1), [BEYOND]),
        (date(BEYOND, 12, 7), [BEYOND, BEYOND + 1]),
    ],
)
def test_check_config_warns_about_the_years_the_library_does_not_know(today, years) -> None:
    """This year, and next year in December, must be known to the library."""
    warnings = calendar_warnings(config(), today)
    assert len(warnings) == len(years)
    for warning, year in zip(warnings, years, strict=True):
        assert warning.key == "calendar"
        assert f"through {LAST}: in {year} deadlines skip weekends only, no public holiday" in warning.reason


def test_listing_the_new_years_days_or_leaving_the_official_calendar_silences_the_warning() -> None:
    """Once the district lists the new year's holidays by hand, or counts only its own lists, there is
    nothing to warn about."""
    december = date(LAST, 12, 7)
    assert not calendar_warnings(config(holidays=[date(BEYOND, 1, 1)]), december)
    assert not calendar_warnings(config(official_calendar=False), december)


def test_the_summary_says_where_the_holidays_come_from() -> None:
    """The library and its last year, or the config alone."""
    two = config(holidays=[date(2026, 3, 9)], makeup_days=[date(2026, 3, 14)])
    assert holidays_summary(two) == (
        f"from {official_days().source}, known through {LAST}; the config adds 1 day off and 1 make-up working day"
    )
    assert holidays_summary(config(official_calendar=False)) == (
        "0 days off and 0 make-up working days from the config only (official_calendar = false)"
    )


def test_check_config_prints_through_which_year_and_warns_beyond_it(tmp_path, capsys) -> None:
    """The summary line, and a warning (not a refusal) when today's district date needs a year the library
    does not know."""
    path = tmp_path / "district.toml"
    path.write_text(UNIT)
    assert main(["check-config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"holidays       from {official_days().source}, known through {LAST};" in out
    today = datetime.now(parse_config({}, environ={}).zone()).date()
    beyond = today.year > LAST or (today.month == 12 and today.year + 1 > LAST)
    assert ("warning: calendar: " in err) is beyond
    assert "Traceback" not in err
