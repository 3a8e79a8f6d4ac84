"""The web chat in headless Debian chromium: people talk to a real polling bot through the page."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import wave
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
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
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from sandbox.core import BotApiCore, Json
from sandbox.server import FIRST_NEW_PERSON_ID
from tests.sandbox.test_server import ANN, BO, PNG, build_bot, running_server

pytestmark = pytest.mark.slow  # a real browser (chromium through its driver)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 5
PHONE = (412, 915)
DESKTOP = (1280, 860)
# Every message is stamped at 10:00 UTC on Monday 7 December 2026: 18:00 in the district.
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC).timestamp()
DISTRICT_ZONE = "Asia/Shanghai"
# The browser itself lives elsewhere, so a time shown in the browser's zone would be wrong.
BROWSER_ZONE = "America/New_York"
# Set WEBCHAT_SHOTS to a folder to keep the screenshots the tests take.
SHOTS = os.environ.get("WEBCHAT_SHOTS")
# Reads every bubble at once, so a message re-rendered mid-read cannot go stale.
READ_MESSAGES = """
return [...document.querySelectorAll('[data-testid="message"]')].map((m) => ({
  sender: m.dataset.sender,
  text: [...m.querySelectorAll('[data-testid="message-text"]')].map((t) => t.textContent).join(' '),
  bold: [...m.querySelectorAll('strong')].map((b) => b.textContent),
  cards: [...m.querySelectorAll('.card')].map((c) => c.innerText.replace(/\\s+/g, ' ')),
  time: m.querySelector('[data-testid="message-time"]').textContent,
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
    # A microphone that plays a tone and needs no permission prompt, for recorded voice notes.
    options.add_argument("--use-fake-device-for-media-stream")
    options.add_argument("--use-fake-ui-for-media-stream")
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": BROWSER_ZONE})
    phone_size(driver, PHONE)
    return driver


def phone_size(driver: WebDriver, size: tuple[int, int]) -> None:
    """Make the page's viewport exactly this size (a window's size includes its frame)."""
    width, height = size
    # After the start: headless chromium widens a smaller --window-size to 500 pixels.
    driver.set_window_size(width, height)
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


OVERFLOWING = """
const width = document.documentElement.clientWidth;
const chat = document.querySelector('[data-testid="messages"]').getBoundingClientRect();
const wide = [];
if (document.documentElement.scrollWidth > width) wide.push(`the page: ${document.documentElement.scrollWidth}`);
const list = document.querySelector('[data-testid="messages"]');
if (list.scrollWidth > list.clientWidth) wide.push(`the chat: ${list.scrollWidth}`);
for (const node of document.querySelectorAll('.bubble, .inline-button, .reply-button, .text, .card')) {
  const box = node.getBoundingClientRect();
  if (box.right > Math.min(width, chat.right) + 0.5 || box.left < chat.left - 0.5) {
    wide.push(`${node.className}: ${node.textContent.slice(0, 40)}`);
  }
}
return wide;
"""


class Page:
    """The chat page as a person uses it; every method blocks, so run it in a thread."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    def until(self, condition: Callable[[WebDriver], Any], what: str) -> Any:
        """Wait for a truthy condition, failing with `what`."""
        wait = WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,))
        return wait.until(condition, f"timed out waiting for {what}")

    def find(self, test_id: str) -> WebElement:
        """The element with a data-testid."""
        return self.driver.find_element(By.CSS_SELECTOR, f'[data-testid="{test_id}"]')

    def tap(self, test_id: str) -> None:
        """Click the element with a data-testid once it is drawn (a persona's chat renders after the switch)."""
        selector = f'[data-testid="{test_id}"]'
        element = self.until(
            lambda d: next(
                (e for e in d.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed() and e.is_enabled()), None
            ),
            f"{test_id} to be shown",
        )
        element.click()

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

    def attach(self, choice: str) -> None:
        """Open the clip's sheet and pick a choice in it by its test id."""
        self.find("attach-button").click()
        self.until(lambda d: self.find("attach-sheet").is_displayed(), "the attach sheet")
        self.find(choice).click()

    def type_location(self, text: str) -> None:
        """Open the location picker from the composer and type a point."""
        self.attach("location-button")
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

    def attach_file(self, test_id: str, path: Path) -> None:
        """Choose a file in one of the composer's hidden pickers, as the clip's sheet would."""
        self.find(test_id).send_keys(str(path))

    def shown(self, test_id: str) -> bool:
        """Whether the element with a data-testid is displayed."""
        found = self.driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{test_id}"]')
        return bool(found) and found[0].is_displayed()

    def texts_of(self, test_id: str) -> list[str]:
        """The text of every element with a data-testid."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll(`[data-testid='${arguments[0]}']`)].map((n) => n.textContent)",
            test_id,
        )

    def busy(self) -> bool:
        """Whether a press still waits for the bot's answer."""
        return self.driver.execute_script("return document.body.getAttribute('aria-busy')") == "true"

    def overflowing(self) -> list[str]:
        """Elements that reach past the right edge of the page or of the chat."""
        return self.driver.execute_script(OVERFLOWING)

    def screenshot(self, path: Path, size: tuple[int, int]) -> None:
        """Save the page at a viewport size (and keep a copy in WEBCHAT_SHOTS if it is set)."""
        phone_size(self.driver, size)
        assert self.driver.save_screenshot(str(path)), f"no screenshot at {path}"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(SHOTS) / path.name)

    def severe_console_entries(self) -> list[dict[str, Any]]:
        """What the page logged as errors (script errors, refused loads)."""
        return self.driver.get_log("browser")


class AlbumCore(BotApiCore):
    """The core, with some of the bot's messages marked as one album (a media_group_id).

    Until the core sends albums itself (sendMediaGroup), the test bot marks its photos here.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(clock=clock)
        self.albums: dict[tuple[int, int], str] = {}

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[Json]:
        """The chat's messages, album members carrying their media_group_id."""
        found = super().messages(chat_id, include_deleted=include_deleted)
        for message in found:
            group = self.albums.get((chat_id, message["message_id"]))
            if group is not None:
                message["media_group_id"] = group
        return found


LONG_TEXT = (
    "A long answer from the bot that must wrap on a phone: "
    + "https://example.org/"
    + "averyveryverylongpathwithoutanyspaces" * 3
    + "\n\n"
    + "诉求已转交人力资源和社会保障局承办，请耐心等待办理结果。" * 4
)
LONG_ROWS = [
    ["Skip (stay anonymous to staff)", "Confirm and send the appeal now"],
    ["签收", "退回", "转办", "办结", "合并到其他诉求"],
    ["Navigate to People's Square Rest Station"],
]


def add_test_commands(bot: Application, core: AlbumCore, gate: asyncio.Event) -> None:
    """Commands for what the web chat must show: alerts, late answers, albums, long messages."""

    async def one_button(update: Update, label: str, data: str, text: str) -> None:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        await update.effective_message.reply_text(text, reply_markup=markup)

    async def alert(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await one_button(update, "Alert", "alert", "Press for an alert")

    async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await one_button(update, "Slow", "slow", "Press for a late answer")

    async def answer_alert(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("Only Ann may read this", show_alert=True)
        raise ApplicationHandlerStop

    async def answer_late(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await gate.wait()
        await update.callback_query.answer("A late answer for Ann")
        raise ApplicationHandlerStop

    async def album(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        for index in range(3):
            caption = "Three photos of the torn bag" if index == 0 else None
            photo = await message.reply_photo(PNG, caption=caption)
            core.albums[(message.chat_id, photo.message_id)] = "album-1"
        await message.reply_text("Album sent")

    async def long(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        rows = [
            [InlineKeyboardButton(label, callback_data=f"long{i}{j}") for j, label in enumerate(row)]
            for i, row in enumerate(LONG_ROWS)
        ]
        await update.effective_message.reply_text(LONG_TEXT, reply_markup=InlineKeyboardMarkup(rows))

    for name, handler in (("alert", alert), ("slow", slow), ("album", album), ("long", long)):
        bot.add_handler(CommandHandler(name, handler), group=-1)
    bot.add_handler(CallbackQueryHandler(answer_alert, pattern="^alert$"), group=-1)
    bot.add_handler(CallbackQueryHandler(answer_late, pattern="^slow$"), group=-1)


@pytest.fixture
def gate() -> asyncio.Event:
    """Holds the bot's answer to the Slow button until the test opens it."""
    return asyncio.Event()


@pytest.fixture
async def served(gate: asyncio.Event) -> AsyncIterator[tuple[AlbumCore, str]]:
    core = AlbumCore(clock=lambda: NOW)
    runner, url = await running_server(core, timezone=DISTRICT_ZONE)
    errors: list[BaseException] = []
    bot: Application = build_bot(url, errors)
    add_test_commands(bot, core, gate)
    async with bot:
        await bot.start()
        await bot.updater.start_polling(poll_interval=0, timeout=1)
        yield core, url
        gate.set()
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


def wav(seconds: int) -> bytes:
    """A silent mono WAV of this many seconds, which a browser can measure."""
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(1)
        audio.setframerate(8000)
        audio.writeframes(b"\x80" * 8000 * seconds)
    return out.getvalue()


async def test_people_use_the_web_chat(served: tuple[BotApiCore, str], page: Page, tmp_path: Path) -> None:
    core, url = served
    step = asyncio.to_thread
    await step(page.open, f"{url}/")
    await step(page.pick, ANN)

    # A person who has never written sees START in the composer's place; it sends /start.
    await step(page.tap, "start-button")
    await step(page.wait_for_bot, "Submit the appeal?")
    assert core.messages(ANN)[0]["text"] == "/start"

    # What a person types stays text; the bot's <b> arrives as a bold entity.
    await step(page.send, "<b>hi</b> & bye")
    echo = await step(page.wait_for_bot, "Echo: <b>hi</b> & bye")
    assert echo["bold"] == ["<b>hi</b> & bye"]
    mine = (await step(page.messages))[-2]
    assert mine == {"sender": "me", "text": "<b>hi</b> & bye", "bold": [], "cards": [], "time": "18:00"}

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

    await step(page.attach, "contact-button")
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
    # The page's own words are in the person's language, as Telegram's app would show them.
    assert await step(page.current_persona) == "当前身份：波 · Station worker"
    await step(page.tap, "start-button")
    await step(page.wait_for_bot, "Submit the appeal?")
    await step(page.send, "/photo")
    await step(page.until, lambda d: page.photo_loaded(), "the bot's photo")
    await step(page.send, "你好")
    await step(page.wait_for_bot, "Echo: 你好")
    bo_texts = [m["text"] for m in await step(page.messages)]
    assert bo_texts[-4:] == ["/photo", "Your receipt", "你好", "Echo: 你好"]

    await step(page.screenshot, tmp_path / "webchat-phone.png", PHONE)
    await step(page.screenshot, tmp_path / "webchat-desktop.png", DESKTOP)
    assert (tmp_path / "webchat-phone.png").stat().st_size > 0
    await step(page.screenshot, tmp_path / "webchat-phone.png", PHONE)

    await step(page.new_person, "Chen", "English")
    assert await step(page.current_persona) == "You are Chen · Courier"
    await step(page.tap, "start-button")
    await step(page.wait_for_bot, "Hello, Chen!")
    await step(page.send, "hello")
    await step(page.wait_for_bot, "Echo: hello")
    assert [m["text"] for m in await step(page.messages)][-2:] == ["hello", "Echo: hello"]
    assert core.user(FIRST_NEW_PERSON_ID)["language_code"] == "en"
    assert await step(page.severe_console_entries) == []


async def test_a_new_person_sees_start_and_times_in_the_districts_zone(
    served: tuple[BotApiCore, str], page: Page, tmp_path: Path
) -> None:
    core, url = served
    step = asyncio.to_thread
    await step(page.open, f"{url}/")
    await step(page.pick, BO)

    assert await step(page.shown, "start-button")
    assert await step(page.find("start-button").get_attribute, "textContent") == "开始"
    assert not await step(page.shown, "composer")
    assert await step(page.shown, "empty-chat")
    await step(page.screenshot, tmp_path / "start-zh.png", PHONE)

    await step(page.tap, "start-button")
    await step(page.wait_for_bot, "Submit the appeal?")
    assert core.messages(BO)[0]["text"] == "/start"
    assert await step(page.shown, "composer")
    assert not await step(page.shown, "start-bar")
    assert not await step(page.shown, "empty-chat")
    # 10:00 UTC is 18:00 in Shanghai (and 05:00 where the browser is); the day in Chinese.
    assert {m["time"] for m in await step(page.messages)} == {"18:00"}
    assert await step(page.texts_of, "day") == ["12月7日 周一"]
    await step(page.screenshot, tmp_path / "started-zh.png", PHONE)

    await step(page.pick, ANN)
    await step(page.tap, "start-button")
    await step(page.wait_for_bot, "Submit the appeal?")
    assert {m["time"] for m in await step(page.messages)} == {"18:00"}
    assert await step(page.texts_of, "day") == ["Mon 7 Dec"]
    assert await step(page.severe_console_entries) == []


async def test_an_answer_stays_with_the_persona_who_pressed(
    served: tuple[BotApiCore, str], page: Page, gate: asyncio.Event, tmp_path: Path
) -> None:
    core, url = served
    step = asyncio.to_thread
    core.send_text(BO, "/start")
    await step(page.open, f"{url}/")
    await step(page.pick, ANN)
    await step(page.tap, "start-button")
    await step(page.wait_for_bot, "Submit the appeal?")

    # An alert stays up until dismissed, but only while the page is the one who pressed.
    await step(page.send, "/alert")
    await step(page.wait_for_bot, "Press for an alert")
    await step(lambda: page.button("inline-button", "Alert").click())
    assert await step(page.toast) == "Only Ann may read this"
    assert "alert" in await step(page.find("toast").get_attribute, "class")
    await step(page.screenshot, tmp_path / "alert-ann.png", PHONE)
    await step(page.pick, BO)
    assert not await step(page.shown, "toast")
    await step(page.screenshot, tmp_path / "alert-gone-bo.png", PHONE)

    # An answer that arrives after the page became someone else is not shown to them.
    await step(page.pick, ANN)
    await step(page.send, "/slow")
    await step(page.wait_for_bot, "Press for a late answer")
    await step(lambda: page.button("inline-button", "Slow").click())
    await step(page.until, lambda d: page.busy(), "the press to wait")
    await step(page.pick, BO)
    gate.set()
    await step(page.until, lambda d: not page.busy(), "the late answer")
    answers = [p for name, p in core.calls if name == "answerCallbackQuery"]
    assert answers[-1]["text"] == "A late answer for Ann"
    assert not await step(page.shown, "toast")
    await step(page.pick, ANN)
    assert not await step(page.shown, "toast")


async def test_commands_files_and_voice_notes_go_both_ways(
    served: tuple[BotApiCore, str], page: Page, tmp_path: Path
) -> None:
    core, url = served
    step = asyncio.to_thread
    await step(page.open, f"{url}/")
    await step(page.pick, ANN)
    await step(page.tap, "start-button")
    await step(page.wait_for_bot, "Submit the appeal?")

    # A /command in the bot's words (here inside bold) is tappable and sends just the command.
    await step(page.send, "tap /ledger please")
    await step(page.wait_for_bot, "Echo: tap /ledger please")
    await step(lambda: page.button("command", "/ledger").click())
    await step(
        page.until,
        lambda d: page.driver.find_elements(By.CSS_SELECTOR, '[data-testid="message-document"]'),
        "the bot's document",
    )
    assert core.messages(ANN)[-2]["text"] == "/ledger"
    link = await step(page.find, "message-document")
    assert await step(link.get_attribute, "download") == "ledger.csv"
    assert "ledger.csv" in await step(lambda: link.text)

    # A file chosen under the clip goes as a document, the typed text as its caption.
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4 a receipt")
    await step(page.find("text-input").send_keys, "my receipt")
    await step(page.attach_file, "document-input", receipt)
    await step(page.wait_for_bot, "Got receipt.pdf (application/pdf, 18 bytes, caption 'my receipt')")
    sent = core.messages(ANN)[-2]
    assert sent["document"]["file_name"] == "receipt.pdf"
    assert await step(page.find("text-input").get_attribute, "value") == ""

    # An audio file goes as a voice note of its own length.
    audio = tmp_path / "note.wav"
    audio.write_bytes(wav(2))
    await step(page.attach_file, "voice-input", audio)
    await step(page.wait_for_bot, f"Got a voice note of 2 s, {len(wav(2))} bytes")
    assert core.messages(ANN)[-2]["voice"]["duration"] == 2
    assert await step(page.texts_of, "message-voice") == ["0:02"]

    # The microphone records a voice note (chromium's fake microphone here).
    await step(lambda: page.find("record-button").click())
    await step(page.until, lambda d: page.shown("recording-bar"), "the recorder")
    await step(page.screenshot, tmp_path / "recording.png", PHONE)
    await step(page.until, lambda d: page.find("recording-time").text == "0:01", "a second of recording")
    await step(lambda: page.find("recording-send").click())
    await step(
        page.until,
        lambda d: any(
            m["sender"] == "bot" and m["text"].startswith("Got a voice note of 1 s") for m in page.messages()
        ),
        "the recorded voice note",
    )
    recorded = core.messages(ANN)[-2]["voice"]
    assert recorded["duration"] == 1 and recorded["file_size"] > 0
    assert await step(page.shown, "composer")
    await step(page.screenshot, tmp_path / "files.png", PHONE)
    assert await step(page.severe_console_entries) == []


async def test_albums_and_long_messages_fit_a_phone(served: tuple[BotApiCore, str], page: Page, tmp_path: Path) -> None:
    core, url = served
    step = asyncio.to_thread
    core.send_text(ANN, "/album")
    await step(page.open, f"{url}/")
    await step(page.pick, ANN)
    await step(page.wait_for_bot, "Album sent")
    core.send_text(ANN, "/long")
    await step(page.wait_for_bot, LONG_TEXT)

    albums = await step(page.driver.find_elements, By.CSS_SELECTOR, '[data-testid="message"].album')
    assert len(albums) == 1
    assert await step(albums[0].get_attribute, "data-album-size") == "3"
    tiles = await step(albums[0].find_elements, By.CSS_SELECTOR, '[data-testid="message-photo"]')
    assert len(tiles) == 3
    texts = [m["text"] for m in await step(page.messages)]
    assert texts == ["/album", "Three photos of the torn bag", "Album sent", "/long", LONG_TEXT]
    labels = await step(page.texts_of, "inline-button")
    assert labels == [label for row in LONG_ROWS for label in row]

    assert await step(page.overflowing) == []
    await step(page.screenshot, tmp_path / "long-phone.png", PHONE)
    await step(page.driver.execute_script, "document.querySelector('[data-testid=messages]').scrollTop = 0")
    await step(page.screenshot, tmp_path / "album-phone.png", PHONE)
    assert await step(page.overflowing) == []
    assert await step(page.severe_console_entries) == []
