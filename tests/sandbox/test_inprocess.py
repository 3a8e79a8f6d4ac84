"""python-telegram-bot's real Application and request path, answered in-process by the core."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox.core import ApiError, BotApiCore
from sandbox.inprocess import InProcessRequest
from tests.helpers import until

ANN = 42
Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    """/start: ask with an inline keyboard."""
    buttons = [InlineKeyboardButton(label, callback_data=label.lower()) for label in ("Yes", "No")]
    keyboard = InlineKeyboardMarkup([buttons])
    await update.effective_message.reply_text("Submit the appeal?", reply_markup=keyboard)


async def choose(update: Update, context: Context) -> None:
    """A button press: answer the query and edit the question."""
    query = update.callback_query
    await query.answer(f"You chose {query.data}")
    await query.edit_message_text(f"Chosen: <b>{query.data}</b>", parse_mode=ParseMode.HTML)


async def send_photo(update: Update, context: Context) -> None:
    """/photo: reply with an uploaded photo."""
    await update.effective_message.reply_photo(b"bot-jpeg", caption="Your receipt")


async def receive_photo(update: Update, context: Context) -> None:
    """A photo from the user: download it and report what arrived."""
    file = await update.effective_message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    await update.effective_message.reply_text(f"Got {len(data)} bytes: {data.decode()}")


def build_app(core: BotApiCore, errors: list[BaseException]) -> Application:
    """A real Application whose both request objects answer from the core."""
    app = (
        ApplicationBuilder()
        .token("123:ABC")
        .base_url("http://botapi.invalid/bot")
        .base_file_url("http://botapi.invalid/file/bot")
        .request(InProcessRequest(core))
        .get_updates_request(InProcessRequest(core))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("photo", send_photo))
    app.add_handler(CallbackQueryHandler(choose))
    app.add_handler(MessageHandler(filters.PHOTO, receive_photo))

    async def record(update: object, context: Context) -> None:
        assert context.error is not None
        errors.append(context.error)

    app.add_error_handler(record)
    return app


@pytest.fixture
def core() -> BotApiCore:
    core = BotApiCore(bot_id=123)
    core.add_user(ANN, "Ann")
    return core


@pytest.fixture
def errors() -> list[BaseException]:
    return []


@pytest.fixture
async def app(core: BotApiCore, errors: list[BaseException]) -> AsyncIterator[Application]:
    application = build_app(core, errors)
    async with application:
        yield application


async def deliver(core: BotApiCore, app: Application, errors: list[BaseException]) -> None:
    """Feed every queued update through the Application, failing on handler errors."""
    for raw in core.take_updates():
        await app.process_update(Update.de_json(raw, app.bot))
    assert not errors, errors


async def test_start_replies_with_an_inline_keyboard(
    core: BotApiCore, app: Application, errors: list[BaseException]
) -> None:
    core.send_text(ANN, "/start")
    await deliver(core, app, errors)

    reply = core.last_message(ANN)
    assert reply["text"] == "Submit the appeal?"
    assert core.inline_buttons(reply) == [("Yes", "yes"), ("No", "no")]
    assert app.bot.username == "appeals_bot"


async def test_pressing_a_button_answers_the_query_and_edits_the_message(
    core: BotApiCore, app: Application, errors: list[BaseException]
) -> None:
    core.send_text(ANN, "/start")
    await deliver(core, app, errors)
    query_id = core.press(ANN, "Ye")
    await deliver(core, app, errors)

    assert core.answered_callback(query_id) == {"text": "You chose yes", "show_alert": False}
    edited = core.last_message(ANN)
    assert edited["message_id"] == 2
    assert edited["text"] == "Chosen: yes"
    assert edited["entities"] == [{"type": "bold", "offset": 8, "length": 3}]
    assert "reply_markup" not in edited and "edit_date" in edited
    assert [m for m, _ in core.calls if m != "getMe"] == [
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
    ]


async def test_the_bot_uploads_a_photo(core: BotApiCore, app: Application, errors: list[BaseException]) -> None:
    core.send_text(ANN, "/photo")
    await deliver(core, app, errors)

    reply = core.last_message(ANN)
    assert reply["caption"] == "Your receipt"
    file = await core.call("getFile", {"file_id": reply["photo"][-1]["file_id"]})
    assert core.file_bytes(file["file_path"]) == b"bot-jpeg"


async def test_the_bot_downloads_a_photo_the_user_sent(
    core: BotApiCore, app: Application, errors: list[BaseException]
) -> None:
    core.send_photo(ANN, b"user-jpeg", caption="damaged bag")
    await deliver(core, app, errors)

    assert core.last_message(ANN)["text"] == "Got 9 bytes: user-jpeg"


async def test_api_errors_surface_as_python_telegram_bot_exceptions(
    core: BotApiCore, app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await app.bot.send_message(999, "hello")
    with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag"):
        await app.bot.send_message(ANN, "<blink>hi</blink>", parse_mode=ParseMode.HTML)
    with pytest.raises(EndPointNotFound):
        await app.bot.do_api_request("fooBar")

    core.block(ANN)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(ANN, "hello")
    core.unblock(ANN)

    # Without this, RetryAfter's own constructor emits a PTBDeprecationWarning (an error here).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    core.fail_next("sendMessage", ApiError.too_many_requests(5))
    with pytest.raises(RetryAfter) as caught:
        await app.bot.send_message(ANN, "hello")
    assert caught.value.retry_after == dtm.timedelta(seconds=5)
    assert (await app.bot.send_message(ANN, "hello")).message_id == 1


async def test_real_polling_delivers_an_update_end_to_end(core: BotApiCore, errors: list[BaseException]) -> None:
    app = build_app(core, errors)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0)
        core.send_text(ANN, "/start")
        await until(lambda: core.bot_messages(ANN), core=core)
        await app.updater.stop()
        await app.stop()

    assert not errors
    assert core.last_message(ANN)["text"] == "Submit the appeal?"
    methods = [m for m, _ in core.calls]
    assert {"deleteWebhook", "getUpdates"} <= set(methods)
    # Stopping confirmed the delivered update with one last short getUpdates.
    assert await core.get_updates() == []
