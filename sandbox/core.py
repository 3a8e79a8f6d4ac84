"""A fake Telegram Bot API kept in memory: people, chats, messages, files and the update queue.

The core speaks plain JSON-like dicts so that an in-process request backend and an HTTP
server can both sit in front of it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import mimetypes
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sandbox.html_entities import EntityParseError, parse_html, strip_text, utf16_len

Json = dict[str, Any]
Files = dict[str, tuple[str, bytes, str]]
ChangeListener = Callable[[int], None]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200  # the text of a toast or alert answering a button press
MIN_ALBUM, MAX_ALBUM = 2, 10
MAX_CALLBACK_DATA_BYTES = 64
CALLBACK_ANSWER_SECONDS = 15
# What Telegram delivers while allowed_updates is unset or empty.
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_MARKUP_KINDS = frozenset({"inline_keyboard", "keyboard", "remove_keyboard", "force_reply"})
# Telegram stores a thumbnail and a full-size copy of every photo; the sandbox does not decode
# images, so both sizes are nominal.
_PHOTO_SIZES = ((90, 90), (800, 800))
_CAPTION_KEYS = ("caption", "caption_entities", "parse_mode")
_FOLDERS = {"photo": ("photos", ".jpg"), "document": ("documents", ""), "voice": ("voice", ".oga")}


class ApiError(Exception):
    """A Bot API failure as Telegram reports it: an error code and a description."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    @classmethod
    def too_many_requests(cls, retry_after: int) -> ApiError:
        """The 429 flood-control error, worded as Telegram words it."""
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def to_response(self) -> Json:
        """The JSON body Telegram sends for this error."""
        body: Json = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def ok_response(result: Any) -> Json:
    """The JSON body Telegram sends for a successful call."""
    return {"ok": True, "result": result}


def _bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists and scalars): copy.deepcopy's memo costs several times more."""
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return value


def _public(message: Json) -> Json:
    """A deep copy without the core's bookkeeping keys (those starting with "_")."""
    return {key: _copy(value) for key, value in message.items() if not key.startswith("_")}


def _shown(message: Json) -> Json:
    """The message as a Bot API result, sharing the stored values: for encoding at once, never to keep."""
    return {key: value for key, value in message.items() if not key.startswith("_")}


def _compact(**fields: Any) -> Json:
    return {key: value for key, value in fields.items() if value is not None}


def _buttons(markup: Json | None, rows_key: str = "inline_keyboard") -> Iterator[Json]:
    for row in (markup or {}).get(rows_key, []):
        for button in row:
            # Reply keyboards may list bare strings instead of KeyboardButton objects.
            yield {"text": button} if isinstance(button, str) else button


class _Params:
    """Call parameters: decoded values, or the strings an HTML form would carry."""

    def __init__(self, raw: Json) -> None:
        self.raw = raw

    def get(self, name: str) -> Any:
        """The raw value, or None."""
        return self.raw.get(name)

    def text(self, name: str) -> str | None:
        """A string parameter."""
        value = self.raw.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        """An integer parameter."""
        return self._convert(name, int)

    def number(self, name: str) -> float | None:
        """A float parameter."""
        return self._convert(name, float)

    def flag(self, name: str) -> bool:
        """A boolean parameter; absent means False."""
        value = self.raw.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def decoded(self, name: str) -> Any:
        """A JSON-serialized parameter, decoded if it is still a string; never shared with the caller."""
        value = self.raw.get(name)
        if not isinstance(value, str):
            return _copy(value)
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None

    def required(self, name: str) -> Any:
        """A parameter that must be present."""
        value = self.raw.get(name)
        if value is None or value == "":
            raise _bad_request(f"{name} is empty")
        return value

    def _convert(self, name: str, kind: Callable[[Any], Any]) -> Any:
        value = self.raw.get(name)
        if value is None:
            return None
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise _bad_request(f"invalid {name} specified") from None


_Handler = Callable[..., Any]
_API: dict[str, tuple[str, _Handler]] = {}


def _api(name: str) -> Callable[[_Handler], _Handler]:
    """Register a BotApiCore method as the handler of a Bot API method."""

    def register(handler: _Handler) -> _Handler:
        _API[name.lower()] = (name, handler)
        return handler

    return register


@dataclass
class _Chat:
    info: Json
    messages: list[Json] = field(default_factory=list)
    members: set[int] = field(default_factory=set)
    reply_keyboard: Json | None = None
    # A forum supergroup's topics by thread id (the id of the message that opened the topic).
    topics: dict[int, Json] = field(default_factory=dict)
    bot_removed: bool = False


@dataclass
class _File:
    file_id: str
    file_unique_id: str
    kind: str
    size: int | None
    file_path: str | None
    media: Any = None


@dataclass
class _Query:
    created: float
    chat_id: int
    answer: Json | None = None


@dataclass
class _Fault:
    method: str | None
    error: ApiError
    remaining: int


class BotApiCore:
    """An in-memory Telegram Bot API for one bot, driven by tests from the person's side."""

    def __init__(
        self,
        bot_id: int = 123,
        bot_username: str = "appeals_bot",
        bot_first_name: str = "Appeals bot",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot_user: Json = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.calls: list[tuple[str, Json]] = []
        self._clock = clock
        self._users: dict[int, Json] = {}
        self._blocked: set[int] = set()
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, _File] = {}
        self._contents: dict[str, bytes] = {}
        self._queries: dict[str, _Query] = {}
        self._updates: list[Json] = []
        self._next_update_id = 1
        self._allowed_updates = DEFAULT_ALLOWED_UPDATES
        self._arrived = asyncio.Event()
        self._faults: list[_Fault] = []
        self._webhook_url = ""
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._menu_buttons: dict[int | None, Json] = {}
        self._serial = 0
        self._listeners: list[ChangeListener] = []

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> Json:
        """Register a person and their private chat with the bot; returns the User dict."""
        names = _compact(first_name=first_name, last_name=last_name, username=username)
        user = {"id": user_id, "is_bot": False, **names, **_compact(language_code=language_code)}
        self._users[user_id] = user
        chat = self._chats.setdefault(user_id, _Chat({}))
        chat.info = {"id": user_id, "type": "private", **names}
        return dict(user)

    def add_group(self, chat_id: int, title: str, *, forum: bool = False) -> Json:
        """Register a group chat (negative id) that the bot is in; returns the Chat dict.

        `forum`: a supergroup with topics (is_forum), where the bot may open a topic per subject.
        """
        assert chat_id < 0, f"group chat ids are negative, got {chat_id}"
        # Telegram gives supergroups the ids it prefixes with -100.
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        assert not forum or kind == "supergroup", "only a supergroup can have topics"
        self._chats[chat_id] = _Chat(
            {"id": chat_id, "type": kind, "title": title, **({"is_forum": True} if forum else {})}
        )
        return dict(self._chats[chat_id].info)

    def remove_bot(self, chat_id: int, by_user: int) -> None:
        """A member removes the bot from a group: sends there fail with 403, and the bot gets a my_chat_member update."""
        chat = self._chats[chat_id]
        assert chat_id < 0, "only a group can remove the bot"
        chat.bot_removed = True
        member = {"user": dict(self.bot_user)}
        change = {
            "chat": dict(chat.info),
            "from": dict(self._user(by_user)),
            "date": self._now(),
            "old_chat_member": {**member, "status": "member"},
            "new_chat_member": {**member, "status": "kicked", "until_date": 0},
        }
        self._enqueue("my_chat_member", change)
        self._changed(chat)

    def topics(self, chat_id: int) -> list[Json]:
        """A forum's topics that were not deleted, oldest first: message_thread_id, name, icon_color."""
        return [_copy(topic) for topic in self._chats[chat_id].topics.values() if not topic.get("_deleted")]

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """A member deletes a topic with its messages (what deleteForumTopic does for the bot)."""
        self._delete_topic(self._chats[chat_id], thread_id)

    def join_group(self, chat_id: int, user_id: int) -> None:
        """Make a registered person a member of a registered group."""
        self._user(user_id)
        assert chat_id < 0 and chat_id in self._chats, f"unknown group {chat_id}"
        self._chats[chat_id].members.add(user_id)

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sends to their chat fail with 403."""
        self._user(user_id)
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The person unblocks the bot."""
        self._blocked.discard(user_id)

    def send_text(self, user_id: int, text: str, *, chat_id: int | None = None, reply_to: int | None = None) -> Json:
        """The person sends a text; a leading /command gets its bot_command entity."""
        content: Json = {"text": text}
        command = _BOT_COMMAND.match(text)
        if command:
            length = utf16_len(command.group(0))
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._from_person(user_id, chat_id, content, reply_to)

    def send_photo(self, user_id: int, data: bytes, caption: str | None = None, *, chat_id: int | None = None) -> Json:
        """The person sends a photo, registered as a thumbnail and a full size."""
        content = _compact(photo=self._register_photo(data), caption=caption)
        return self._from_person(user_id, chat_id, content)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> Json:
        """The person sends a file as a document."""
        document = self._register_document(data, file_name, mime_type)
        return self._from_person(user_id, chat_id, _compact(document=document, caption=caption))

    def send_voice(self, user_id: int, data: bytes, duration: int, *, chat_id: int | None = None) -> Json:
        """The person sends a voice note."""
        return self._from_person(user_id, chat_id, {"voice": self._register_voice(data, duration)})

    def share_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        horizontal_accuracy: float | None = None,
        *,
        chat_id: int | None = None,
    ) -> Json:
        """The person shares a location."""
        location = _compact(latitude=latitude, longitude=longitude, horizontal_accuracy=horizontal_accuracy)
        return self._from_person(user_id, chat_id, {"location": location})

    def share_contact(
        self,
        user_id: int,
        phone_number: str,
        first_name: str,
        contact_user_id: int | None = None,
        *,
        chat_id: int | None = None,
    ) -> Json:
        """The person shares a contact (their own when contact_user_id is their id)."""
        contact = _compact(phone_number=phone_number, first_name=first_name, user_id=contact_user_id)
        return self._from_person(user_id, chat_id, {"contact": contact})

    def press_button(self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None) -> str:
        """The person presses an inline button; any data is accepted so forgeries are testable."""
        user = self._person(user_id)
        chat = self._person_chat(user_id, chat_id)
        message = self._find(chat, message_id)
        assert message is not None, f"no message {message_id} in chat {chat.info['id']}"
        query_id = str(4_000_000_000_000 + self._next_serial())
        self._queries[query_id] = _Query(created=self._clock(), chat_id=chat.info["id"])
        query = {
            "id": query_id,
            "from": dict(user),
            "message": _public(message),
            "chat_instance": str(hash((self.bot_user["id"], chat.info["id"])) & (2**63 - 1)),
            "data": callback_data,
        }
        self._enqueue("callback_query", query)
        return query_id

    def press(self, user_id: int, label_prefix: str, *, chat_id: int | None = None) -> str:
        """Press the newest inline button in the private chat (or group `chat_id`) whose label starts with a prefix."""
        labels: list[str] = []
        chat = user_id if chat_id is None else chat_id
        for message in reversed(self.messages(chat)):
            for label, data in self.inline_buttons(message):
                if label.startswith(label_prefix):
                    return self.press_button(user_id, message["message_id"], data, chat_id=chat_id)
                labels.append(label)
        raise AssertionError(f"no inline button starting with {label_prefix!r} in chat {chat}; available: {labels}")

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int = 100,
        timeout: float = 0,
        allowed_updates: list[str] | None = None,
    ) -> list[Json]:
        """Telegram's getUpdates: confirm below offset, then long-poll up to timeout seconds."""
        if self._webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if allowed_updates is not None:
            self._allowed_updates = frozenset(allowed_updates) or DEFAULT_ALLOWED_UPDATES
        if offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        elif offset is not None:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        # Long polling waits in real time; the injected clock only stamps dates.
        deadline = loop.time() + timeout
        while not self._updates and (remaining := deadline - loop.time()) > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        return _copy(self._updates[: min(max(limit, 1), 100)])

    def take_updates(self) -> list[Json]:
        """Drain every queued update, for tests that feed the Application themselves."""
        updates, self._updates = self._updates, []
        return updates

    async def call(self, method: str, params: Json | None = None, files: Files | None = None) -> Any:
        """Run one Bot API method; returns its result (a copy of its own) or raises ApiError."""
        return _copy(await self._call(method, params, files))

    async def call_encoded(self, method: str, params: Json | None = None, files: Files | None = None) -> bytes:
        """Run one Bot API method; returns Telegram's JSON body for its result or raises ApiError.

        The result is encoded before anything else runs, so it needs no copy of its own.
        """
        return json.dumps(ok_response(await self._call(method, params, files))).encode()

    async def _call(self, method: str, params: Json | None, files: Files | None) -> Any:
        name, handler = _API.get(method.lower(), (method, None))
        self.calls.append((name, dict(params or {})))
        self._raise_injected_fault(name)
        if handler is None:
            raise ApiError(404, f"Not Found: method '{method}' is not implemented by this Bot API server")
        result = handler(self, _Params(params or {}), files or {})
        if inspect.isawaitable(result):
            result = await result
        return result

    def fail_next(self, method: str | None, error: ApiError, times: int = 1) -> None:
        """Make the next `times` calls of a method (of any method if None) raise `error`."""
        self._faults.append(_Fault(method.lower() if method else None, error, times))

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[Json]:
        """Copies of the chat's messages, oldest first, each with its `_deleted` flag."""
        return [
            _copy(message) for message in self._chats[chat_id].messages if include_deleted or not message["_deleted"]
        ]

    def last_message(self, chat_id: int) -> Json | None:
        """The newest message still in the chat, or None."""
        messages = self.messages(chat_id)
        return messages[-1] if messages else None

    def bot_messages(self, chat_id: int) -> list[Json]:
        """The bot's messages still in the chat, oldest first."""
        return [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_user["id"]]

    @staticmethod
    def inline_buttons(message: Json) -> list[tuple[str, str]]:
        """(label, callback_data) of the message's inline callback buttons, row by row."""
        return [
            (button["text"], button["callback_data"])
            for button in _buttons(message.get("reply_markup"))
            if "callback_data" in button
        ]

    def reply_keyboard(self, chat_id: int) -> Json | None:
        """The reply keyboard the person currently sees in the chat, or None."""
        return _copy(self._chats[chat_id].reply_keyboard)

    def answered_callback(self, query_id: str) -> Json | None:
        """What the bot answered to a callback query (text, show_alert), or None."""
        query = self._queries.get(query_id)
        return dict(query.answer) if query and query.answer else None

    def file_bytes(self, file_path: str) -> bytes:
        """The stored content of a file by its file_path; KeyError if there is none."""
        return self._contents[file_path]

    def file_path(self, file_id: str) -> str | None:
        """The file_path of a file with stored content, or None; records no Bot API call."""
        file = self._files.get(file_id)
        return None if file is None else file.file_path

    def chat_info(self, chat_id: int) -> Json | None:
        """The Chat dict of a registered chat, or None."""
        chat = self._chats.get(chat_id)
        return None if chat is None else dict(chat.info)

    def members(self, chat_id: int) -> set[int]:
        """The people in a group."""
        return set(self._chats[chat_id].members)

    def user(self, user_id: int) -> Json | None:
        """The registered User dict, or None."""
        user = self._users.get(user_id)
        return None if user is None else dict(user)

    def subscribe(self, listener: ChangeListener) -> Callable[[], None]:
        """Call listener(chat_id) whenever what a chat shows changes; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _user(self, user_id: int) -> Json:
        assert user_id in self._users, f"unknown user {user_id}; call add_user first"
        return self._users[user_id]

    def _person(self, user_id: int) -> Json:
        user = self._user(user_id)
        assert user_id not in self._blocked, f"user {user_id} has blocked the bot; unblock first"
        return user

    def _person_chat(self, user_id: int, chat_id: int | None) -> _Chat:
        if chat_id is None or chat_id == user_id:
            return self._chats[user_id]
        assert chat_id in self._chats, f"unknown chat {chat_id}"
        assert user_id in self._chats[chat_id].members, f"user {user_id} is not in {chat_id}"
        return self._chats[chat_id]

    def _from_person(self, user_id: int, chat_id: int | None, content: Json, reply_to: int | None = None) -> Json:
        user = self._person(user_id)
        chat = self._person_chat(user_id, chat_id)
        replied = None
        if reply_to is not None:
            replied = self._find(chat, reply_to)
            assert replied is not None, f"no message {reply_to} to reply to"
        message = self._store(chat, user, content, replied)
        self._use_one_time_keyboard(chat, content)
        self._enqueue("message", message)
        self._changed(chat)
        return _copy(message)

    def _use_one_time_keyboard(self, chat: _Chat, content: Json) -> None:
        keyboard = chat.reply_keyboard
        if not keyboard or not keyboard.get("one_time_keyboard"):
            return
        for button in _buttons(keyboard, "keyboard"):
            if (
                (button.get("request_location") and "location" in content)
                or (button.get("request_contact") and "contact" in content)
                or button["text"] == content.get("text")
            ):
                chat.reply_keyboard = None
                return

    def _now(self) -> int:
        return int(self._clock())

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    @staticmethod
    def _find(chat: _Chat, message_id: int | None) -> Json | None:
        if message_id is None or not 1 <= message_id <= len(chat.messages):
            return None
        message = chat.messages[message_id - 1]
        return None if message["_deleted"] else message

    def _store(
        self,
        chat: _Chat,
        sender: Json,
        content: Json,
        replied: Json | None = None,
        reply_markup: Json | None = None,
    ) -> Json:
        message: Json = {
            "message_id": len(chat.messages) + 1,
            "from": dict(sender),
            "chat": dict(chat.info),
            "date": self._now(),
            **_copy(content),
        }
        if replied is not None:
            snapshot = _public(replied)
            snapshot.pop("reply_to_message", None)
            message["reply_to_message"] = snapshot
        if reply_markup is not None:
            message["reply_markup"] = reply_markup  # decoded afresh for this call (_Params.decoded)
        message["_deleted"] = False
        chat.messages.append(message)
        return message

    def _changed(self, chat: _Chat) -> None:
        # A copy: a listener may unsubscribe while being called.
        for listener in list(self._listeners):
            listener(chat.info["id"])

    def _enqueue(self, kind: str, payload: Json) -> None:
        # Telegram does not even create updates of a type the bot did not ask for.
        if kind not in self._allowed_updates:
            return
        self._updates.append({"update_id": self._next_update_id, kind: _public(payload)})
        self._next_update_id += 1
        self._arrived.set()

    def _raise_injected_fault(self, method: str) -> None:
        for fault in self._faults:
            if fault.method in (None, method.lower()):
                fault.remaining -= 1
                if not fault.remaining:
                    self._faults.remove(fault)
                error = fault.error
                raise ApiError(error.error_code, error.description, error.retry_after)

    def _register(self, kind: str, data: bytes | None, suffix: str | None = None) -> _File:
        serial = self._next_serial()
        folder, default_suffix = _FOLDERS[kind]
        path = None
        if data is not None:
            path = f"{folder}/file_{serial}{default_suffix if suffix is None else suffix}"
            self._contents[path] = data
        file = _File(
            file_id=f"AgAD{serial:08d}",
            file_unique_id=f"AQAD{serial:08d}",
            kind=kind,
            size=None if data is None else len(data),
            file_path=path,
        )
        self._files[file.file_id] = file
        return file

    @staticmethod
    def _described(file: _File, **fields: Any) -> Json:
        ids = {"file_id": file.file_id, "file_unique_id": file.file_unique_id}
        return {**ids, **fields, **_compact(file_size=file.size)}

    def _register_photo(self, data: bytes | None) -> list[Json]:
        files = [self._register("photo", data) for _ in _PHOTO_SIZES]
        sizes = [
            self._described(file, width=width, height=height)
            for file, (width, height) in zip(files, _PHOTO_SIZES, strict=True)
        ]
        for file in files:
            file.media = sizes
        return _copy(sizes)

    def _register_document(self, data: bytes | None, file_name: str, mime_type: str) -> Json:
        file = self._register("document", data, PurePosixPath(file_name).suffix)
        file.media = self._described(file, file_name=file_name, mime_type=mime_type)
        return _copy(file.media)

    def _register_voice(self, data: bytes | None, duration: int) -> Json:
        file = self._register("voice", data)
        file.media = self._described(file, duration=duration, mime_type="audio/ogg")
        return _copy(file.media)

    def _bot_file(self, p: _Params, files: Files, kind: str) -> Any:
        """The media object for a file the bot sends: an upload, a known file_id, or a URL."""
        value = p.get(kind)
        if value is None and kind in files:
            value = f"attach://{kind}"
        if value is None:
            raise _bad_request(f"there is no {kind} in the request")
        value = str(value)
        if value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None or not upload[1]:
                raise _bad_request("file must be non-empty")
            file_name, data, mime_type = upload
            return self._new_media(kind, p, data, file_name, mime_type)
        known = self._files.get(value)
        if known is not None:
            if known.kind != kind:
                raise _bad_request("type of file mismatch")
            return _copy(known.media)
        if urlsplit(value).scheme in ("http", "https"):
            name = PurePosixPath(urlsplit(value).path).name or "file"
            mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return self._new_media(kind, p, None, name, mime_type)
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _new_media(self, kind: str, p: _Params, data: bytes | None, file_name: str, mime_type: str) -> Any:
        if kind == "photo":
            return self._register_photo(data)
        if kind == "voice":
            return self._register_voice(data, p.integer("duration") or 0)
        return self._register_document(data, file_name, mime_type)

    def _chat(self, p: _Params, *, sending: bool = False) -> _Chat:
        value = p.required("chat_id")
        try:
            chat = self._chats.get(int(value))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise _bad_request("chat not found")
        if sending and chat.info["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.bot_removed:
            kind = "supergroup" if chat.info["type"] == "supergroup" else "group"
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        return chat

    def _thread(self, chat: _Chat, p: _Params, replied: Json | None) -> Json:
        """The topic fields of a message sent to `chat`: in a forum, the topic it names (or the one of
        the message it replies to), which must exist; elsewhere none."""
        if not chat.info.get("is_forum"):
            return {}
        thread_id = p.integer("message_thread_id")
        if thread_id is None and replied is not None:
            thread_id = replied.get("message_thread_id")
        if thread_id is None:
            return {}
        topic = chat.topics.get(thread_id)
        if topic is None or topic.get("_deleted"):
            raise _bad_request("message thread not found")
        return {"message_thread_id": thread_id, "is_topic_message": True}

    def _forum_topic(self, p: _Params) -> tuple[_Chat, Json]:
        chat = self._chat(p, sending=True)
        if not chat.info.get("is_forum"):
            raise _bad_request("the chat is not a forum")
        topic = chat.topics.get(p.integer("message_thread_id") or 0)
        if topic is None:
            raise _bad_request("TOPIC_ID_INVALID")
        if topic.get("_deleted"):
            raise _bad_request("TOPIC_DELETED")
        return chat, topic

    def _delete_topic(self, chat: _Chat, thread_id: int) -> None:
        topic = chat.topics[thread_id]
        topic["_deleted"] = True
        for message in chat.messages:
            if message.get("message_thread_id") == thread_id:
                message["_deleted"] = True
        self._changed(chat)

    @staticmethod
    def _topic_name(p: _Params, required: bool) -> str | None:
        name = p.text("name")
        if name is None and not required:
            return None
        if not name or utf16_len(name) > 128:
            raise _bad_request("TOPIC_NAME_INVALID" if name else "name is empty")
        return name

    @_api("createForumTopic")
    def _create_forum_topic(self, p: _Params, files: Files) -> Json:
        chat = self._chat(p, sending=True)
        if not chat.info.get("is_forum"):
            raise _bad_request("the chat is not a forum")
        name = self._topic_name(p, required=True)
        icon_color = p.integer("icon_color") or 7322096
        # The topic's id is the id of the service message that opens it.
        opened = self._store(chat, self.bot_user, {"forum_topic_created": {"name": name, "icon_color": icon_color}})
        thread_id = opened["message_id"]
        opened.update(message_thread_id=thread_id, is_topic_message=True)
        chat.topics[thread_id] = {"message_thread_id": thread_id, "name": name, "icon_color": icon_color}
        self._changed(chat)
        return {"message_thread_id": thread_id, "name": name, "icon_color": icon_color}

    @_api("editForumTopic")
    def _edit_forum_topic(self, p: _Params, files: Files) -> bool:
        chat, topic = self._forum_topic(p)
        name = self._topic_name(p, required=False)
        if name is not None and name != topic["name"]:
            topic["name"] = name
            thread = {"message_thread_id": topic["message_thread_id"], "is_topic_message": True}
            self._store(chat, self.bot_user, {"forum_topic_edited": {"name": name}, **thread})
            self._changed(chat)
        return True

    @_api("deleteForumTopic")
    def _delete_forum_topic(self, p: _Params, files: Files) -> bool:
        chat, topic = self._forum_topic(p)
        self._delete_topic(chat, topic["message_thread_id"])
        return True

    def _formatted(self, p: _Params, field_name: str, entities_field: str, limit: int, too_long: str) -> Json:
        raw = p.text(field_name)
        if raw is None:
            return {}
        entities = p.decoded(entities_field)
        if entities is None:
            raw, entities = self._parse(raw, p.text("parse_mode"))
        text, entities = strip_text(raw, entities)
        # Counted in UTF-16 units like the entity offsets: never laxer than Telegram.
        if utf16_len(text) > limit:
            raise _bad_request(too_long)
        return _compact(**{field_name: text or None, entities_field: entities or None})

    @staticmethod
    def _parse(text: str, parse_mode: str | None) -> tuple[str, list[Json]]:
        if not parse_mode:
            return text, []
        if parse_mode.lower() == "html":
            try:
                return parse_html(text)
            except EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        if parse_mode.lower() in ("markdown", "markdownv2"):
            raise _bad_request(
                f"can't parse entities: parse_mode {parse_mode} is not supported by the sandbox; use HTML"
            )
        raise _bad_request("unsupported parse_mode")

    def _text(self, p: _Params) -> Json:
        content = self._formatted(p, "text", "entities", MAX_TEXT_LENGTH, "message is too long")
        if not content:
            raise _bad_request("message text is empty")
        return content

    def _caption(self, p: _Params) -> Json:
        return self._formatted(p, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long")

    @staticmethod
    def _markup(p: _Params) -> Json | None:
        markup = p.decoded("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict) or not markup.keys() & _MARKUP_KINDS:
            raise _bad_request("can't parse reply keyboard markup JSON object")
        for button in _buttons(markup):
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
            if set(button) <= {"text"}:
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
        return markup

    def _reply_target(self, chat: _Chat, p: _Params) -> Json | None:
        parameters = p.decoded("reply_parameters") or {}
        message_id = parameters.get("message_id", p.integer("reply_to_message_id"))
        if message_id is None:
            return None
        if parameters.get("chat_id") is not None:
            chat = self._chat(_Params({"chat_id": parameters["chat_id"]}))
        replied = self._find(chat, int(message_id))
        if replied is None and not (
            parameters.get("allow_sending_without_reply") or p.flag("allow_sending_without_reply")
        ):
            raise _bad_request("message to be replied not found")
        return replied

    def _send(self, p: _Params, content: Callable[[], Json]) -> Json:
        """Store a bot message; everything is validated before its files are registered."""
        chat = self._chat(p, sending=True)
        markup = self._markup(p)
        replied = self._reply_target(chat, p)
        thread = self._thread(chat, p, replied)
        built = {**content(), **thread}
        inline = markup if markup and "inline_keyboard" in markup else None
        message = self._store(chat, self.bot_user, built, replied, inline)
        if markup and "keyboard" in markup:
            chat.reply_keyboard = markup  # decoded afresh for this call
        elif markup and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        self._changed(chat)
        return _shown(message)

    def _send_media(self, p: _Params, files: Files, kind: str) -> Json:
        def content() -> Json:
            caption = self._caption(p)
            return {kind: self._bot_file(p, files, kind), **caption}

        return self._send(p, content)

    def _editable(self, p: _Params) -> Json:
        if p.get("inline_message_id") is not None:
            raise _bad_request("message to edit not found")
        message = self._find(self._chat(p), p.integer("message_id"))
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return message

    def _edit(self, message: Json, p: _Params, content: Json, keys: tuple[str, ...]) -> Json:
        chat = self._chat(p)
        markup = self._markup(p)
        # Telegram drops the inline keyboard when an edit does not repeat it.
        inline = markup if markup and "inline_keyboard" in markup else None
        keys = (*keys, "reply_markup")
        after = [content.get(key) for key in keys[:-1]] + [inline]
        if [message.get(key) for key in keys] == after:
            raise _bad_request(_NOT_MODIFIED)
        for key, value in zip(keys, after, strict=True):
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value  # built or decoded afresh for this call
        message["edit_date"] = self._now()
        self._changed(chat)
        return _shown(message)

    @staticmethod
    def _location(p: _Params) -> Json:
        p.required("latitude")
        p.required("longitude")
        return _compact(
            latitude=p.number("latitude"),
            longitude=p.number("longitude"),
            horizontal_accuracy=p.number("horizontal_accuracy"),
        )

    @staticmethod
    def _commands_key(p: _Params) -> tuple[str, str]:
        scope = p.decoded("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.text("language_code") or ""

    def _menu_chat_id(self, p: _Params) -> int | None:
        return None if p.get("chat_id") is None else self._chat(p).info["id"]

    @_api("getMe")
    def _get_me(self, p: _Params, files: Files) -> Json:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @_api("getUpdates")
    async def _get_updates(self, p: _Params, files: Files) -> list[Json]:
        return await self.get_updates(
            offset=p.integer("offset"),
            limit=p.integer("limit") or 100,
            timeout=p.number("timeout") or 0,
            allowed_updates=p.decoded("allowed_updates"),
        )

    @_api("logOut")
    def _log_out(self, p: _Params, files: Files) -> bool:
        return True

    @_api("close")
    def _close(self, p: _Params, files: Files) -> bool:
        return True

    @_api("setWebhook")
    def _set_webhook(self, p: _Params, files: Files) -> bool:
        self._webhook_url = p.text("url") or ""
        allowed = p.decoded("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    @_api("deleteWebhook")
    def _delete_webhook(self, p: _Params, files: Files) -> bool:
        self._webhook_url = ""
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    @_api("getWebhookInfo")
    def _get_webhook_info(self, p: _Params, files: Files) -> Json:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @_api("setMyCommands")
    def _set_my_commands(self, p: _Params, files: Files) -> bool:
        commands = p.decoded("commands") or []
        for command in commands:
            if not _COMMAND_NAME.fullmatch(command.get("command", "")):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    @_api("getMyCommands")
    def _get_my_commands(self, p: _Params, files: Files) -> list[Json]:
        return _copy(self._commands.get(self._commands_key(p), []))

    @_api("deleteMyCommands")
    def _delete_my_commands(self, p: _Params, files: Files) -> bool:
        self._commands.pop(self._commands_key(p), None)
        return True

    @_api("setChatMenuButton")
    def _set_chat_menu_button(self, p: _Params, files: Files) -> bool:
        self._menu_buttons[self._menu_chat_id(p)] = p.decoded("menu_button") or {"type": "default"}
        return True

    @_api("getChatMenuButton")
    def _get_chat_menu_button(self, p: _Params, files: Files) -> Json:
        chat_id = self._menu_chat_id(p)
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return _copy(button or {"type": "default"})

    @_api("sendChatAction")
    def _send_chat_action(self, p: _Params, files: Files) -> bool:
        self._chat(p, sending=True)
        if p.text("action") not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    @_api("getChat")
    def _get_chat(self, p: _Params, files: Files) -> Json:
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **self._chat(p).info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
        }

    @_api("sendMessage")
    def _send_message(self, p: _Params, files: Files) -> Json:
        return self._send(p, lambda: self._text(p))

    @_api("sendPhoto")
    def _send_photo(self, p: _Params, files: Files) -> Json:
        return self._send_media(p, files, "photo")

    @_api("sendDocument")
    def _send_document(self, p: _Params, files: Files) -> Json:
        return self._send_media(p, files, "document")

    @_api("sendVoice")
    def _send_voice(self, p: _Params, files: Files) -> Json:
        return self._send_media(p, files, "voice")

    @_api("sendMediaGroup")
    def _send_media_group(self, p: _Params, files: Files) -> list[Json]:
        """An album: 2-10 photos, or 2-10 documents (a document is never grouped with a photo)."""
        chat = self._chat(p, sending=True)
        if p.get("media") in (None, ""):
            raise _bad_request("media to send are not specified")
        items = p.decoded("media")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise _bad_request("can't parse media JSON object")
        if not MIN_ALBUM <= len(items) <= MAX_ALBUM:
            raise _bad_request("wrong number of media items: an album holds 2-10")
        kinds = {item.get("type") for item in items}
        if kinds & {"video", "audio"}:
            raise _bad_request("videos and audio files in albums are not supported by the sandbox")
        if not kinds <= {"photo", "document"}:
            raise _bad_request("can't parse InputMedia: unsupported media type")
        if len(kinds) > 1:
            raise _bad_request("document can't be mixed with other media types")
        for item in items:
            if item.get("media") in (None, ""):
                raise _bad_request("can't parse InputMedia: media not found")
        replied = self._reply_target(chat, p)
        thread = self._thread(chat, p, replied)
        # Captions are checked before any upload is registered or any message stored.
        captions = [self._caption(_Params({k: item.get(k) for k in _CAPTION_KEYS})) for item in items]
        contents = [
            {item["type"]: self._bot_file(_Params({item["type"]: item["media"]}), files, item["type"]), **caption}
            for item, caption in zip(items, captions, strict=True)
        ]
        group = str(10_000_000_000 + self._next_serial())
        sent = [
            self._store(chat, self.bot_user, {**content, **thread, "media_group_id": group}, replied)
            for content in contents
        ]
        self._changed(chat)
        return [_shown(message) for message in sent]

    @_api("sendLocation")
    def _send_location(self, p: _Params, files: Files) -> Json:
        return self._send(p, lambda: {"location": self._location(p)})

    @_api("sendVenue")
    def _send_venue(self, p: _Params, files: Files) -> Json:
        def content() -> Json:
            location = self._location(p)
            venue = _compact(
                location=location,
                title=p.required("title"),
                address=p.required("address"),
                foursquare_id=p.text("foursquare_id"),
                google_place_id=p.text("google_place_id"),
            )
            # A venue message carries the bare location as well.
            return {"venue": venue, "location": location}

        return self._send(p, content)

    @_api("sendContact")
    def _send_contact(self, p: _Params, files: Files) -> Json:
        return self._send(
            p,
            lambda: {
                "contact": _compact(
                    phone_number=p.required("phone_number"),
                    first_name=p.required("first_name"),
                    last_name=p.text("last_name"),
                    vcard=p.text("vcard"),
                )
            },
        )

    @_api("editMessageText")
    def _edit_message_text(self, p: _Params, files: Files) -> Json:
        message = self._editable(p)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        return self._edit(message, p, self._text(p), ("text", "entities"))

    @_api("editMessageCaption")
    def _edit_message_caption(self, p: _Params, files: Files) -> Json:
        message = self._editable(p)
        if "text" in message:
            raise _bad_request("there is no caption in the message to edit")
        return self._edit(message, p, self._caption(p), ("caption", "caption_entities"))

    @_api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, p: _Params, files: Files) -> Json:
        return self._edit(self._editable(p), p, {}, ())

    @_api("deleteMessage")
    def _delete_message(self, p: _Params, files: Files) -> bool:
        chat = self._chat(p)
        message = self._find(chat, p.integer("message_id"))
        if message is None:
            raise _bad_request("message to delete not found")
        message["_deleted"] = True
        self._changed(chat)
        return True

    @_api("answerCallbackQuery")
    def _answer_callback_query(self, p: _Params, files: Files) -> bool:
        query = self._queries.get(p.text("callback_query_id") or "")
        if query is None or query.answer is not None or self._clock() - query.created > CALLBACK_ANSWER_SECONDS:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        if utf16_len(p.text("text") or "") > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        query.answer = {"text": p.text("text"), "show_alert": p.flag("show_alert")}
        if p.get("url") is not None:
            query.answer["url"] = p.text("url")
        self._changed(self._chats[query.chat_id])
        return True

    @_api("getFile")
    def _get_file(self, p: _Params, files: Files) -> Json:
        file = self._files.get(p.text("file_id") or "")
        if file is None:
            raise _bad_request("invalid file_id")
        # A file the bot sent only by URL has no bytes here, so it cannot be downloaded.
        return {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            **_compact(file_size=file.size, file_path=file.file_path),
        }
