"""SIGKILL the bot at random moments while couriers and staff work; restart it each time; lose nothing.

The bot runs as a real process (`python -m bot run`) against the sandbox's HTTP Bot API. Couriers
and station staff are small agents that behave as people do: they read the last thing the bot
said and answer it, and when the bot falls silent (it was killed) they try again.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from sandbox.core import BotApiCore
from sandbox.server import start_server
from tests.helpers import BotProcess, CallsTold, TimedOut, until
from tests.test_run_command import DISTRICT, TOKEN, launch

# Each courier files its appeals within a minute or so, and files again what a kill left unconfirmed
# (a dozen in all, some couriers): far more than the default filing limits allow.
CONFIG = DISTRICT + "\n[limits]\nfilings_per_minute = 100\nfilings_per_day = 1000\n"

COURIERS = list(range(7001, 7009))
HR = 600
KILLS = 22
APPEALS_PER_COURIER = 4
FILED = re.compile(r"Appeal #(\d+) is filed")


# Notices about appeals filed before: they come between a dialog's steps (promptly, as the outbox
# holds no chat behind another), and are no step to answer.
NOTICE = re.compile(r"was accepted by|resolved appeal #")


def last_bot_text(core: BotApiCore, chat: int) -> tuple[int, str]:
    """The number of bot messages so far and the newest one's text (a courier's: the newest step, notices aside)."""
    messages = core.bot_messages(chat)
    texts = [m.get("text") or "" for m in messages]
    if chat in COURIERS:
        texts = [text for text in texts if not NOTICE.search(text)]
    return len(messages), texts[-1] if texts else ""


async def answer(core: BotApiCore, chat: int, seen: int, seconds: float = 3.0) -> bool:
    """Wait for a new bot message in `chat`; False if the bot stayed silent (it may be dead)."""
    try:
        await until(lambda: len(core.bot_messages(chat)) > seen, f"a message to {chat}", core=core, seconds=seconds)
    except TimedOut:
        return False
    # A reply in several messages ("Where did it happen?", then how to skip) has its parts
    # apart by other people's updates handled meanwhile: read on once the chat is quiet.
    await quiet(core, chat, 0.1)
    return True


async def quiet(core: BotApiCore, chat: int, seconds: float) -> None:
    """Wait until `seconds` pass with no new bot message in `chat`."""
    while await answer_within(core, chat, seconds):
        pass


async def answer_within(core: BotApiCore, chat: int, seconds: float) -> bool:
    """Whether a new bot message comes to `chat` within `seconds`."""
    seen = len(core.bot_messages(chat))
    try:
        await until(lambda: len(core.bot_messages(chat)) > seen, f"a message to {chat}", core=core, seconds=seconds)
    except TimedOut:
        return False
    return True


def pressed(core: BotApiCore, chat: int, label: str) -> str | None:
    """Press the newest inline button starting with `label`, if there is one; the callback query's id."""
    try:
        return core.press(chat, label)
    except AssertionError:
        return None


def press_if(core: BotApiCore, chat: int, label: str) -> bool:
    """Press the newest inline button starting with `label`, if there is one."""
    return pressed(core, chat, label) is not None


async def courier(core: BotApiCore, chat: int, told: dict[int, int], stop: asyncio.Event) -> None:
    """File appeals one after another, answering whatever step the bot is at."""
    filed = 0
    while not stop.is_set() and filed < APPEALS_PER_COURIER:
        seen, text = last_bot_text(core, chat)
        # A receipt takes its summary's place, so it may be above newer messages: every one counts.
        receipts = {int(n) for m in core.bot_messages(chat) for n in FILED.findall(m.get("text") or "")}
        if new := receipts - told.keys():
            told.update(dict.fromkeys(new, chat))
            filed += len(new)
            core.send_text(chat, "/appeal")
        else:
            take_filing_step(core, chat, text, lambda case=filed + 1: f"Courier {chat}: wages unpaid, case {case}")
        await answer(core, chat, seen)


def take_filing_step(core: BotApiCore, chat: int, text: str, words: Callable[[], str]) -> None:
    """Answer the filing dialog's step that `text` asks, as a person would: a category, `words()` for the
    description, no place, no phone, Confirm; anything else (lost, or the bot restarted): /appeal again."""
    if "What is it about?" in text and press_if(core, chat, "Work protection"):
        return
    if "Describe the problem" in text:
        core.send_text(chat, words())
        return
    for question, label in (
        ("If the place does not matter", "Skip"),
        ("staff will then see only what you wrote", "Skip"),
        ("Please check your appeal", "Confirm"),
        ("You have an unfinished appeal", "Discard and start a new one"),
    ):
        if question in text and press_if(core, chat, label):
            return
    core.send_text(chat, "/appeal")


async def staff(core: BotApiCore, stop: asyncio.Event) -> None:
    """Accept what arrives; resolve what was accepted."""
    while not stop.is_set():
        seen, text = last_bot_text(core, HR)
        if "write the result" in text:
            core.send_text(HR, "Paid in full")
        elif "with this result?" in text and press_if(core, HR, "Confirm resolve"):
            pass
        elif not (press_if(core, HR, "Accept") or press_if(core, HR, "Resolve")):
            await answer_within(core, HR, 0.2)  # new work, or a look at `stop` again
            continue
        await answer(core, HR, seen)


async def start_bot(url: str, workdir: Path, started: list[BotProcess]) -> BotProcess:
    """Launch the bot; every one started is ended (its output read) after the test."""
    process = await launch(url, workdir, CONFIG)
    started.append(process)
    return process


def rows(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the bot's database from outside (WAL lets a reader in while the bot writes)."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.mark.slow
async def test_kill_nine_twenty_times_and_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    core = CallsTold()
    for person in (*COURIERS, HR, 900):
        core.add_user(person, f"P{person}", language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    database = tmp_path / "bot.sqlite3"
    told: dict[int, int] = {}
    stop = asyncio.Event()
    started: list[BotProcess] = []
    process = await start_bot(url, tmp_path, started)
    core.send_text(HR, "/start")
    agents = [asyncio.ensure_future(courier(core, c, told, stop)) for c in COURIERS]
    agents.append(asyncio.ensure_future(staff(core, stop)))
    try:
        for _ in range(KILLS):
            # Not a wait for anything: a random moment of the work to kill the bot at.
            await asyncio.sleep(rng.uniform(0.4, 1.6))
            await process.kill()
            process = await start_bot(url, tmp_path, started)
        # Let everyone finish with the bot left alone.
        # Generous: a loaded CI machine is slower, and a step answered in place waits out answer()'s 3 s.
        await asyncio.wait_for(asyncio.gather(*agents[:-1]), 240)
        await quiet(core, HR, 3)  # the staff's last accepts and results
        stop.set()
        await asyncio.gather(*agents)
        # The outbox drains: every notice is sent (to a chat) or dead with a reason.
        await until(
            lambda: not rows(database, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0],
            "the outbox to drain", core=core, seconds=60,
        )  # fmt: skip
        # An open dialog resumes: start one, kill the bot mid-dialog, restart, carry on.
        core.send_text(COURIERS[0], "/appeal")
        await answer(core, COURIERS[0], last_bot_text(core, COURIERS[0])[0] - 1, 10)
        if press := pressed(core, COURIERS[0], "Work protection"):
            # Answered once handled (and the dialog's step stored).
            await until(lambda: core.answered_callback(press), "the press to be answered", wake=core.on_call)
        await process.kill()
        process = await start_bot(url, tmp_path, started)
        seen, _ = last_bot_text(core, COURIERS[0])
        core.send_text(COURIERS[0], "/appeal")
        assert await answer(core, COURIERS[0], seen, 20)
        texts = [m.get("text") or "" for m in core.bot_messages(COURIERS[0])[seen:]]
        assert any("You have an unfinished appeal" in t for t in texts), texts
        await process.stop()
        assert process.returncode == 0, process.described()
    finally:
        stop.set()
        for agent in agents:
            agent.cancel()
        for each in started:
            await each.end()
        await runner.cleanup()

    assert len(told) >= len(COURIERS) * APPEALS_PER_COURIER
    stored = dict(rows(database, "SELECT id, courier_id FROM appeals"))
    for number, chat in told.items():
        assert stored.get(number) == chat, f"appeal #{number} was confirmed to {chat} but is not stored"
    # No event applied twice: every appeal's ledger is a legal walk through the lifecycle.
    from storage.invariants import check_invariants

    assert check_invariants(database) == []
    outbox = rows(database, "SELECT status, last_error FROM outbox")
    assert outbox and all(status == "sent" or (status == "dead" and error) for status, error in outbox)
