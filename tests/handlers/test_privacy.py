"""/privacy: a courier sees what is kept and deletes it; the daily retention run; logs stay clean."""

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.retention import RETENTION_JOB, run_retention
from domain.commands import ActOnAppeal, NewAppeal
from domain.lifecycle import Event, Outcome
from tests.harness import START, running_bot

COURIER, STAFF, HR_STAFF, COORDINATOR, STRANGER = 1001, 500, 600, 900, 1999
PHONE = "+8613800138000"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def bot(tmp_path):
    """A courier with one open wage appeal (phone and a photo) and a shared location."""
    async with running_bot(tmp_path / "privacy.sqlite3") as running:
        await running.start(COURIER, STAFF, HR_STAFF, COORDINATOR)
        new = NewAppeal(
            courier_id=COURIER,
            category="work",
            description="My wages were not paid",
            language="en",
            contact_phone=PHONE,
            attachments=(("photo", "AgAD-p", "AQAD-p"),),
        )
        await running.services.storage.appeals.submit(new, "hr", START)
        running.core.share_location(COURIER, 31.23, 121.47)
        await running.deliver()
        await running.app.bot_data.sender.flush()
        yield running


async def test_a_courier_sees_what_is_kept_and_deletes_it(bot) -> None:
    """Counts first; Delete asks to confirm; confirming withdraws the open appeal and removes the rest."""
    await bot.say(COURIER, "/privacy")
    shown = bot.last_text(COURIER)
    for line in (
        "Appeals: 1 (open: 1)",
        "Texts of your appeals (descriptions, questions, answers, results): 1",
        "Photos and voice notes: 1",
        "Phone number: shared with a unit",
        "Location: the last one you shared to find a station",
        "Language: English",
    ):
        assert line in shown
    await bot.press(COURIER, "Delete my data")
    assert bot.last_text(COURIER) == bot.services.text("en", "privacy.are_you_sure")
    await bot.press(COURIER, "Cancel")
    assert bot.last_text(COURIER) == "Nothing was deleted."
    assert await bot.services.storage.people.get(COURIER) is not None

    await bot.press(COURIER, "Delete my data")
    await bot.press(COURIER, "Yes, delete it")
    assert bot.last_text(COURIER).startswith(
        "Done: your data is deleted. Appeals made anonymous: 1; withdrawn first: 1."
    )
    storage = bot.services.storage
    appeal = await storage.appeals.get(1)
    assert (appeal.outcome, appeal.courier_id, appeal.description, appeal.contact_phone) == (
        Outcome.WITHDRAWN,
        None,
        "",
        None,
    )
    assert await storage.appeals.attachments(1) == []
    assert await storage.people.get(COURIER) is None
    assert await storage.stations.last_location(COURIER) is None
    # The unit hears of the withdrawal, without anything the courier wrote.
    assert bot.last_text(HR_STAFF) == bot.services.text("en", "notice.withdraw.unit", number=1)

    await bot.say(COURIER, "/privacy")
    assert "Appeals: 0 (open: 0)" in bot.last_text(COURIER)


async def test_the_same_in_chinese(bot) -> None:
    """zh: the counts and the buttons."""
    await bot.services.storage.people.set_language(COURIER, "zh")
    await bot.say(COURIER, "/privacy")
    assert "诉求：1件（办理中1件）" in bot.last_text(COURIER)
    await bot.press(COURIER, "删除我的数据")
    await bot.press(COURIER, "确定删除")
    assert bot.last_text(COURIER).startswith("已完成，您的数据已删除。")


@pytest.mark.parametrize("person", [STAFF, COORDINATOR])
async def test_staff_and_coordinators_cannot_erase_themselves(bot, person) -> None:
    """They see what is kept and are told to give up their role first; forged buttons change nothing."""
    await bot.say(person, "/privacy")
    assert bot.last_text(person).endswith(bot.services.text("en", "privacy.role_first"))
    assert bot.core.inline_buttons(bot.core.last_message(person)) == []
    message_id = bot.core.last_message(person)["message_id"]
    for data in ("pv:erase", "pv:yes", "pv:no"):
        query = bot.core.press_button(person, message_id, data)
        await bot.deliver()
        assert bot.core.answered_callback(query) == {
            "text": bot.services.text("en", "privacy.role_first"),
            "show_alert": True,
        }
    assert await bot.services.storage.people.get(person) is not None


async def test_a_stranger_sees_nothing_kept_but_their_language(bot) -> None:
    """Someone new: no appeals, no texts; their forged confirm only removes the row their visit made."""
    bot.user(STRANGER, "Stranger")
    await bot.say(STRANGER, "/privacy")
    assert "Appeals: 0 (open: 0)" in bot.last_text(STRANGER) and "Location: none kept" in bot.last_text(STRANGER)
    query = bot.core.press_button(STRANGER, bot.core.last_message(STRANGER)["message_id"], "pv:delete")
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == bot.services.text("en", "press.invalid")
    await bot.press(STRANGER, "Delete my data")
    await bot.press(STRANGER, "Yes, delete it")
    assert await bot.services.storage.people.get(STRANGER) is None
    assert (await bot.services.storage.appeals.get(1)).courier_id == COURIER  # nobody else's data is touched


async def test_the_daily_retention_job(bot) -> None:
    """It is scheduled once a day; its body anonymises closed appeals past the retention at the injected clock."""
    jobs = bot.app.job_queue.get_jobs_by_name(RETENTION_JOB)
    assert len(jobs) == 1
    storage = bot.services.storage
    await storage.appeals.apply(ActOnAppeal(1, Event.WITHDRAW, COURIER), START + timedelta(hours=1))
    bot.clock.now = START + timedelta(days=bot.config.privacy.retention_days - 1)
    assert (await run_retention(bot.services, bot.config.privacy.retention_days)).appeals == 0
    bot.clock.advance(days=2)
    expired = await run_retention(bot.services, bot.config.privacy.retention_days)
    assert (expired.appeals, expired.locations) == (1, 1)
    appeal = await storage.appeals.get(1)
    assert (appeal.description, appeal.contact_phone, appeal.courier_id) == ("", None, None)


def test_log_calls_carry_no_personal_data() -> None:
    """No log call in the bot's code formats a token, a phone number, a text or a whole update."""
    calls = []
    for path in (ROOT / d for d in ("bot", "handlers", "storage", "domain")):
        for source in path.rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            calls += [
                (source.name, m.group(0)) for m in re.finditer(r"\blog\.\w+\((?:[^()]|\([^()]*\))*\)", text, re.S)
            ]
    assert calls, "no log calls found: the pattern is wrong"
    forbidden = re.compile(r"token|phone|description|\bnotes?\b|\btext\b|\bupdate\b|\bmessage\b|\.args|params", re.I)
    for name, call in calls:
        arguments = call.split(",", 1)[1] if "," in call else ""
        assert not forbidden.search(arguments), f"{name}: {call}"


async def test_nothing_personal_reaches_the_log(bot, caplog) -> None:
    """Filing, answering and deleting log neither the phone, the texts nor the token."""
    caplog.set_level(logging.DEBUG)
    await bot.say(COURIER, "/privacy")
    await bot.press(COURIER, "Delete my data")
    await bot.press(COURIER, "Yes, delete it")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (
        PHONE,
        "My wages were not paid",
        bot.config.telegram.token.get_secret_value() if bot.config.telegram.token else "offline-sandbox-token",
    ):
        assert secret not in logged
