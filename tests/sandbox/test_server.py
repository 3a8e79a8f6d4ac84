"""The sandbox over HTTP: a real polling python-telegram-bot Application, and the web chat's API."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import EndPointNotFound
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
from sandbox.server import create_app, start_server
from tests.helpers import until

TOKEN = "123456:TEST"
ANN, BO = 42, 43
PERSONAS = [
    {"id": ANN, "name": "Ann", "role": "Courier", "language": "en", "phone": "+8613800000042"},
    {
        "id": BO,
        "name": "波",
        "role": "Station worker",
        "language": "zh",
        "phone": "+8613800000043",
    },
]
PLACES = [
    {"name": "People's Square", "lat": 31.2304, "lon": 121.4737},
    {"name": "Lujiazui", "lat": 31.2397, "lon": 121.4998},
]
# The smallest valid PNG (one transparent pixel), so a browser can show the bot's photo.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
LEDGER_CSV = b"appeal,state\n1,closed\n"
Context = ContextTypes.DEFAULT_TYPE


# The tiny bot


async def start(update: Update, context: Context) -> None:
    """/start: greet with a reply keyboard, then ask with an inline keyboard."""
    message = update.effective_message
    keyboard = ReplyKeyboardMarkup(
        [
            [
                KeyboardButton("Send location", request_location=True),
                KeyboardButton("Send contact", request_contact=True),
            ]
        ],
        resize_keyboard=True,
    )
    await message.reply_text(f"Hello, {update.effective_user.first_name}!", reply_markup=keyboard)
    buttons = [InlineKeyboardButton(label, callback_data=label.lower()) for label in ("Yes", "No")]
    await message.reply_text("Submit the appeal?", reply_markup=InlineKeyboardMarkup([buttons]))


async def choose(update: Update, context: Context) -> None:
    """A button press: answer with a toast and edit the question."""
    query = update.callback_query
    await query.answer(f"You chose {query.data}")
    await query.edit_message_text(f"Chosen: <b>{query.data}</b>", parse_mode=ParseMode.HTML)


async def echo(update: Update, context: Context) -> None:
    """Any text: repeat it in bold, escaped."""
    text = html.escape(update.effective_message.text)
    await update.effective_message.reply_text(f"Echo: <b>{text}</b>", parse_mode=ParseMode.HTML)


async def located(update: Update, context: Context) -> None:
    """A shared location: answer with a venue there and the coordinates."""
    message = update.effective_message
    point = message.location
    await message.reply_venue(point.latitude, point.longitude, "Nearest station", "1 Test Road")
    await message.reply_text(f"Got {point.latitude:.4f}, {point.longitude:.4f}")


async def contacted(update: Update, context: Context) -> None:
    """A shared contact: thank and remove the reply keyboard."""
    contact = update.effective_message.contact
    await update.effective_message.reply_text(
        f"Thanks, {contact.first_name}: {contact.phone_number}", reply_markup=ReplyKeyboardRemove()
    )


async def photographed(update: Update, context: Context) -> None:
    """A photo from the person: download it and report its size."""
    file = await update.effective_message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    await update.effective_message.reply_text(f"Got {len(data)} bytes")


async def documented(update: Update, context: Context) -> None:
    """A document from the person: download it and report its name, type, size and caption."""
    message = update.effective_message
    document = message.document
    data = await (await document.get_file()).download_as_bytearray()
    caption = f", caption {message.caption!r}" if message.caption else ""
    await message.reply_text(f"Got {document.file_name} ({document.mime_type}, {len(data)} bytes{caption})")


async def voiced(update: Update, context: Context) -> None:
    """A voice note from the person: download it and report its length and size."""
    voice = update.effective_message.voice
    data = await (await voice.get_file()).download_as_bytearray()
    seconds = int(voice.duration.total_seconds()) if hasattr(voice.duration, "total_seconds") else voice.duration
    await update.effective_message.reply_text(f"Got a voice note of {seconds} s, {len(data)} bytes")


async def send_photo(update: Update, context: Context) -> None:
    """/photo: upload a photo."""
    await update.effective_message.reply_photo(PNG, caption="Your receipt")


async def send_document(update: Update, context: Context) -> None:
    """/ledger: upload a document."""
    await update.effective_message.reply_document(LEDGER_CSV, filename="ledger.csv")


def build_bot(url: str, errors: list[BaseException]) -> Application:
    """The tiny bot, talking HTTP to the sandbox with python-telegram-bot's default request."""
    app = ApplicationBuilder().token(TOKEN).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot").build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("photo", send_photo))
    app.add_handler(CommandHandler("ledger", send_document))
    app.add_handler(CallbackQueryHandler(choose))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(filters.LOCATION, located))
    app.add_handler(MessageHandler(filters.CONTACT, contacted))
    app.add_handler(MessageHandler(filters.PHOTO, photographed))
    app.add_handler(MessageHandler(filters.Document.ALL, documented))
    app.add_handler(MessageHandler(filters.VOICE, voiced))

    async def record(update: object, context: Context) -> None:
        assert context.error is not None
        errors.append(context.error)

    app.add_error_handler(record)
    return app


async def running_server(core: BotApiCore, timezone: str = "UTC") -> tuple[Any, str]:
    """The sandbox on a free local port, with the test personas and places."""
    return await start_server(core, token=TOKEN, personas=PERSONAS, places=PLACES, timezone=timezone)


def texts(core: BotApiCore, chat_id: int) -> list[str]:
    """The texts (or captions) of the chat's messages, oldest first."""
    return [m.get("text", m.get("caption", "")) for m in core.messages(chat_id)]


# Fixtures


@pytest.fixture
def core() -> BotApiCore:
    return BotApiCore()


@pytest.fixture
async def url(core: BotApiCore) -> AsyncIterator[str]:
    runner, base_url = await running_server(core)
    try:
        yield base_url
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def bot(url: str) -> AsyncIterator[Application]:
    errors: list[BaseException] = []
    app = build_bot(url, errors)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        yield app
        await app.updater.stop()
        await app.stop()
    assert not errors, errors


async def post_json(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    """POST a JSON body; returns the status and the decoded answer."""
    async with http.post(url, json=body) as response:
        return response.status, await response.json()


# The Bot API


async def test_a_polling_bot_greets_and_edits_on_a_button_press(core: BotApiCore, bot: Application) -> None:
    core.send_text(ANN, "/start")
    question = await until(lambda: len(core.bot_messages(ANN)) == 2 and core.last_message(ANN), core=core)

    assert texts(core, ANN) == ["/start", "Hello, Ann!", "Submit the appeal?"]
    keyboard = core.reply_keyboard(ANN)
    assert keyboard["keyboard"][0][0] == {"text": "Send location", "request_location": True}
    assert bot.bot.username == "appeals_bot"

    query_id = core.press_button(ANN, question["message_id"], "yes")
    await until(lambda: "edit_date" in core.last_message(ANN), core=core)
    edited = core.last_message(ANN)
    assert edited["text"] == "Chosen: yes"
    assert edited["entities"] == [{"type": "bold", "offset": 8, "length": 3}]
    assert core.answered_callback(query_id) == {"text": "You chose yes", "show_alert": False}


async def test_locations_contacts_and_photos_reach_the_bot(core: BotApiCore, bot: Application) -> None:
    core.share_location(ANN, 31.2304, 121.4737)
    await until(lambda: texts(core, ANN)[-1] == "Got 31.2304, 121.4737", core=core)
    venue = core.messages(ANN)[1]["venue"]
    assert venue["title"] == "Nearest station"

    core.share_contact(ANN, "+8613800000042", "Ann", ANN)
    await until(lambda: texts(core, ANN)[-1] == "Thanks, Ann: +8613800000042", core=core)

    # The bot downloads the photo through GET /file/bot<token>/<path>.
    core.send_photo(ANN, b"user-jpeg")
    await until(lambda: texts(core, ANN)[-1] == "Got 9 bytes", core=core)


async def test_the_bot_uploads_files_and_they_download_over_http(
    core: BotApiCore, bot: Application, url: str, http: aiohttp.ClientSession
) -> None:
    core.send_text(ANN, "/photo")
    core.send_text(ANN, "/ledger")
    await until(lambda: len(core.bot_messages(ANN)) == 2, core=core)
    photo, document = core.bot_messages(ANN)
    assert photo["caption"] == "Your receipt"
    assert document["document"]["file_name"] == "ledger.csv"

    file = await bot.bot.get_file(document["document"]["file_id"])
    assert file.file_path.startswith(f"{url}/file/bot{TOKEN}/documents/")
    async with http.get(file.file_path) as response:
        assert response.status == 200
        assert await response.read() == LEDGER_CSV
    assert await file.download_as_bytearray() == LEDGER_CSV
    photo_file = await bot.bot.get_file(photo["photo"][-1]["file_id"])
    assert await photo_file.download_as_bytearray() == PNG

    async with http.get(f"{url}/file/bot{TOKEN}/documents/missing.csv") as response:
        assert response.status == 404
        assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_parameters_arrive_from_a_query_string_form_json_and_multipart(
    core: BotApiCore, url: str, http: aiohttp.ClientSession
) -> None:
    send = f"{url}/bot{TOKEN}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}

    async with http.get(send, params={"chat_id": str(ANN), "text": "from the query"}) as response:
        assert response.status == 200
        assert (await response.json())["result"]["text"] == "from the query"
    form = {"chat_id": str(ANN), "text": "<i>form</i>", "parse_mode": "HTML"}
    async with http.post(send, data={**form, "reply_markup": json.dumps(markup)}) as response:
        sent = (await response.json())["result"]
    assert sent["entities"] == [{"type": "italic", "offset": 0, "length": 4}]
    assert sent["reply_markup"] == markup
    body = {"chat_id": ANN, "text": "json", "reply_markup": markup}
    status, answer = await post_json(http, send, body)
    assert status == 200 and answer["result"]["reply_markup"] == markup

    upload = aiohttp.FormData()
    upload.add_field("chat_id", str(ANN))
    upload.add_field("caption", "the ledger")
    upload.add_field("document", LEDGER_CSV, filename="ledger.csv", content_type="text/csv")
    async with http.post(f"{url}/bot{TOKEN}/sendDocument", data=upload) as response:
        document = (await response.json())["result"]
    assert document["caption"] == "the ledger"
    assert document["document"]["mime_type"] == "text/csv"
    path = core.file_path(document["document"]["file_id"])
    assert core.file_bytes(path) == LEDGER_CSV
    assert texts(core, ANN) == ["from the query", "form", "json", "the ledger"]


async def test_a_wrong_token_is_unauthorized(url: str, http: aiohttp.ClientSession) -> None:
    unauthorized = {"ok": False, "error_code": 401, "description": "Unauthorized"}
    async with http.post(f"{url}/bot123456:WRONG/getMe") as response:
        assert response.status == 401
        assert await response.json() == unauthorized
    async with http.get(f"{url}/file/bot123456:WRONG/photos/file_1.jpg") as response:
        assert response.status == 401


async def test_errors_keep_telegrams_status_and_shape(
    core: BotApiCore, url: str, http: aiohttp.ClientSession, bot: Application
) -> None:
    async with http.post(f"{url}/bot{TOKEN}/fooBar") as response:
        assert response.status == 404
        body = await response.json()
    assert body["ok"] is False and "fooBar" in body["description"]
    with pytest.raises(EndPointNotFound, match="fooBar"):
        await bot.bot.do_api_request("fooBar")

    send = f"{url}/bot{TOKEN}/sendMessage"
    status, body = await post_json(http, send, {"chat_id": 5, "text": "x"})
    assert (status, body["description"]) == (400, "Bad Request: chat not found")

    core.fail_next("sendMessage", ApiError.too_many_requests(7))
    status, body = await post_json(http, send, {"chat_id": ANN, "text": "x"})
    assert status == 429
    assert body["parameters"] == {"retry_after": 7}

    async with http.post(
        f"{url}/bot{TOKEN}/getMe", data=b"{", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400


# The web chat's API


async def test_the_page_and_its_files_are_served(url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{url}/") as response:
        page = await response.text()
        assert response.status == 200
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "Sandbox — sample data, not Telegram" in page
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        async with http.get(f"{url}/static/{name}") as response:
            assert response.status == 200
            assert kind in response.content_type


async def test_config_lists_the_bot_personas_and_places(
    core: BotApiCore, url: str, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{url}/api/config") as response:
        config = await response.json()

    assert config["bot"]["username"] == "appeals_bot"
    assert config["personas"] == PERSONAS
    assert config["places"] == PLACES
    assert config["timezone"] == "UTC"
    assert core.user(BO) == {"id": BO, "is_bot": False, "first_name": "波", "language_code": "zh"}


async def test_the_page_is_told_the_districts_time_zone(core: BotApiCore, http: aiohttp.ClientSession) -> None:
    runner, url = await running_server(core, timezone="Asia/Shanghai")
    try:
        async with http.get(f"{url}/api/config") as response:
            assert (await response.json())["timezone"] == "Asia/Shanghai"
    finally:
        await runner.cleanup()
    with pytest.raises(ValueError):
        create_app(core, token=TOKEN, timezone="Mars/Olympus")
    with pytest.raises(ValueError):
        create_app(core, token=TOKEN, timezone="../etc")


def test_personas_already_known_to_the_core_are_kept(core: BotApiCore) -> None:
    core.add_user(ANN, "Ann", last_name="Lee")
    create_app(core, token=TOKEN, personas=PERSONAS)

    assert core.user(ANN)["last_name"] == "Lee"


async def test_a_person_chats_through_the_api(
    core: BotApiCore, bot: Application, url: str, http: aiohttp.ClientSession
) -> None:
    api = f"{url}/api/chats/{ANN}"
    status, sent = await post_json(http, f"{api}/text", {"text": "/start"})
    assert status == 200 and sent["text"] == "/start"
    await until(lambda: len(core.bot_messages(ANN)) == 2, core=core)

    async with http.get(api) as response:
        chat = await response.json()
    assert [m["text"] for m in chat["messages"]] == ["/start", "Hello, Ann!", "Submit the appeal?"]
    assert chat["reply_keyboard"]["keyboard"][0][1]["request_contact"] is True
    assert all("_deleted" not in m for m in chat["messages"])

    press = {"message_id": 3, "callback_data": "no"}
    status, pressed = await post_json(http, f"{api}/press", press)
    assert status == 200
    assert pressed["answer"] == {"text": "You chose no", "show_alert": False}
    assert core.last_message(ANN)["text"] == "Chosen: no"


async def test_a_person_shares_a_location_a_contact_and_a_photo(
    core: BotApiCore, bot: Application, url: str, http: aiohttp.ClientSession
) -> None:
    api = f"{url}/api/chats/{ANN}"
    point = {"latitude": 31.2397, "longitude": 121.4998}
    status, _ = await post_json(http, f"{api}/location", point)
    assert status == 200
    await until(lambda: texts(core, ANN)[-1] == "Got 31.2397, 121.4998", core=core)

    status, shared = await post_json(http, f"{api}/contact", {})
    assert status == 200
    contact = {"phone_number": "+8613800000042", "first_name": "Ann", "user_id": ANN}
    assert shared["contact"] == contact
    await until(lambda: texts(core, ANN)[-1] == "Thanks, Ann: +8613800000042", core=core)

    upload = aiohttp.FormData()
    upload.add_field("photo", PNG, filename="bag.png", content_type="image/png")
    upload.add_field("caption", "torn bag")
    async with http.post(f"{api}/photo", data=upload) as response:
        assert response.status == 200
        assert (await response.json())["caption"] == "torn bag"
    await until(lambda: texts(core, ANN)[-1] == f"Got {len(PNG)} bytes", core=core)

    photo = core.messages(ANN)[-2]["photo"][-1]
    async with http.get(f"{url}/api/files/{photo['file_id']}") as response:
        assert await response.read() == PNG


async def test_a_person_sends_a_document_and_a_voice_note(
    core: BotApiCore, bot: Application, url: str, http: aiohttp.ClientSession
) -> None:
    api = f"{url}/api/chats/{ANN}"
    upload = aiohttp.FormData()
    upload.add_field("document", b"%PDF-1.4 receipt", filename="receipt.pdf", content_type="application/pdf")
    upload.add_field("caption", " the receipt ")
    async with http.post(f"{api}/document", data=upload) as response:
        assert response.status == 200
        sent = await response.json()
    assert sent["document"]["file_name"] == "receipt.pdf"
    assert sent["caption"] == "the receipt"
    await until(
        lambda: texts(core, ANN)[-1] == "Got receipt.pdf (application/pdf, 16 bytes, caption 'the receipt')", core=core
    )

    upload = aiohttp.FormData()
    upload.add_field("voice", b"OggS voice", filename="voice.ogg", content_type="audio/ogg")
    upload.add_field("duration", "3")
    async with http.post(f"{api}/voice", data=upload) as response:
        assert response.status == 200
        assert (await response.json())["voice"]["duration"] == 3
    await until(lambda: texts(core, ANN)[-1] == "Got a voice note of 3 s, 10 bytes", core=core)


@pytest.mark.parametrize(
    ("kind", "fields", "reason"),
    [
        ("document", {"caption": "no file"}, "a multipart file part named document"),
        ("document", {"document": b""}, "the document is empty"),
        ("voice", {"voice": b"OggS"}, "duration must be a whole number"),
        ("voice", {"voice": b"OggS", "duration": "-1"}, "duration must be a whole number"),
        ("photo", {"photo": b"x", "caption": "c" * 1025}, "a caption is at most 1024"),
    ],
)
async def test_uploads_are_refused_clearly(
    core: BotApiCore,
    url: str,
    http: aiohttp.ClientSession,
    kind: str,
    fields: dict[str, Any],
    reason: str,
) -> None:
    upload = aiohttp.FormData()
    for name, value in fields.items():
        if isinstance(value, bytes):
            upload.add_field(name, value, filename="f.bin", content_type="application/octet-stream")
        else:
            upload.add_field(name, value)
    async with http.post(f"{url}/api/chats/{ANN}/{kind}", data=upload) as response:
        assert response.status == 400
        assert (await response.json())["error"].startswith(reason)
    assert core.messages(ANN) == []


async def test_the_page_downloads_what_the_bot_sent(
    core: BotApiCore, bot: Application, url: str, http: aiohttp.ClientSession
) -> None:
    core.send_text(ANN, "/ledger")
    document = (await until(lambda: core.bot_messages(ANN), core=core))[0]["document"]

    async with http.get(f"{url}/api/files/{document['file_id']}") as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        assert await response.read() == LEDGER_CSV
    async with http.get(f"{url}/api/files/AgADnothing") as response:
        assert response.status == 404


async def test_changes_stream_to_the_page_as_server_sent_events(
    core: BotApiCore, url: str, http: aiohttp.ClientSession
) -> None:
    core.send_text(ANN, "before")
    async with http.get(f"{url}/api/chats/{ANN}/events") as stream:
        assert stream.content_type == "text/event-stream"
        first = await next_event(stream)
        assert [m["text"] for m in first["messages"]] == ["before"]

        core.send_text(BO, "someone else's chat")
        await core.call("sendMessage", {"chat_id": ANN, "text": "live"})
        second = await next_event(stream)
        assert [m["text"] for m in second["messages"]] == ["before", "live"]

        await core.call("deleteMessage", {"chat_id": ANN, "message_id": 1})
        third = await next_event(stream)
        assert [m["text"] for m in third["messages"]] == ["live"]


async def next_event(stream: aiohttp.ClientResponse) -> Any:
    """The data of the next server-sent event, skipping comments and `retry`."""
    async with asyncio.timeout(3):
        while True:
            line = (await stream.content.readline()).decode()
            if line.startswith("data: "):
                return json.loads(line.removeprefix("data: "))


async def test_a_new_person_joins(core: BotApiCore, url: str, http: aiohttp.ClientSession) -> None:
    people = f"{url}/api/people"
    status, person = await post_json(http, people, {"name": " Chen ", "language": "zh"})

    assert status == 201
    assert person["name"] == "Chen" and person["language"] == "zh" and person["role"] == "Courier"
    assert core.user(person["id"])["language_code"] == "zh"
    status, second = await post_json(http, people, {"name": "Dee", "language": "en"})
    assert second["id"] == person["id"] + 1
    async with http.get(f"{url}/api/config") as response:
        assert [p["name"] for p in (await response.json())["personas"]][-2:] == ["Chen", "Dee"]


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [
        ("chats/999/text", {"text": "hi"}, 404, "unknown person 999"),
        (f"chats/{ANN}/text", {"text": "  "}, 400, "text must be a non-empty string"),
        (f"chats/{ANN}/text", ["hi"], 400, "the body must be a JSON object"),
        (f"chats/{ANN}/press", {"message_id": 7, "callback_data": "x"}, 404, "no message 7"),
        (f"chats/{ANN}/location", {"latitude": 91, "longitude": 0}, 400, "latitude must be"),
        (f"chats/{ANN}/location", {"latitude": "1", "longitude": 0}, 400, "latitude must be"),
        (f"chats/{ANN}/photo", {}, 400, "a multipart file part named photo"),
        ("people", {"name": "", "language": "en"}, 400, "name must be"),
        ("people", {"name": "Eve", "language": "fr"}, 400, "language must be one of zh, en"),
    ],
)
async def test_the_api_refuses_bad_requests_clearly(
    core: BotApiCore,
    url: str,
    http: aiohttp.ClientSession,
    path: str,
    body: Any,
    status: int,
    reason: str,
) -> None:
    core.add_user(7, "Not a persona")
    answer_status, answer = await post_json(http, f"{url}/api/{path}", body)

    assert answer_status == status
    assert answer["error"].startswith(reason)


async def test_only_personas_share_a_contact(core: BotApiCore, url: str, http: aiohttp.ClientSession) -> None:
    core.add_user(7, "Not a persona")
    status, answer = await post_json(http, f"{url}/api/chats/7/contact", {})

    assert status == 400 and "not a persona" in answer["error"]
