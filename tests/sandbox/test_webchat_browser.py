"""The web chat in headless Debian chromium: people talk to a real polling bot through the page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait
from telegram.ext import Application

from sandbox.core import BotApiCore
from sandbox.server import FIRST_NEW_PERSON_ID
from tests.sandbox.test_server import ANN, BO, PNG, build_bot, running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 5
PHONE = (390, 844)
DESKTOP = (1280, 860)
# Reads every bubble at once, so a message re-rendered mid-read cannot go stale.
READ_MESSAGES = """
return [...document.querySelectorAll('[data-testid="message"]')].map((m) => ({
  sender: m.dataset.sender,
  text: [...m.querySelectorAll('[data-testid="message-text"]')].map((t) => t.textContent).join(' '),
  bold: [...m.querySelectorAll('strong')].map((b) => b.textContent),
  cards: [...m.querySelectorAll('.card')].map((c) => c.innerText.replace(/\\s+/g, ' ')),
}));
"""


def open_browser(profile: Path) -> WebDriver:
    """Headless Debian chromium through its own chromedriver; nothing is downloaded."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"the web chat test needs Debian's chromium and chromedriver; missing: {missing} "
            "(apt-get install chromium chromium-driver)"
        )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # After the start: headless chromium widens a smaller --window-size to 500 pixels.
    driver.set_window_size(*PHONE)
    return driver


class Page:
    """The chat page as a person uses it; every method blocks, so run it in a thread."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    def until(self, condition: Callable[[WebDriver], Any], what: str) -> Any:
        """Wait for a truthy condition, failing with `what`."""
        wait = WebDriverWait(
            self.driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)
        )
        return wait.until(condition, f"timed out waiting for {what}")

    def find(self, test_id: str) -> WebElement:
        """The element with a data-testid."""
        return self.driver.find_element(By.CSS_SELECTOR, f'[data-testid="{test_id}"]')

    def button(self, test_id: str, label: str) -> WebElement:
        """The button with a data-testid and a label, once it is there."""
        xpath = f'//*[@data-testid="{test_id}" and normalize-space()="{label}"]'
        return self.until(
            lambda d: d.find_element(By.XPATH, xpath) if d.find_elements(By.XPATH, xpath) else None,
            f"{test_id} {label!r}",
        )

    def open(self, url: str) -> None:
        """Load the page and wait for the personas."""
        self.driver.get(url)
        self.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-persona-id]"), "personas")

    def pick(self, persona_id: int) -> None:
        """Become a persona."""
        persona = self.find(f"persona-{persona_id}")
        persona.click()
        self.until(lambda d: persona.get_attribute("aria-pressed") == "true", "the persona")

    def send(self, text: str) -> None:
        """Type a text and press send."""
        self.find("text-input").send_keys(text)
        self.find("send-button").click()

    def messages(self) -> list[dict[str, Any]]:
        """Every bubble: sender, text, bold parts and cards."""
        return self.driver.execute_script(READ_MESSAGES)

    def wait_for_bot(self, text: str) -> dict[str, Any]:
        """The bot's newest bubble with this text, once it is shown."""

        def shown(driver: WebDriver) -> dict[str, Any] | None:
            found = [m for m in self.messages() if m["sender"] == "bot" and m["text"] == text]
            return found[-1] if found else None

        return self.until(shown, f"the bot to say {text!r}")

    def toast(self) -> str:
        """The toast's text once it shows."""
        toast = self.find("toast")
        return self.until(lambda d: toast.is_displayed() and toast.text, "a toast")

    def pick_place(self, name: str) -> None:
        """Choose a named place in the open location picker."""
        picker = self.find("location-picker")
        self.until(lambda d: picker.is_displayed(), "the location picker")
        self.button("place", name).click()

    def type_location(self, text: str) -> None:
        """Open the location picker from the composer and type a point."""
        self.find("location-button").click()
        self.until(lambda d: self.find("location-picker").is_displayed(), "the location picker")
        self.find("location-input").send_keys(text)
        self.find("location-submit").click()

    def new_person(self, name: str, language: str) -> None:
        """Make a new person in the dialog; the page switches to them."""
        self.find("new-person").click()
        self.until(lambda d: self.find("new-person-dialog").is_displayed(), "the new-person dialog")
        self.find("new-person-name").send_keys(name)
        self.find("new-person-language").send_keys(language)
        self.find("new-person-create").click()
        dialog = self.find("new-person-dialog")
        self.until(lambda d: not dialog.is_displayed(), "the dialog to close")

    def current_persona(self) -> str:
        """The label of the persona the page talks as."""
        return self.find("current-persona").text

    def attach_photo(self, path: Path) -> None:
        """Choose a photo file to send."""
        self.find("photo-input").send_keys(str(path))

    def photo_loaded(self) -> bool:
        """Whether the bot's newest photo has been shown."""
        photos = self.driver.find_elements(By.CSS_SELECTOR, '[data-testid="message-photo"]')
        return bool(photos) and self.driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", photos[-1]
        )

    def screenshot(self, path: Path, size: tuple[int, int]) -> None:
        """Save the page at a window size."""
        self.driver.set_window_size(*size)
        assert self.driver.save_screenshot(str(path)), f"no screenshot at {path}"

    def severe_console_entries(self) -> list[dict[str, Any]]:
        """What the page logged as errors (script errors, refused loads)."""
        return self.driver.get_log("browser")


@pytest.fixture
async def served() -> AsyncIterator[tuple[BotApiCore, str]]:
    core = BotApiCore()
    runner, url = await running_server(core)
    errors: list[BaseException] = []
    bot: Application = build_bot(url, errors)
    async with bot:
        await bot.start()
        await bot.updater.start_polling(poll_interval=0, timeout=1)
        yield core, url
        await bot.updater.stop()
        await bot.stop()
    await runner.cleanup()
    assert not errors, errors


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    driver = await asyncio.to_thread(open_browser, tmp_path / "chromium-profile")
    try:
        yield Page(driver)
    finally:
        await asyncio.to_thread(driver.quit)


async def test_people_use_the_web_chat(
    served: tuple[BotApiCore, str], page: Page, tmp_path: Path
) -> None:
    core, url = served
    step = asyncio.to_thread
    await step(page.open, f"{url}/")
    await step(page.pick, ANN)

    # What a person types stays text; the bot's <b> arrives as a bold entity.
    await step(page.send, "<b>hi</b> & bye")
    echo = await step(page.wait_for_bot, "Echo: <b>hi</b> & bye")
    assert echo["bold"] == ["<b>hi</b> & bye"]
    mine = (await step(page.messages))[0]
    assert mine == {"sender": "me", "text": "<b>hi</b> & bye", "bold": [], "cards": []}

    await step(page.send, "/start")
    await step(page.wait_for_bot, "Submit the appeal?")
    await step(lambda: page.button("inline-button", "Yes").click())
    edited = await step(page.wait_for_bot, "Chosen: yes")
    assert edited["bold"] == ["yes"]
    assert await step(page.toast) == "You chose yes"

    await step(lambda: page.button("reply-button", "Send location").click())
    await step(page.pick_place, "Lujiazui")
    await step(page.wait_for_bot, "Got 31.2397, 121.4998")
    cards = [card for m in await step(page.messages) for card in m["cards"]]
    assert "Location 31.23970, 121.49980" in cards
    assert "Nearest station 1 Test Road 31.23970, 121.49980" in cards

    await step(lambda: page.find("contact-button").click())
    await step(page.wait_for_bot, "Thanks, Ann: +8613800000042")
    keyboard = await step(page.find, "reply-keyboard")
    await step(page.until, lambda d: not keyboard.is_displayed(), "the keyboard to go")
    await step(page.type_location, "31.2, 121.5")
    await step(page.wait_for_bot, "Got 31.2000, 121.5000")

    photo = tmp_path / "bag.png"
    photo.write_bytes(PNG)
    await step(page.attach_photo, photo)
    await step(page.wait_for_bot, f"Got {len(PNG)} bytes")
    assert "photo" in core.messages(ANN)[-2]

    await step(page.pick, BO)
    await step(page.send, "/photo")
    await step(page.until, lambda d: page.photo_loaded(), "the bot's photo")
    await step(page.send, "你好")
    await step(page.wait_for_bot, "Echo: 你好")
    bo_texts = [m["text"] for m in await step(page.messages)]
    assert bo_texts == ["/photo", "Your receipt", "你好", "Echo: 你好"]

    await step(page.screenshot, tmp_path / "webchat-phone.png", PHONE)
    await step(page.screenshot, tmp_path / "webchat-desktop.png", DESKTOP)
    assert (tmp_path / "webchat-phone.png").stat().st_size > 0

    await step(page.new_person, "Chen", "English")
    assert await step(page.current_persona) == "You are Chen · Courier"
    await step(page.send, "hello")
    await step(page.wait_for_bot, "Echo: hello")
    assert [m["text"] for m in await step(page.messages)] == ["hello", "Echo: hello"]
    assert core.user(FIRST_NEW_PERSON_ID)["language_code"] == "en"
    assert await step(page.severe_console_entries) == []
