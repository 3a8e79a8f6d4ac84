"""Filing limits: refused early with the limit and when, a draft refused at Confirm is kept, and
coordinators lift (and restore) them for a person picked by an appeal's number."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, parse_config, renamed_key_warnings
from domain.commands import NewAppeal
from domain.filing_limits import FilingLimited, FilingLimits
from tests.harness import running_bot
from tests.helpers import submit_appeal

COURIER, OTHER_COURIER, HR_STAFF, COORDINATOR = 1001, 1002, 600, 900
ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {"filings_per_minute": 3, "appeals_per_day": 20}


@pytest.fixture
async def bot(tmp_path):
    """The bot with the default limits: 3 filings a minute, 20 in 24 hours."""
    async with running_bot(tmp_path / "limits.sqlite3", limits=DEFAULTS) as running:
        for person, lang in ((COURIER, "en"), (OTHER_COURIER, "zh"), (COORDINATOR, "en")):
            running.user(person, f"P{person}", language_code=lang)
            await running.say(person, "/start")
        yield running


async def file_directly(bot, courier: int = COURIER, times: int = 1, every: timedelta = timedelta(0)) -> list[int]:
    """Appeals filed as the dialog would file them (limits checked), `every` apart; their numbers."""
    numbers = []
    for index in range(times):
        if index:
            bot.clock.now += every
        numbers.append(await submit_appeal(bot, courier, limits=FilingLimits(3, 20)))
    return numbers


async def draft_to_review(bot, courier: int = COURIER) -> None:
    """Walk the filing dialog up to the Confirm button."""
    t = lambda key: bot.services.text("en", key)  # noqa: E731
    await bot.say(courier, "/appeal")
    await bot.press(courier, bot.services.category("work").name("en"))
    await bot.say(courier, "My October wages were not paid, and the station manager says to wait another month")
    await bot.press(courier, t("button.skip"))
    await bot.press(courier, t("button.skip"))
    assert bot.core.inline_buttons(bot.core.bot_messages(courier)[-1])[0][0] == t("button.confirm")


async def appeals_of(bot, courier: int) -> int:
    return (await bot.services.storage.db.fetchone("SELECT count(*) FROM appeals WHERE courier_id = ?", (courier,)))[0]


async def test_the_fourth_appeal_in_a_minute_is_refused_before_the_draft_with_when(bot) -> None:
    """New appeal, past the limit: the limit and the minute they may file again, in the district's time,
    and no draft to write in vain; a minute later the dialog starts."""
    await file_directly(bot, times=3)
    replies = await bot.say(COURIER, "/appeal")
    assert [m["text"] for m in replies] == [
        "You can file at most 3 appeals a minute, and you have just filed that many. You can file again from Mon 23 Nov 10:01."
    ]
    assert await bot.services.storage.dialogs.draft(COURIER) is None
    bot.clock.advance(minutes=1)
    (question,) = await bot.say(COURIER, "/appeal")
    assert question["text"].startswith(bot.services.text("en", "filing.ask_category"))


async def test_a_text_kept_for_filing_is_refused_at_the_tap_and_stays_kept(bot) -> None:
    """Typed outside any dialog, then "File as a new appeal" past the limit: refused, the text still kept."""
    await file_directly(bot, times=3)
    await bot.say(COURIER, "The charger at the north gate sparks when I plug in")
    seen = len(bot.texts(COURIER))
    await bot.press(COURIER, "File as a new appeal")
    assert bot.texts(COURIER)[seen:] == [
        "You can file at most 3 appeals a minute, and you have just filed that many. You can file again from Mon 23 Nov 10:01."
    ]
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert draft is not None and not draft.open and draft.kept.startswith("The charger at the north gate")
    bot.clock.advance(minutes=1)
    await bot.press(COURIER, "File as a new appeal")
    assert (await bot.services.storage.dialogs.draft(COURIER)).description.startswith("The charger at the north gate")


async def test_chinese_refusal_names_the_day_limit_and_a_chinese_date(bot) -> None:
    """20 in 24 hours, one every 10 minutes from Monday 10:00: refused until Tuesday 10:00, in Chinese."""
    await file_directly(bot, OTHER_COURIER, times=20, every=timedelta(minutes=10))
    (reply,) = await bot.say(OTHER_COURIER, "/appeal")
    assert reply["text"] == (
        "24小时内最多可提交20件诉求，您已达到上限，请于11月24日 周二 10:00后再提交。"
        "如有新问题不能等待，可请协调员为您解除限制。"
    )
    bot.clock.now = bot.clock.now.replace(hour=10, minute=0) + timedelta(days=1)
    (question,) = await bot.say(OTHER_COURIER, "/appeal")
    assert question["text"].startswith(bot.services.text("zh", "filing.ask_category"))


async def test_a_draft_refused_at_confirm_is_kept_and_its_button_works_later(bot) -> None:
    """Begun while their limits were lifted, which a coordinator then restored: Confirm is refused with
    the reason, the draft is kept whole, and the same Confirm files it once the minute is over."""
    limits = bot.services.storage.filing_limits
    await file_directly(bot, times=3)
    await limits.set_lifted(COURIER, COORDINATOR, bot.clock())
    await draft_to_review(bot)
    await limits.set_lifted(COURIER, None, bot.clock())
    seen = len(bot.texts(COURIER))
    await bot.press(COURIER, "Confirm")
    (refusal,) = bot.texts(COURIER)[seen:]
    assert refusal == (
        "You can file at most 3 appeals a minute, and you have just filed that many. You can file again from Mon 23 Nov 10:01.\n"
        "Your appeal is kept as you wrote it: tap “Confirm and send” again then."
    )
    draft = await bot.services.storage.dialogs.draft(COURIER)
    assert draft is not None and draft.step == "review" and draft.description.startswith("My October wages")
    assert await appeals_of(bot, COURIER) == 3
    bot.clock.advance(minutes=1)
    await bot.press(COURIER, "Confirm")
    assert await appeals_of(bot, COURIER) == 4
    assert await bot.services.storage.dialogs.draft(COURIER) is None
    assert "Appeal #4 is filed" in bot.texts(COURIER)[seen - 1]  # the receipt took the summary's place


async def test_two_submissions_at_the_edge_file_once(bot) -> None:
    """One place left: the early check lets two drafts begin (two phones), and the check inside the
    submission's transaction files one of the two confirmations and refuses the other."""
    await file_directly(bot, times=2)
    storage, limits = bot.services.storage, FilingLimits(3, 20)
    assert [await storage.filing_limits.refusal(COURIER, bot.clock(), limits) for _ in range(2)] == [None, None]
    new = NewAppeal(courier_id=COURIER, category="work", description="Wages unpaid", language="en")
    results = await asyncio.gather(
        *(storage.appeals.submit(new, "hr", bot.clock(), limits) for _ in range(2)), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Applied", "FilingLimited"]
    assert await appeals_of(bot, COURIER) == 3
    refused = next(r for r in results if isinstance(r, FilingLimited))
    assert (refused.refusal.window, refused.refusal.limit) == ("minute", 3)


async def test_a_coordinator_lifts_and_restores_the_limits_for_a_person(bot) -> None:
    """/people → Filing limits lists who reached a limit by their latest appeal; lifting asks first, is
    recorded with who and when, tells the courier, and a second tap changes nothing; /lift N restores."""
    numbers = await file_directly(bot, times=3)
    await bot.say(COURIER, "/appeal")  # refused
    await bot.say(COORDINATOR, "/people")
    await bot.press(COORDINATOR, "Filing limits")
    assert bot.last_text(COORDINATOR) == "\n".join(
        [
            "Filing limits: each person may file 3 appeals a minute and 20 in 24 hours.",
            f"The courier of appeal #{numbers[-1]}: 3 filed in the last 24 hours, refused until Mon 23 Nov 10:01",
            "",
            bot.services.text("en", "ratelimit.hint"),
            "",
            bot.services.text("en", "mute.hint"),
        ]
    )
    await bot.press(COORDINATOR, f"Courier of #{numbers[-1]}")
    assert bot.last_text(COORDINATOR) == (
        f"Lift the filing limits for the courier of appeal #{numbers[-1]}? They filed 3 appeals in the last 24 hours."
        " They can then file without limits until you apply them again."
    )
    assert await bot.services.storage.filing_limits.lifted_by(COURIER) is None  # nothing before the confirmation
    lift_button = bot.core.bot_messages(COORDINATOR)[-1]["message_id"]
    await bot.press(COORDINATOR, "Lift the limits")
    assert (
        bot.last_text(COORDINATOR)
        == f"Done: the courier of appeal #{numbers[-1]} can now file without limits, and has been told."
    )
    assert await bot.services.storage.filing_limits.lifted_by(COURIER) == (COORDINATOR, bot.clock())
    assert bot.last_text(COURIER) == "A coordinator has lifted your filing limits: you can file new appeals now."
    (question,) = await bot.say(COURIER, "/appeal")
    assert question["text"].startswith(bot.services.text("en", "filing.ask_category"))
    await bot.say(COURIER, "/cancel")

    # The same button pressed again (or by a second coordinator): nothing changes, and they are told.
    query = bot.core.press_button(COORDINATOR, lift_button, f"lm:lift:{numbers[-1]}")
    await bot.deliver()
    assert bot.core.answered_callback(query) == {
        "text": f"The limits of the courier of appeal #{numbers[-1]} were already lifted.",
        "show_alert": True,
    }

    # Any of their appeals names them; restoring asks first, too.
    (ask,) = await bot.say(COORDINATOR, f"/lift {numbers[0]}")
    assert ask["text"] == (
        f"The filing limits of the courier of appeal #{numbers[0]} were lifted on Mon 23 Nov 10:00. Apply them again?"
    )
    await bot.press(COORDINATOR, "Apply the limits again")
    assert bot.last_text(COORDINATOR) == f"Done: the filing limits apply again to the courier of appeal #{numbers[0]}."
    assert await bot.services.storage.filing_limits.lifted_by(COURIER) is None
    await bot.tick()
    assert bot.last_text(COURIER) == (  # told, as when they were lifted
        "A coordinator has applied the filing limits to you again: at most 3 appeals a minute and 20 in 24 hours."
    )
    (refused,) = await bot.say(COURIER, "/appeal")
    assert refused["text"].startswith("You can file at most 3 appeals a minute")


async def test_lift_by_a_number_nobody_filed_and_cancel(bot) -> None:
    """A wrong number is named back with how to write it; Cancel changes nothing."""
    (reply,) = await bot.say(COORDINATOR, "/lift 4711")
    assert reply["text"] == bot.services.text("en", "ratelimit.no_appeal", number="4711")
    (empty,) = await bot.say(COORDINATOR, "/lift")
    assert bot.services.text("en", "ratelimit.none") in empty["text"]
    (number, *_) = await file_directly(bot, times=3, every=timedelta(minutes=1))  # under both limits: not listed
    (listing,) = await bot.say(COORDINATOR, "/lift")
    assert bot.services.text("en", "ratelimit.none") in listing["text"]
    await bot.say(COORDINATOR, f"/lift #{number}")
    await bot.press(COORDINATOR, "Cancel")
    assert bot.last_text(COORDINATOR) == "Nothing was changed."
    assert await bot.services.storage.filing_limits.lifted_by(COURIER) is None


def test_the_limits_are_in_the_config_with_defaults_and_checked() -> None:
    """[limits] defaults to 3 a minute and 10 a day (appeals_per_day); nonsense is refused with the key and why."""
    config = parse_config({}, "test", environ={})
    assert (config.limits.filings_per_minute, config.limits.appeals_per_day) == (3, 10)
    assert config.limits.filing_limits() == FilingLimits(3, 10)
    assert renamed_key_warnings(config) == []
    with pytest.raises(ConfigError) as refused:
        parse_config({"limits": {"filings_per_minute": 0, "appeals_per_day": 20}}, "test", environ={})
    assert [p.key for p in refused.value.problems] == ["limits.filings_per_minute"]
    with pytest.raises(ConfigError) as refused:
        parse_config({"limits": {"filings_per_minute": 5, "appeals_per_day": 2}}, "test", environ={})
    assert str(refused.value.problems[0]) == "limits: appeals_per_day must be at least filings_per_minute"


def test_the_old_name_of_the_day_limit_is_still_read_and_warned(tmp_path, capsys) -> None:
    """filings_per_day (issue 16's name) still sets the day's limit; check-config warns and names
    appeals_per_day; both names at once are refused."""
    config = parse_config({"limits": {"filings_per_day": 15}}, "test", environ={})
    assert config.limits.filing_limits() == FilingLimits(3, 15)
    assert [str(p) for p in renamed_key_warnings(config)] == [
        "limits.filings_per_day: renamed: write appeals_per_day = 15 instead (the old name is still read)"
    ]
    with pytest.raises(ConfigError) as refused:
        parse_config({"limits": {"filings_per_day": 15, "appeals_per_day": 12}}, "test", environ={})
    assert str(refused.value.problems[0]) == (
        "limits: filings_per_day is the old name of appeals_per_day: give only appeals_per_day"
    )
    old = tmp_path / "old.toml"
    old.write_text((ROOT / "config.example.toml").read_text().replace("appeals_per_day = 10", "filings_per_day = 20"))
    assert main(["check-config", str(old)]) == 0
    assert "warning: limits.filings_per_day: renamed: write appeals_per_day = 20 instead" in capsys.readouterr().err
