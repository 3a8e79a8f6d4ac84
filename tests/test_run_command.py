"""`python -m bot run` as a real process, talking HTTP to the sandbox, stopped by a signal."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.core import BotApiCore
from sandbox.server import start_server

TOKEN = "123456:TEST"
LI = 7
REPLY_SECONDS = 20
EXIT_SECONDS = 15
CONFIG = """\
default_language = "en"
timezone = "Asia/Shanghai"
"""
Output = asyncio.Future[tuple[bytes, bytes]]


async def launch(
    url: str, workdir: Path, config_text: str = CONFIG, *extra: str
) -> asyncio.subprocess.Process:
    """Start the bot's own command line against the sandbox at `url`."""
    config = workdir / "config.toml"
    config.write_text(config_text)
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": f"{url}/bot",
        "TELEGRAM_BASE_FILE_URL": f"{url}/file/bot",
        "APPEALS_BOT_DATABASE": str(workdir / "bot.sqlite3"),
        "APPEALS_BOT_CONFIG": str(config),
        "PTB_TIMEDELTA": "true",
        # The code under test, not whatever checkout the virtualenv was installed from.
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        *extra,
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def described(output: tuple[bytes, bytes]) -> str:
    """The process's output, for a failure message."""
    stdout, stderr = (part.decode(errors="replace") for part in output)
    return f"stdout:\n{stdout}\nstderr:\n{stderr}"


async def greeting(core: BotApiCore, process: asyncio.subprocess.Process, output: Output) -> Any:
    """The bot's reply to Li's /start, failing early if the process dies."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REPLY_SECONDS
    while True:
        for message in core.bot_messages(LI):
            if message.get("text", "").startswith("Hello, Li!"):
                return message
        if output.done():
            pytest.fail(f"the bot exited with {process.returncode}\n{described(output.result())}")
        if loop.time() > deadline:
            process.kill()
            pytest.fail(f"no greeting in {REPLY_SECONDS} s\n{described(await output)}")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_the_bot_greets_over_http_and_exits_cleanly_on_a_signal(
    tmp_path: Path, stop: signal.Signals
) -> None:
    core = BotApiCore()
    core.add_user(LI, "Li", language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    process = await launch(url, tmp_path)
    # Reading both pipes all along keeps a chatty bot from blocking on a full pipe.
    output: Output = asyncio.ensure_future(process.communicate())
    try:
        core.send_text(LI, "/start")
        await greeting(core, process, output)
        process.send_signal(stop)
        try:
            stdout, stderr = await asyncio.wait_for(asyncio.shield(output), EXIT_SECONDS)
        except TimeoutError:
            process.kill()
            still = f"still running {EXIT_SECONDS} s after {stop.name}"
            pytest.fail(f"{still}\n{described(await output)}")
    finally:
        if process.returncode is None:
            process.kill()
        await output
        await runner.cleanup()

    assert process.returncode == 0, described((stdout, stderr))
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


async def bot_said(
    core: BotApiCore, chat: int, fragment: str, output: Output, seconds: float = REPLY_SECONDS
) -> None:
    """Wait until the bot has sent `chat` a message containing `fragment`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not any(fragment in (m.get("text") or "") for m in core.bot_messages(chat)):
        if output.done():
            pytest.fail(f"the bot exited while waiting for {fragment!r}\n{described(output.result())}")
        if loop.time() > deadline:
            pytest.fail(f"the bot never said {fragment!r} to {chat}: {[m.get('text') for m in core.bot_messages(chat)][-3:]}")
        await asyncio.sleep(0.05)


async def file_wage_appeal(core: BotApiCore, output: Output, text: str, phone: str | None = None) -> None:
    """Li files a work appeal through every dialog step, sharing `phone` or staying anonymous."""
    core.send_text(LI, "/appeal")
    await bot_said(core, LI, "What is it about?", output)
    core.press(LI, "Work protection")
    await bot_said(core, LI, "Describe the problem", output)
    core.send_text(LI, text)
    await bot_said(core, LI, "If the place does not matter", output)
    core.press(LI, "Skip")
    await bot_said(core, LI, "staff will then see only what you wrote", output)
    if phone:
        core.share_contact(LI, phone, "Li", contact_user_id=LI)
    else:
        core.press(LI, "Skip")
    await bot_said(core, LI, "Please check your appeal", output)
    core.press(LI, "Confirm")
    await bot_said(core, LI, "Appeal #1 is filed and sent to the unit: HR Bureau", output)


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
    output: Output = asyncio.ensure_future(process.communicate())
    try:
        core.send_text(HR, "/start")
        await bot_said(core, HR, "Hello, HR worker!", output)
        await file_wage_appeal(core, output, "Two months of wages unpaid", phone="+8613800138000")

        await bot_said(core, HR, "New appeal for your unit: HR Bureau", output)
        assert "+8613800138000" in core.bot_messages(HR)[-1]["text"]
        core.press(HR, "Accept")
        await bot_said(core, HR, "Appeal #1 accepted; the courier has been told.", output)
        await bot_said(core, LI, "Appeal #1 was accepted by the unit: HR Bureau", output)
        core.press(HR, "Resolve")
        await bot_said(core, HR, "write the result", output)
        core.send_text(HR, "Paid in full on Friday")
        await bot_said(core, HR, "with this result?", output)
        core.press(HR, "Confirm resolve")
        await bot_said(core, LI, "Appeal #1 was resolved by the unit: HR Bureau. The result:\n│ Paid in full on Friday", output)
        core.press(LI, "Satisfied")
        await bot_said(core, LI, "Thank you: you rated appeal #1 Satisfied", output)
        await bot_said(core, HR, "Appeal #1 is closed: the courier is satisfied.", output)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(asyncio.shield(output), EXIT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
        await output
        await runner.cleanup()
    assert process.returncode == 0, described((stdout, stderr))
    logs = stdout + stderr
    if logging_flags:
        assert b"DEBUG" in logs  # debug logging really was on
    for secret in (TOKEN, "+8613800138000", "Two months of wages unpaid", "Paid in full on Friday"):
        assert secret.encode() not in logs, secret


REAL_TIME = DISTRICT + """
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


async def test_reminds_then_chases_up_in_real_time(tmp_path: Path) -> None:
    """All-working calendar, acceptance due in 2 minutes: a reminder after 1 minute, the chase-up after 2."""
    core = BotApiCore()
    for person, name in ((LI, "Li"), (HR, "HR worker"), (900, "Coordinator")):
        core.add_user(person, name, language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    process = await launch(url, tmp_path, REAL_TIME)
    output: Output = asyncio.ensure_future(process.communicate())
    loop = asyncio.get_running_loop()
    try:
        for person in (HR, 900):
            core.send_text(person, "/start")
            await bot_said(core, person, "Hello", output)
        await file_wage_appeal(core, output, "Unpaid wages")
        await bot_said(core, HR, "New appeal for your unit: HR Bureau", output)
        filed = loop.time()
        for chat, fragment, after in (
            (HR, "Reminder: appeal #1 must be accepted by", 60),
            (HR, "Chase-up (催办): appeal #1 was due to be accepted", 120),
        ):
            await bot_said(core, chat, fragment, output, seconds=after + 30)
            elapsed = loop.time() - filed
            assert after - 2 <= elapsed <= after + 10, (fragment, elapsed)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(asyncio.shield(output), EXIT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
        await output
        await runner.cleanup()
    assert process.returncode == 0, described((stdout, stderr))
