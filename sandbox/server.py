"""The sandbox over HTTP: the Telegram Bot API for the bot, and a web chat for the people.

The bot reaches `/bot<token>/<method>` and `/file/bot<token>/<path>` exactly as it reaches
Telegram; a browser gets the chat page at `/` and its JSON API under `/api/`.
Run it by hand with `python -m sandbox.server` (the sample district's people and places).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import mimetypes
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from yarl import URL

from sandbox.core import CALLBACK_ANSWER_SECONDS, ApiError, BotApiCore, Files, Json

WEB_DIR = Path(__file__).parent / "web"
DISTRICT_PEOPLE = Path(__file__).parent / "district" / "people.json"
DISTRICT_CONFIG = Path(__file__).parent / "district" / "config.toml"
# Telegram's limit for a file a bot uploads.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_NAME_LENGTH = 64
# Telegram's limit for a caption.
MAX_CAPTION_LENGTH = 1024
LANGUAGES = ("zh", "en")
# People made in the page get ids from here up, clear of the sample personas.
FIRST_NEW_PERSON_ID = 900_001
# An idle event stream writes a comment this often, so a stream whose page has gone ends even
# where the runner does not cancel handlers.
HEARTBEAT_SECONDS = 15.0
# Open long polls and streams get this long to finish when the server stops.
SHUTDOWN_SECONDS = 2.0
# The page may load only its own files: no CDN, no fonts, no scripts from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
_NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}

CORE = web.AppKey("core", BotApiCore)
TOKEN = web.AppKey("token", str)
PERSONAS = web.AppKey("personas", list)
PLACES = web.AppKey("places", list)
GROUPS = web.AppKey("groups", list)
TIMEZONE = web.AppKey("timezone", str)
CLOSING = web.AppKey("closing", asyncio.Event)


def create_app(
    core: BotApiCore,
    *,
    token: str,
    personas: list[dict[str, Any]] | None = None,
    places: list[dict[str, Any]] | None = None,
    timezone: str = "UTC",
    groups: list[dict[str, Any]] | None = None,
) -> web.Application:
    """The Bot API and the web chat in front of `core`; personas are registered as users, and `groups`
    (a unit's work group: id, title, forum, members) as groups the bot is in.

    The page shows message times in `timezone`, the district's IANA time zone.
    """
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}; use an IANA name such as Asia/Shanghai") from None
    app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
    app[CORE] = core
    app[TIMEZONE] = timezone
    app[TOKEN] = token
    app[PERSONAS] = [_persona(raw) for raw in personas or []]
    app[PLACES] = [_place(raw) for raw in places or []]
    app[CLOSING] = asyncio.Event()
    for persona in app[PERSONAS]:
        _register(core, persona)
    app[GROUPS] = [_group(raw) for raw in groups or []]
    for group in app[GROUPS]:
        _register_group(core, group)
    app.on_shutdown.append(_close_streams)
    app.on_response_prepare.append(_page_headers)
    app.add_routes(
        [
            web.route("*", "/bot{token}/{method}", bot_api),
            web.get("/file/bot{token}/{path:.+}", bot_file),
            web.get("/", index),
            web.static("/static", WEB_DIR),
            web.get("/api/config", web_config),
            web.post("/api/people", new_person),
            web.get("/api/files/{file_id}", web_file),
            web.get(r"/api/chats/{user_id:\d+}", chat),
            web.get(r"/api/chats/{user_id:\d+}/events", chat_events),
            web.post(r"/api/chats/{user_id:\d+}/text", send_text),
            web.post(r"/api/chats/{user_id:\d+}/press", press_button),
            web.post(r"/api/chats/{user_id:\d+}/location", share_location),
            web.post(r"/api/chats/{user_id:\d+}/contact", share_contact),
            web.post(r"/api/chats/{user_id:\d+}/photo", send_photo),
            web.post(r"/api/chats/{user_id:\d+}/document", send_document),
            web.post(r"/api/chats/{user_id:\d+}/voice", send_voice),
            web.get(r"/api/groups/{group_id:-\d+}", group_chat),
            web.get(r"/api/groups/{group_id:-\d+}/events", group_events),
            web.post(r"/api/groups/{group_id:-\d+}/text", group_text),
            web.post(r"/api/groups/{group_id:-\d+}/press", group_press),
        ]
    )
    return app


async def start_server(
    core: BotApiCore,
    *,
    token: str,
    personas: list[dict[str, Any]] | None = None,
    places: list[dict[str, Any]] | None = None,
    timezone: str = "UTC",
    host: str = "127.0.0.1",
    port: int = 0,
    groups: list[dict[str, Any]] | None = None,
) -> tuple[web.AppRunner, str]:
    """Serve `create_app` on host:port (0 picks a free port); returns the runner and base URL."""
    app = create_app(core, token=token, personas=personas, places=places, timezone=timezone, groups=groups)
    # No access log: every Bot API URL carries the bot token. Handler cancellation ends a long
    # poll or an event stream as soon as its client hangs up, as Telegram's servers do.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, str(URL.build(scheme="http", host=bound_host, port=bound_port))


# The Bot API


async def bot_api(request: web.Request) -> web.Response:
    """One Bot API method call, answered with Telegram's JSON and HTTP status."""
    if not _token_matches(request):
        return web.json_response(_UNAUTHORIZED, status=401)
    try:
        params, files = await _bot_parameters(request)
        body = await request.app[CORE].call_encoded(request.match_info["method"], params, files)
    except ApiError as error:
        return web.json_response(error.to_response(), status=error.error_code)
    return web.Response(body=body, content_type="application/json")


async def bot_file(request: web.Request) -> web.Response:
    """A file download by its file_path, as from api.telegram.org/file/bot<token>/."""
    if not _token_matches(request):
        return web.json_response(_UNAUTHORIZED, status=401)
    path = request.match_info["path"]
    try:
        data = request.app[CORE].file_bytes(path)
    except KeyError:
        return web.json_response(_NOT_FOUND, status=404)
    return web.Response(body=data, content_type=_mime_type(path))


def _token_matches(request: web.Request) -> bool:
    expected = request.app[TOKEN].encode()
    return hmac.compare_digest(request.match_info["token"].encode(), expected)


async def _bot_parameters(request: web.Request) -> tuple[Json, Files]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: Json = dict(request.query)
    files: Files = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: can't parse JSON object")
        params.update(body)
        return params, files
    # Like python-telegram-bot's HTTPXRequest sends them: strings as they are, everything else
    # JSON-encoded, which the core decodes per parameter.
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            data = await asyncio.to_thread(value.file.read)
            files[name] = (value.filename, data, value.content_type)
        else:
            params[name] = value
    return params, files


def _mime_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


# The web chat


async def index(request: web.Request) -> web.FileResponse:
    """The chat page."""
    return web.FileResponse(WEB_DIR / "index.html")


async def web_config(request: web.Request) -> web.Response:
    """The bot, the personas to be, the places to share and the district's time zone."""
    app = request.app
    return web.json_response(
        {
            "bot": app[CORE].bot_user,
            "personas": app[PERSONAS],
            "places": app[PLACES],
            "timezone": app[TIMEZONE],
            "groups": app[GROUPS],
        }
    )


async def new_person(request: web.Request) -> web.Response:
    """Make a fresh person from {"name", "language"} and return them as a persona."""
    body = await _json_body(request)
    name, language = body.get("name"), body.get("language")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME_LENGTH:
        raise _refuse(web.HTTPBadRequest, f"name must be 1 to {MAX_NAME_LENGTH} characters")
    if language not in LANGUAGES:
        raise _refuse(web.HTTPBadRequest, f"language must be one of {', '.join(LANGUAGES)}")
    core, personas = request.app[CORE], request.app[PERSONAS]
    user_id = max([FIRST_NEW_PERSON_ID - 1, *(p["id"] for p in personas)]) + 1
    while core.user(user_id) is not None:
        user_id += 1
    persona = _persona(
        {
            "id": user_id,
            "name": name.strip(),
            "role": "Courier",
            "language": language,
            "phone": f"+86139{user_id:08d}",
        }
    )
    _register(core, persona)
    personas.append(persona)
    return web.json_response(persona, status=201)


async def web_file(request: web.Request) -> web.Response:
    """The bytes of a file in a chat, by file_id, without the bot token."""
    core = request.app[CORE]
    path = core.file_path(request.match_info["file_id"])
    if path is None:
        raise _refuse(web.HTTPNotFound, "no such file, or it was sent by URL")
    return web.Response(body=core.file_bytes(path), content_type=_mime_type(path))


async def chat(request: web.Request) -> web.Response:
    """A person's private chat with the bot, as they see it now."""
    return web.json_response(_chat_view(request.app[CORE], _user_id(request)))


async def chat_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the person's chat now, then again after every change."""
    core, user_id = request.app[CORE], _user_id(request)
    return await _stream(request, user_id, lambda: _chat_view(core, user_id))


async def _stream(request: web.Request, chat_id: int, view: Callable[[], Json]) -> web.StreamResponse:
    """Server-sent events: a chat's view now, then again after every change to the chat."""
    core = request.app[CORE]
    changed = asyncio.Event()
    unsubscribe = core.subscribe(_setter(changed, chat_id))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    closing = request.app[CLOSING]
    try:
        # EventSource reconnects after `retry` ms, e.g. when the sandbox restarts.
        await response.write(b"retry: 1000\n\n")
        changed.set()
        while not closing.is_set():
            if changed.is_set():
                changed.clear()
                shown = json.dumps(view(), ensure_ascii=False)
                await response.write(f"data: {shown}\n\n".encode())
            else:
                await response.write(b": still here\n\n")
            await _wait_any((changed, closing), HEARTBEAT_SECONDS)
    except ConnectionResetError:
        pass  # The page closed the stream.
    finally:
        unsubscribe()
    return response


async def send_text(request: web.Request) -> web.Response:
    """The person sends {"text"}."""
    user_id = _user_id(request)
    text = (await _json_body(request)).get("text")
    if not isinstance(text, str) or not text.strip():
        raise _refuse(web.HTTPBadRequest, "text must be a non-empty string")
    return web.json_response(request.app[CORE].send_text(user_id, text))


async def press_button(request: web.Request) -> web.Response:
    """The person presses {"message_id", "callback_data"}; waits for the bot's answer."""
    core, user_id = request.app[CORE], _user_id(request)
    body = await _json_body(request)
    message_id, data = body.get("message_id"), body.get("callback_data")
    if not isinstance(message_id, int) or not isinstance(data, str) or not data:
        raise _refuse(web.HTTPBadRequest, "message_id (integer) and callback_data are required")
    if not any(m["message_id"] == message_id for m in core.messages(user_id)):
        raise _refuse(web.HTTPNotFound, f"no message {message_id} in this chat")
    query_id = core.press_button(user_id, message_id, data)
    # Telegram's app shows a spinner until the answer, and the bot may answer only this long.
    answered = await _until(request.app, user_id, lambda: core.answered_callback(query_id), CALLBACK_ANSWER_SECONDS)
    return web.json_response({"query_id": query_id, "answer": answered})


async def share_location(request: web.Request) -> web.Response:
    """The person shares {"latitude", "longitude"}."""
    user_id = _user_id(request)
    body = await _json_body(request)
    latitude = _coordinate(body.get("latitude"), 90, "latitude")
    longitude = _coordinate(body.get("longitude"), 180, "longitude")
    return web.json_response(request.app[CORE].share_location(user_id, latitude, longitude))


async def share_contact(request: web.Request) -> web.Response:
    """The person shares their own contact: the persona's name and phone."""
    user_id = _user_id(request)
    persona = next((p for p in request.app[PERSONAS] if p["id"] == user_id), None)
    if persona is None:
        raise _refuse(web.HTTPBadRequest, f"{user_id} is not a persona, so has no phone number")
    return web.json_response(request.app[CORE].share_contact(user_id, persona["phone"], persona["name"], user_id))


async def send_photo(request: web.Request) -> web.Response:
    """The person sends a multipart "photo" file with an optional "caption"."""
    user_id = _user_id(request)
    form = await request.post()
    data, _ = await _upload(form, "photo")
    caption = _caption(form)
    return web.json_response(request.app[CORE].send_photo(user_id, data, caption))


async def send_document(request: web.Request) -> web.Response:
    """The person sends a multipart "document" file, any kind, with an optional "caption"."""
    user_id = _user_id(request)
    form = await request.post()
    data, upload = await _upload(form, "document")
    file_name = Path(upload.filename or "").name or "file"
    mime_type = upload.content_type or _mime_type(file_name)
    sent = request.app[CORE].send_document(user_id, data, file_name, mime_type, _caption(form))
    return web.json_response(sent)


async def send_voice(request: web.Request) -> web.Response:
    """The person sends a multipart "voice" audio file and its "duration" in whole seconds."""
    user_id = _user_id(request)
    form = await request.post()
    data, _ = await _upload(form, "voice")
    duration = form.get("duration")
    if not isinstance(duration, str) or not duration.isdigit():
        raise _refuse(web.HTTPBadRequest, "duration must be a whole number of seconds")
    return web.json_response(request.app[CORE].send_voice(user_id, data, int(duration)))


async def _upload(form: Any, name: str) -> tuple[bytes, web.FileField]:
    """The bytes of a required, non-empty multipart file part."""
    upload = form.get(name)
    if not isinstance(upload, web.FileField):
        raise _refuse(web.HTTPBadRequest, f"a multipart file part named {name} is required")
    data = await asyncio.to_thread(upload.file.read)
    if not data:
        raise _refuse(web.HTTPBadRequest, f"the {name} is empty")
    return data, upload


def _caption(form: Any) -> str | None:
    caption = form.get("caption")
    if not isinstance(caption, str) or not caption.strip():
        return None
    if len(caption.strip()) > MAX_CAPTION_LENGTH:
        raise _refuse(web.HTTPBadRequest, f"a caption is at most {MAX_CAPTION_LENGTH} characters")
    return caption.strip()


# A unit's work group (handlers/desk.py): its messages and topics; a member chosen in the page writes and presses.


async def group_chat(request: web.Request) -> web.Response:
    """A group as its members see it now: messages, topics and members."""
    return web.json_response(_group_view(request.app[CORE], _group_id(request)))


async def group_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the group now, then again after every change."""
    core, group_id = request.app[CORE], _group_id(request)
    return await _stream(request, group_id, lambda: _group_view(core, group_id))


async def group_text(request: web.Request) -> web.Response:
    """A member ({"as"}) writes {"text"} in the group (a /link_unit, say)."""
    core, group_id = request.app[CORE], _group_id(request)
    body = await _json_body(request)
    member, text = _member(core, group_id, body), body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _refuse(web.HTTPBadRequest, "text must be a non-empty string")
    return web.json_response(core.send_text(member, text, chat_id=group_id))


async def group_press(request: web.Request) -> web.Response:
    """A member ({"as"}) presses {"message_id", "callback_data"} in the group; waits for the bot's answer."""
    core, group_id = request.app[CORE], _group_id(request)
    body = await _json_body(request)
    member = _member(core, group_id, body)
    message_id, data = body.get("message_id"), body.get("callback_data")
    if not isinstance(message_id, int) or not isinstance(data, str) or not data:
        raise _refuse(web.HTTPBadRequest, "message_id (integer) and callback_data are required")
    if not any(m["message_id"] == message_id for m in core.messages(group_id)):
        raise _refuse(web.HTTPNotFound, f"no message {message_id} in this group")
    query_id = core.press_button(member, message_id, data, chat_id=group_id)
    answered = await _until(request.app, group_id, lambda: core.answered_callback(query_id), CALLBACK_ANSWER_SECONDS)
    return web.json_response({"query_id": query_id, "answer": answered})


def _group_view(core: BotApiCore, group_id: int) -> Json:
    info = core.chat_info(group_id)
    return {
        "group_id": group_id,
        "title": info.get("title", ""),
        "is_forum": bool(info.get("is_forum")),
        "topics": core.topics(group_id) if info.get("is_forum") else [],
        "members": sorted(core.members(group_id)),
        "messages": [
            {key: value for key, value in message.items() if not key.startswith("_")}
            for message in core.messages(group_id)
        ],
    }


def _group_id(request: web.Request) -> int:
    group_id = int(request.match_info["group_id"])
    if not any(group["id"] == group_id for group in request.app[GROUPS]):
        raise _refuse(web.HTTPNotFound, f"unknown group {group_id}")
    return group_id


def _member(core: BotApiCore, group_id: int, body: Json) -> int:
    member = body.get("as")
    if not isinstance(member, int) or member not in core.members(group_id):
        raise _refuse(web.HTTPBadRequest, "as must be the id of one of the group's members")
    return member


def _group(raw: dict[str, Any]) -> Json:
    group_id = int(raw["id"])
    if group_id > -1_000_000_000_000:
        raise ValueError(f"group {group_id}: a work group is a supergroup, its id from -1000000000000 down")
    return {
        "id": group_id,
        "title": str(raw["title"]),
        "forum": bool(raw.get("forum", False)),
        "unit": str(raw.get("unit", "")),
        "members": [int(m) for m in raw.get("members", [])],
    }


def _register_group(core: BotApiCore, group: Json) -> None:
    if core.chat_info(group["id"]) is None:
        core.add_group(group["id"], group["title"], forum=group["forum"])
    for member in group["members"]:
        if core.user(member) is not None:
            core.join_group(group["id"], member)


def _chat_view(core: BotApiCore, user_id: int) -> Json:
    messages = [
        {key: value for key, value in message.items() if not key.startswith("_")} for message in core.messages(user_id)
    ]
    return {
        "user_id": user_id,
        "messages": messages,
        "reply_keyboard": core.reply_keyboard(user_id),
    }


def _user_id(request: web.Request) -> int:
    user_id = int(request.match_info["user_id"])
    if request.app[CORE].user(user_id) is None:
        raise _refuse(web.HTTPNotFound, f"unknown person {user_id}")
    return user_id


async def _json_body(request: web.Request) -> Json:
    try:
        body = await request.json()
    except ValueError:
        raise _refuse(web.HTTPBadRequest, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _refuse(web.HTTPBadRequest, "the body must be a JSON object")
    return body


def _coordinate(value: Any, limit: float, name: str) -> float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not -limit <= value <= limit:
        raise _refuse(web.HTTPBadRequest, f"{name} must be a number from {-limit} to {limit}")
    return float(value)


def _refuse(status: type[web.HTTPException], reason: str) -> web.HTTPException:
    return status(text=json.dumps({"error": reason}), content_type="application/json")


def _persona(raw: dict[str, Any]) -> Json:
    if raw.get("language") not in LANGUAGES:
        raise ValueError(f"persona {raw.get('id')}: language must be one of {LANGUAGES}")
    return {
        "id": int(raw["id"]),
        "name": str(raw["name"]),
        "role": str(raw["role"]),
        "language": raw["language"],
        "phone": str(raw["phone"]),
    }


def _place(raw: dict[str, Any]) -> Json:
    return {"name": str(raw["name"]), "lat": float(raw["lat"]), "lon": float(raw["lon"])}


def _register(core: BotApiCore, persona: Json) -> None:
    if core.user(persona["id"]) is None:
        core.add_user(persona["id"], persona["name"], language_code=persona["language"])


def _setter(event: asyncio.Event, chat_id: int) -> Callable[[int], None]:
    def on_change(changed_chat_id: int) -> None:
        if changed_chat_id == chat_id:
            event.set()

    return on_change


async def _until(app: web.Application, chat_id: int, condition: Callable[[], Any], timeout: float) -> Any:
    """The condition's first truthy value, checked after each change to the chat; else None."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    changed = asyncio.Event()
    unsubscribe = app[CORE].subscribe(_setter(changed, chat_id))
    try:
        while not (value := condition()):
            remaining = deadline - loop.time()
            if remaining <= 0 or app[CLOSING].is_set():
                return None
            changed.clear()
            await _wait_any((changed, app[CLOSING]), remaining)
        return value
    finally:
        unsubscribe()


async def _wait_any(events: tuple[asyncio.Event, ...], timeout: float) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


async def _close_streams(app: web.Application) -> None:
    app[CLOSING].set()


async def _page_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == "/" or request.path.startswith("/static/"):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        # A developer edits these files while the sandbox runs.
        response.headers["Cache-Control"] = "no-cache"


# By hand


async def _serve(args: argparse.Namespace) -> None:
    district = json.loads(Path(args.people).read_text(encoding="utf-8"))
    runner, url = await start_server(
        BotApiCore(),
        token=args.token,
        personas=district["personas"],
        places=district["places"],
        timezone=args.timezone,
        host=args.host,
        port=args.port,
    )
    print(f"web chat:  {url}/")
    print(f"run the bot with TELEGRAM_BASE_URL={url}/bot TELEGRAM_BASE_FILE_URL={url}/file/bot")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox with the sample district's people and places until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    # The token the bot uses when it has none (bot.app.OFFLINE_TOKEN), so no token is needed.
    parser.add_argument("--token", default="1000000:offline-sandbox-token")
    parser.add_argument("--people", default=str(DISTRICT_PEOPLE), help="JSON with personas and places")
    parser.add_argument(
        "--timezone",
        default=tomllib.loads(DISTRICT_CONFIG.read_text(encoding="utf-8"))["timezone"],
        help="the district's time zone for message times (default: the sample district's)",
    )
    try:
        asyncio.run(_serve(parser.parse_args(argv)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
