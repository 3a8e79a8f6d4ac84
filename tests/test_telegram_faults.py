"""The bot as a real process when its Bot API server goes away and comes back, and when it answers 429/5xx."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandbox.core import ApiError, BotApiCore
from sandbox.server import start_server
from tests.helpers import bot_said, draft_over_http
from tests.test_run_command import DISTRICT, HR, LI, TOKEN, free_port, launch

pytestmark = pytest.mark.slow  # the bot runs as a process of its own


def count(core: BotApiCore, chat: int, fragment: str) -> int:
    """How many of the bot's messages in `chat` contain `fragment`."""
    return sum(fragment in (m.get("text") or "") for m in core.bot_messages(chat))


async def test_server_goes_away_and_comes_back_and_faults_on_the_way(tmp_path: Path) -> None:
    """Nothing is lost, nothing is duplicated, and the bot recovers by itself."""
    core = BotApiCore()
    core.add_user(LI, "Li", language_code="en")
    core.add_user(HR, "HR worker", language_code="en")
    port = free_port()
    runner, url = await start_server(core, token=TOKEN, port=port)
    process = await launch(url, tmp_path, DISTRICT)
    try:
        core.send_text(HR, "/start")
        await bot_said(core, HR, "Hello, HR worker!", process=process)
        # 429 and 5xx on the way: the courier's replies and the unit's notice still arrive, once each.
        core.fail_next("sendMessage", ApiError.too_many_requests(1))
        core.fail_next("sendMessage", ApiError(502, "Bad Gateway"), times=2)
        await draft_over_http(core, LI, "Work protection", "Unpaid wages for November", process=process)
        core.fail_next("sendMessage", ApiError(500, "Internal Server Error"))
        core.press(LI, "Confirm")
        await bot_said(core, HR, "New appeal for your unit: HR Bureau", process=process, seconds=30)

        # The Bot API server goes away; meanwhile the worker accepts (Telegram keeps the update).
        await runner.cleanup()
        core.press(HR, "Accept")
        # Three seconds of failed polls: the bot must not end over them.
        ended, _ = await asyncio.wait({process.output}, timeout=3)
        assert not ended, f"the bot must survive its server going away\n{process.described()}"
        runner, _ = await start_server(core, token=TOKEN, port=port)
        await bot_said(core, HR, "Appeal #1 accepted; the courier has been told.", process=process, seconds=60)
        await bot_said(core, LI, "Appeal #1 was accepted by the unit: HR Bureau", process=process, seconds=60)
        await process.stop()
    finally:
        await process.end()
        await runner.cleanup()
    assert process.returncode == 0, process.described()
    assert count(core, LI, "Describe the problem") == 1  # the category question, turned into it
    assert count(core, LI, "Appeal #1 is filed") == 1
    assert count(core, HR, "#1 · Work protection") == 1  # the card, edited in place once accepted
    assert count(core, HR, "Appeal #1 accepted; the courier has been told.") == 1
    assert count(core, LI, "Appeal #1 was accepted by the unit: HR Bureau") == 1
