"""The README's sandbox, in a real browser: a courier files, a station worker handles, the courier rates."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.helpers import BotProcess, bot_environment, start_bot_process
from tests.sandbox.test_webchat_browser import PHONE, Page, open_browser

pytestmark = pytest.mark.slow  # the sandbox as a process, in a real browser

COURIER, HR_WORKER = 300002, 200001
READY = re.compile(r"Sandbox ready: open (http://127\.0\.0\.1:\d+)")


async def start_sandbox(workdir: Path) -> tuple[BotProcess, str]:
    """`python -m bot sandbox` as a real process on a free port; returns it and the page's URL.

    Without the example appeals: a newcomer's first appeal is #1 and the worker's only card."""
    process = await start_bot_process(
        "sandbox", "--port", "0", "--no-examples", workdir=workdir, env=bot_environment(workdir, None, None)
    )
    try:
        return process, (await process.printed(READY, seconds=30))[1]
    except BaseException:
        await process.end()
        raise


def bot_says(page: Page, fragment: str) -> None:
    """Wait until one of the bot's bubbles contains `fragment`."""
    page.until(
        lambda d: any(m["sender"] == "bot" and fragment in m["text"] for m in page.messages()),
        f"the bot to say {fragment!r}",
    )


def press(page: Page, kind: str, label: str) -> None:
    """Press an inline (kind='inline') or reply-keyboard (kind='reply') button by its label."""
    page.button(f"{kind}-button", label).click()


def courier_files(page: Page) -> None:
    """The English courier files a wage appeal, anonymously, with no place."""
    page.pick(COURIER)
    # A new person sees START where the composer will be, as in Telegram.
    page.tap("start-button")
    bot_says(page, "Hello, Rider Sam!")
    press(page, "reply", "New appeal")
    bot_says(page, "New appeal. What is it about?")
    press(page, "inline", "Work protection")
    bot_says(page, "Describe the problem in your own words")
    page.send("My wages for October were not paid")
    # The sample knowledge base has an answer about unpaid wages; the courier files anyway.
    bot_says(page, "Unpaid wages: where to complain and what to bring")
    press(page, "inline", "File my appeal anyway")
    bot_says(page, "If the place does not matter, tap “Skip”.")
    press(page, "inline", "Skip")
    bot_says(page, "staff will then see only what you wrote")
    press(page, "inline", "Skip (stay anonymous to staff)")
    bot_says(page, "Please check your appeal:")
    press(page, "inline", "Confirm and send")
    bot_says(page, "Appeal #1 is filed and sent to the unit: Human Resources and Social Security Bureau")


def worker_handles(page: Page) -> None:
    """The HR bureau's worker (a Chinese app) accepts and resolves it."""
    page.pick(HR_WORKER)
    # Staff started the bot when they joined: their menu is there, their unit's queue first.
    page.until(
        lambda d: any(
            b.text.startswith("待办（") for b in d.find_elements("css selector", '[data-testid="reply-button"]')
        ),
        "the worker's menu",
    )
    bot_says(page, "人力资源和社会保障局有新诉求")
    bot_says(page, "My wages for October were not paid")
    press(page, "inline", "签收")
    bot_says(page, "已签收诉求 #1，已通知诉求人。")
    press(page, "inline", "办结")
    bot_says(page, "诉求 #1：请填写办理结果")
    page.send("Wages were paid on Friday")
    bot_says(page, "确认按以下结果办结诉求 #1？")
    press(page, "inline", "确认办结")
    bot_says(page, "诉求 #1 已办结，将请诉求人评价。")


def courier_rates(page: Page, screenshot: Path) -> None:
    """Back as the courier: the result has arrived with rating buttons; rate it."""
    page.pick(COURIER)
    bot_says(page, "Is the problem solved? Please rate the result.")
    bot_says(page, "Wages were paid on Friday")
    page.screenshot(screenshot, PHONE)
    press(page, "inline", "Satisfied")
    bot_says(page, "Thank you: you rated appeal #1 Satisfied. It is closed.")
    page.send("/my")
    bot_says(page, "closed (resolved)")


async def test_the_whole_loop_in_the_web_chat(tmp_path: Path) -> None:
    """Everything a newcomer would try first, on screen, against the real sandbox process."""
    process, url = await start_sandbox(tmp_path)
    try:
        driver = await asyncio.to_thread(open_browser, tmp_path / "profile")
    except BaseException:
        await process.end()
        raise
    page = Page(driver)
    try:
        await asyncio.to_thread(page.open, url)
        await asyncio.to_thread(courier_files, page)
        await asyncio.to_thread(worker_handles, page)
        await asyncio.to_thread(courier_rates, page, tmp_path / "sandbox.png")
        assert (tmp_path / "sandbox.png").stat().st_size > 10_000
        assert page.severe_console_entries() == []
    finally:
        await asyncio.to_thread(driver.quit)
        try:
            await process.stop()
        finally:
            await process.end()
    assert process.returncode == 0, process.described()
