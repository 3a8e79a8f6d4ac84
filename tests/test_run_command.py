"""`python -m bot run` as a real process, talking HTTP to the sandbox, stopped by a signal."""

from __future__ import annotations

import asyncio
import os
import signal
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


async def launch(url: str, workdir: Path) -> asyncio.subprocess.Process:
    """Start the bot's own command line against the sandbox at `url`."""
    config = workdir / "config.toml"
    config.write_text(CONFIG)
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": f"{url}/bot",
        "TELEGRAM_BASE_FILE_URL": f"{url}/file/bot",
        "APPEALS_BOT_DATABASE": str(workdir / "bot.sqlite3"),
        "APPEALS_BOT_CONFIG": str(config),
        "PTB_TIMEDELTA": "true",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


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
