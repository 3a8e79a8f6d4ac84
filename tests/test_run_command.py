"""`python -m bot run` as a real process, talking HTTP to the sandbox, stopped by a signal."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from sandbox.core import BotApiCore
from sandbox.server import start_server
from tests.helpers import BotProcess, bot_environment, bot_said, draft_over_http, start_bot_process

# Every test here runs the bot as a process of its own.
pytestmark = pytest.mark.slow

TOKEN = "123456:TEST"
LI = 7
CONFIG = """\
default_language = "en"
timezone = "Asia/Shanghai"
"""


async def launch(url: str, workdir: Path, config_text: str = CONFIG, *extra: str) -> BotProcess:
    """Start the bot's own command line (`run`) against the sandbox at `url`."""
    config = workdir / "config.toml"
    config.write_text(config_text)
    env = bot_environment(workdir, url, TOKEN, APPEALS_BOT_CONFIG=str(config))
    return await start_bot_process("run", *extra, workdir=workdir, env=env)


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_the_bot_greets_over_http_and_exits_cleanly_on_a_signal(tmp_path: Path, stop: signal.Signals) -> None:
    core = BotApiCore()
    core.add_user(LI, "Li", language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    process = await launch(url, tmp_path)
    try:
        core.send_text(LI, "/start")
        await bot_said(core, LI, "Hello, Li!", process=process)
        stdout, stderr = await process.stop(stop)
    finally:
        await process.end()
        await runner.cleanup()

    assert process.returncode == 0, process.described()
    assert TOKEN.encode() not in stdout + stderr
    assert (tmp_path / "bot.sqlite3").exists()


DISTRICT = """\
default_language = "en"
coordinators = [900]

[[units]]
id = "hr"
kind = "department"
zh = "人社局"
en = "HR Bureau"
staff = [600]

[[routing]]
category = "work"
unit = "hr"
"""
HR = 600


async def file_wage_appeal(core: BotApiCore, process: BotProcess, text: str, phone: str | None = None) -> None:
    """Li files a work appeal through every dialog step, sharing `phone` or staying anonymous."""
    await draft_over_http(core, LI, "Work protection", text, process=process, phone=phone)
    core.press(LI, "Confirm")
    await bot_said(core, LI, "Appeal #1 is filed and sent to the unit: HR Bureau", process=process)


@pytest.mark.parametrize("logging_flags", [(), ("--debug",)], ids=["info", "debug"])
async def test_the_loop_end_to_end_over_http_with_people_from_the_config(
    tmp_path: Path, logging_flags: tuple[str, ...]
) -> None:
    """A courier files, the unit from the config file accepts and resolves, the courier rates.

    With debug logging on too, the logs hold neither the token, nor a phone number, nor an appeal's text.
    """
    core = BotApiCore()
    core.add_user(LI, "Li", language_code="en")
    core.add_user(HR, "HR worker", language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    process = await launch(url, tmp_path, DISTRICT, *logging_flags)
    try:
        core.send_text(HR, "/start")
        await bot_said(core, HR, "Hello, HR worker!", process=process)
        await file_wage_appeal(core, process, "Two months of wages unpaid", phone="+8613800138000")

        await bot_said(core, HR, "New appeal for your unit: HR Bureau", process=process)
        assert "+8613800138000" in core.bot_messages(HR)[-1]["text"]
        core.press(HR, "Accept")
        await bot_said(core, HR, "Appeal #1 accepted; the courier has been told.", process=process)
        await bot_said(core, LI, "Appeal #1 was accepted by the unit: HR Bureau", process=process)
        core.press(HR, "Resolve")
        await bot_said(core, HR, "write the result", process=process)
        core.send_text(HR, "Paid in full on Friday")
        await bot_said(core, HR, "with this result?", process=process)
        core.press(HR, "Confirm resolve")
        await bot_said(
            core,
            LI,
            "Appeal #1 was resolved by the unit: HR Bureau. The result:\n│ Paid in full on Friday",
            process=process,
        )
        core.press(LI, "Satisfied")
        await bot_said(core, LI, "Thank you: you rated appeal #1 Satisfied", process=process)
        await bot_said(core, HR, "Appeal #1 is closed: the courier is satisfied.", process=process)
        stdout, stderr = await process.stop()
    finally:
        await process.end()
        await runner.cleanup()
    assert process.returncode == 0, process.described()
    logs = stdout + stderr
    if logging_flags:
        assert b"DEBUG" in logs  # debug logging really was on
    for secret in (TOKEN, "+8613800138000", "Two months of wages unpaid", "Paid in full on Friday"):
        assert secret.encode() not in logs, secret


REAL_TIME = (
    DISTRICT
    + """
[calendar]
work_hours = ["00:00-24:00"]
rest_weekdays = []

[deadlines]
accept = "2m"

[reminders]
remind_before = "1m"
escalate_after = "1m"
poll_seconds = 1
"""
)


async def test_reminds_then_chases_up_in_real_time(tmp_path: Path) -> None:
    """All-working calendar, acceptance due in 2 minutes: the real timer job sends a reminder, then the chase-up."""
    core = BotApiCore()
    for person, name in ((LI, "Li"), (HR, "HR worker"), (900, "Coordinator")):
        core.add_user(person, name, language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    process = await launch(url, tmp_path, REAL_TIME)
    try:
        for person in (HR, 900):
            core.send_text(person, "/start")
            await bot_said(core, person, "Hello", process=process)
        await file_wage_appeal(core, process, "Unpaid wages")
        await bot_said(core, HR, "New appeal for your unit: HR Bureau", process=process)
        # The order, not the seconds: when each comes is the in-process tests' job, on the test clock.
        await bot_said(core, HR, "Reminder: appeal #1 must be accepted by", process=process, seconds=90)
        assert not any("Chase-up" in (m.get("text") or "") for m in core.bot_messages(HR))
        await bot_said(core, HR, "Chase-up (催办): appeal #1 was due to be accepted", process=process, seconds=90)
        await process.stop()
    finally:
        await process.end()
        await runner.cleanup()
    assert process.returncode == 0, process.described()
