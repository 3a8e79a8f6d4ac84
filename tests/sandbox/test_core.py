"""The fake Bot API core on its own: chats, updates, errors, keyboards, entities and files."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from sandbox.core import ApiError, BotApiCore
from sandbox.html_entities import EntityParseError, parse_html

ANN = 42
BEN = 43
START = 1_700_000_000.0
YES_NO = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]]}
LOCATION_KEYBOARD = {
    "keyboard": [[{"text": "Send location", "request_location": True}], [{"text": "Cancel"}]],
    "resize_keyboard": True,
}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def core(clock: FakeClock) -> BotApiCore:
    core = BotApiCore(bot_id=123, clock=clock)
    core.add_user(ANN, "Ann", username="ann", language_code="en")
    core.add_user(BEN, "Ben")
    return core


async def send(core: BotApiCore, text: str, chat_id: int = ANN, **params: Any) -> dict:
    """The bot sends a text message through the API."""
    return await core.call("sendMessage", {"chat_id": chat_id, "text": text, **params})


async def api_error(core: BotApiCore, method: str, params: dict, files: dict | None = None) -> tuple[int, str]:
    """The (error_code, description) a call fails with."""
    with pytest.raises(ApiError) as caught:
        await core.call(method, params, files)
    return caught.value.error_code, caught.value.description


async def test_message_ids_are_per_chat_and_dates_come_from_the_clock(core: BotApiCore, clock: FakeClock) -> None:
    first = core.send_text(ANN, "hello")
    clock.now += 5.7
    reply = await send(core, "hi Ann")
    to_ben = await send(core, "hi Ben", chat_id=BEN)

    assert (first["message_id"], reply["message_id"], to_ben["message_id"]) == (1, 2, 1)
    assert first["date"] == int(START)
    assert reply["date"] == int(START + 5.7)


async def test_messages_carry_telegram_users_and_chats(core: BotApiCore) -> None:
    mine = core.send_text(ANN, "hello")
    sent = await send(core, "hi")

    assert mine["from"] == {
        "id": ANN,
        "is_bot": False,
        "first_name": "Ann",
        "username": "ann",
        "language_code": "en",
    }
    assert mine["chat"] == {"id": ANN, "type": "private", "first_name": "Ann", "username": "ann"}
    assert sent["from"] == {
        "id": 123,
        "is_bot": True,
        "first_name": "Appeals bot",
        "username": "appeals_bot",
    }
    assert "_deleted" not in sent
    assert core.last_message(ANN)["text"] == "hi"
    assert [m["text"] for m in core.bot_messages(ANN)] == ["hi"]


def test_commands_get_a_bot_command_entity(core: BotApiCore) -> None:
    assert core.send_text(ANN, "/start")["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert core.send_text(ANN, "/new@appeals_bot now")["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 16}
    ]
    assert "entities" not in core.send_text(ANN, "no command /here")


async def test_replies_embed_the_replied_message(core: BotApiCore) -> None:
    question = await send(core, "Which order?")
    answer = core.send_text(ANN, "#1234", reply_to=question["message_id"])
    quoted = await core.call(
        "sendMessage",
        {"chat_id": ANN, "text": "Got it", "reply_parameters": {"message_id": 2}},
    )

    assert answer["reply_to_message"]["text"] == "Which order?"
    assert quoted["reply_to_message"]["text"] == "#1234"
    assert "reply_to_message" not in quoted["reply_to_message"]
    missing = {"chat_id": ANN, "text": "x", "reply_parameters": {"message_id": 99}}
    assert await api_error(core, "sendMessage", missing) == (
        400,
        "Bad Request: message to be replied not found",
    )
    missing["reply_parameters"]["allow_sending_without_reply"] = True
    assert "reply_to_message" not in await core.call("sendMessage", missing)


async def test_group_chats(core: BotApiCore) -> None:
    core.add_group(-100, "Couriers")
    core.join_group(-100, ANN)
    said = core.send_text(ANN, "/start@appeals_bot", chat_id=-100)
    sent = await send(core, "hello group", chat_id=-100)

    assert said["chat"] == {"id": -100, "type": "group", "title": "Couriers"}
    assert sent["message_id"] == 2
    assert core.add_group(-1001234567890, "Big")["type"] == "supergroup"
    with pytest.raises(AssertionError, match="not in"):
        core.send_text(BEN, "hi", chat_id=-100)


async def test_parameters_may_arrive_as_form_strings(core: BotApiCore) -> None:
    sent = await core.call(
        "sendMessage",
        {"chat_id": str(ANN), "text": "pick", "reply_markup": json.dumps(YES_NO)},
    )
    assert core.inline_buttons(sent) == [("Yes", "yes"), ("No", "no")]
    assert await core.call("deleteMessage", {"chat_id": str(ANN), "message_id": "1"}) is True


async def test_update_ids_increase_and_an_offset_confirms_older_updates(core: BotApiCore) -> None:
    for text in ("one", "two", "three"):
        core.send_text(ANN, text)

    updates = await core.get_updates()
    assert [u["update_id"] for u in updates] == [1, 2, 3]
    assert updates[0]["message"]["text"] == "one"
    assert [u["update_id"] for u in await core.get_updates(limit=2)] == [1, 2]
    assert [u["update_id"] for u in await core.get_updates(offset=3)] == [3]
    assert [u["update_id"] for u in await core.get_updates()] == [3]
    assert await core.get_updates(offset=4) == []
    core.send_text(ANN, "four")
    assert [u["update_id"] for u in await core.get_updates()] == [4]


async def test_a_negative_offset_keeps_only_the_newest_updates(core: BotApiCore) -> None:
    for text in ("one", "two", "three"):
        core.send_text(ANN, text)

    assert [u["update_id"] for u in await core.get_updates(offset=-1)] == [3]
    assert [u["update_id"] for u in await core.get_updates()] == [3]


async def test_long_polling_wakes_up_when_an_update_arrives(core: BotApiCore) -> None:
    poll = asyncio.create_task(core.get_updates(timeout=60))
    for _ in range(5):
        await asyncio.sleep(0)  # turns for the poll to start waiting
    assert not poll.done()

    core.send_text(ANN, "wake up")
    # Well before the poll's own 60 s: the update woke it.
    updates = await asyncio.wait_for(poll, 10)

    assert [u["message"]["text"] for u in updates] == ["wake up"]


async def test_long_polling_times_out_with_no_updates(core: BotApiCore) -> None:
    poll = asyncio.create_task(core.get_updates(timeout=0.05))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not poll.done()  # it waits, rather than answering at once
    assert await asyncio.wait_for(poll, 10) == []


async def test_allowed_updates_decides_which_updates_are_created(core: BotApiCore) -> None:
    await send(core, "pick", reply_markup=YES_NO)
    await core.call("getUpdates", {"allowed_updates": ["callback_query"]})
    core.send_text(ANN, "ignored")
    core.press(ANN, "Yes")
    assert [list(u)[1] for u in core.take_updates()] == ["callback_query"]

    await core.get_updates(allowed_updates=[])
    core.send_text(ANN, "seen again")
    assert [u["message"]["text"] for u in core.take_updates()] == ["seen again"]


async def test_take_updates_drains_the_queue(core: BotApiCore) -> None:
    core.send_text(ANN, "one")
    core.send_text(BEN, "two")
    assert [u["update_id"] for u in core.take_updates()] == [1, 2]
    assert core.take_updates() == []
    assert await core.get_updates() == []


async def test_webhook_blocks_get_updates_until_deleted(core: BotApiCore) -> None:
    core.send_text(ANN, "pending")
    assert await core.call("setWebhook", {"url": "https://example.invalid/hook"}) is True
    info = await core.call("getWebhookInfo", {})
    assert (info["url"], info["pending_update_count"]) == ("https://example.invalid/hook", 1)
    code, description = await api_error(core, "getUpdates", {})
    assert code == 409 and description.startswith("Conflict: can't use getUpdates")

    await core.call("deleteWebhook", {"drop_pending_updates": True})
    assert await core.call("getUpdates", {"timeout": 0}) == []


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        ("sendMessage", {"chat_id": 999, "text": "x"}, "chat not found"),
        ("sendMessage", {"chat_id": ANN, "text": ""}, "message text is empty"),
        ("sendMessage", {"chat_id": ANN}, "message text is empty"),
        ("sendMessage", {"chat_id": ANN, "text": " \n "}, "message text is empty"),
        (
            "sendMessage",
            {"chat_id": ANN, "text": "<b></b>", "parse_mode": "HTML"},
            "message text is empty",
        ),
        ("sendMessage", {"chat_id": ANN, "text": "x" * 4097}, "message is too long"),
        ("sendMessage", {"chat_id": ANN, "text": "😀" * 2049}, "message is too long"),
        (
            "sendMessage",
            {"chat_id": ANN, "text": "<b>x" * 2 + "x" * 4095 + "</b></b>", "parse_mode": "HTML"},
            "message is too long",
        ),
        (
            "sendMessage",
            {"chat_id": ANN, "text": "<b>bold</i>", "parse_mode": "HTML"},
            'can\'t parse entities: Unmatched end tag at byte offset 7, expected "</b>", found "</i>"',
        ),
        (
            "sendMessage",
            {"chat_id": ANN, "text": "a<br>b", "parse_mode": "HTML"},
            'can\'t parse entities: Unsupported start tag "br" at byte offset 1',
        ),
        (
            "sendMessage",
            {"chat_id": ANN, "text": "<i>open", "parse_mode": "HTML"},
            "can't parse entities: Can't find end tag corresponding to start tag \"i\"",
        ),
        (
            "sendMessage",
            {"chat_id": ANN, "text": "*x*", "parse_mode": "MarkdownV2"},
            "can't parse entities: parse_mode MarkdownV2 is not supported by the sandbox; use HTML",
        ),
        (
            "sendMessage",
            {"chat_id": ANN, "text": "x", "parse_mode": "BBCode"},
            "unsupported parse_mode",
        ),
        (
            "sendMessage",
            {
                "chat_id": ANN,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "d" * 65}]]},
            },
            "BUTTON_DATA_INVALID",
        ),
        (
            "sendMessage",
            {
                "chat_id": ANN,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "ж" * 33}]]},
            },
            "BUTTON_DATA_INVALID",
        ),
        (
            "sendMessage",
            {"chat_id": ANN, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "A"}]]}},
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ),
        (
            "sendPhoto",
            {"chat_id": ANN, "photo": "https://example.invalid/p.jpg", "caption": "c" * 1025},
            "message caption is too long",
        ),
        ("sendPhoto", {"chat_id": ANN}, "there is no photo in the request"),
        (
            "sendPhoto",
            {"chat_id": ANN, "photo": "no-such-id"},
            "wrong file identifier/HTTP URL specified",
        ),
        (
            "editMessageText",
            {"chat_id": ANN, "message_id": 99, "text": "x"},
            "message to edit not found",
        ),
        ("deleteMessage", {"chat_id": ANN, "message_id": 99}, "message to delete not found"),
        (
            "answerCallbackQuery",
            {"callback_query_id": "nope"},
            "query is too old and response timeout expired or query ID is invalid",
        ),
        ("getFile", {"file_id": "nope"}, "invalid file_id"),
        (
            "sendChatAction",
            {"chat_id": ANN, "action": "dancing"},
            "wrong parameter action in request",
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "Start", "description": "go"}]},
            "BOT_COMMAND_INVALID",
        ),
    ],
)
async def test_bad_requests_read_like_telegram(core: BotApiCore, method: str, params: dict, description: str) -> None:
    assert await api_error(core, method, params) == (400, f"Bad Request: {description}")


async def test_limits_are_inclusive(core: BotApiCore) -> None:
    assert len((await send(core, "x" * 4096))["text"]) == 4096
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "ж" * 32}]]}
    assert (await send(core, "ok", reply_markup=markup))["reply_markup"] == markup


async def test_an_unknown_method_is_a_404_naming_it(core: BotApiCore) -> None:
    assert await api_error(core, "fooBar", {}) == (
        404,
        "Not Found: method 'fooBar' is not implemented by this Bot API server",
    )


async def test_a_blocked_user_makes_sends_fail_with_403(core: BotApiCore) -> None:
    core.block(ANN)
    forbidden = (403, "Forbidden: bot was blocked by the user")
    assert await api_error(core, "sendMessage", {"chat_id": ANN, "text": "hi"}) == forbidden
    assert await api_error(core, "sendChatAction", {"chat_id": ANN, "action": "typing"}) == (forbidden)
    assert await send(core, "still fine", chat_id=BEN)
    with pytest.raises(AssertionError, match="blocked"):
        core.send_text(ANN, "hi")

    core.unblock(ANN)
    assert (await send(core, "welcome back"))["text"] == "welcome back"


def test_api_error_serializes_like_telegram() -> None:
    assert ApiError(400, "Bad Request: chat not found").to_response() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat not found",
    }
    assert ApiError.too_many_requests(7).to_response() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }


async def test_edit_text_drops_the_keyboard_unless_it_is_repeated(core: BotApiCore, clock: FakeClock) -> None:
    sent = await send(core, "pick", reply_markup=YES_NO)
    clock.now += 3
    again = {"chat_id": ANN, "message_id": sent["message_id"], "text": "pick again"}
    edited = await core.call("editMessageText", {**again, "reply_markup": YES_NO})
    assert (edited["text"], edited["edit_date"], edited["reply_markup"]) == (
        "pick again",
        int(START + 3),
        YES_NO,
    )

    done = {"chat_id": ANN, "message_id": 1, "text": "<b>done</b>", "parse_mode": "HTML"}
    plain = await core.call("editMessageText", done)
    assert plain["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert "reply_markup" not in plain
    assert core.last_message(ANN)["text"] == "done"


async def test_results_and_stored_messages_share_nothing_with_the_caller(core: BotApiCore) -> None:
    """Mutating what went in, or what came back, leaves the chat as it was."""
    markup = json.loads(json.dumps(YES_NO))
    sent = await send(core, "pick", reply_markup=markup)
    markup["inline_keyboard"][0][0]["text"] = "changed by the caller"
    sent["reply_markup"]["inline_keyboard"][0][1]["text"] = "changed in the result"
    again = {"chat_id": ANN, "message_id": sent["message_id"], "text": "pick again", "reply_markup": markup}
    edited = await core.call("editMessageText", again)
    markup["inline_keyboard"][0][1]["text"] = "changed after the edit"
    edited["reply_markup"]["inline_keyboard"][0].clear()
    stored = core.last_message(ANN)["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in stored] == ["changed by the caller", "No"]


async def test_an_encoded_call_answers_with_the_json_of_a_call(core: BotApiCore) -> None:
    params = {"chat_id": ANN, "text": "<b>hi</b>", "parse_mode": "HTML", "reply_markup": YES_NO}
    body = json.loads(await core.call_encoded("sendMessage", params))
    assert body["ok"] is True
    assert body["result"] == {**(await core.call("sendMessage", params)), "message_id": 1}
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 2}]


async def test_an_edit_that_changes_nothing_is_refused(core: BotApiCore) -> None:
    await send(core, "pick", reply_markup=YES_NO)
    same = {"chat_id": ANN, "message_id": 1, "text": "pick", "reply_markup": YES_NO}
    assert await api_error(core, "editMessageText", same) == (
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    )
    markup_only = {"chat_id": ANN, "message_id": 1, "reply_markup": YES_NO}
    assert (await api_error(core, "editMessageReplyMarkup", markup_only))[0] == 400

    cleared = await core.call("editMessageReplyMarkup", {"chat_id": ANN, "message_id": 1})
    assert "reply_markup" not in cleared


async def test_edit_caption_and_what_cannot_be_edited(core: BotApiCore) -> None:
    photo = await core.call("sendPhoto", {"chat_id": ANN, "photo": "https://example.invalid/a.jpg", "caption": "old"})
    edited = await core.call(
        "editMessageCaption", {"chat_id": ANN, "message_id": photo["message_id"], "caption": "new"}
    )
    assert edited["caption"] == "new"

    await send(core, "text")
    core.send_text(ANN, "mine")
    assert await api_error(core, "editMessageCaption", {"chat_id": ANN, "message_id": 2, "caption": "x"}) == (
        400,
        "Bad Request: there is no caption in the message to edit",
    )
    assert await api_error(core, "editMessageText", {"chat_id": ANN, "message_id": 1, "text": "x"}) == (
        400,
        "Bad Request: there is no text in the message to edit",
    )
    assert await api_error(core, "editMessageText", {"chat_id": ANN, "message_id": 3, "text": "x"}) == (
        400,
        "Bad Request: message can't be edited",
    )


async def test_deleted_messages_leave_the_views_and_cannot_be_edited(core: BotApiCore) -> None:
    await send(core, "oops")
    await send(core, "fine")
    assert await core.call("deleteMessage", {"chat_id": ANN, "message_id": 1}) is True

    assert [m["text"] for m in core.messages(ANN)] == ["fine"]
    everything = core.messages(ANN, include_deleted=True)
    assert [(m["text"], m["_deleted"]) for m in everything] == [("oops", True), ("fine", False)]
    assert await api_error(core, "deleteMessage", {"chat_id": ANN, "message_id": 1}) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert await api_error(core, "editMessageText", {"chat_id": ANN, "message_id": 1, "text": "x"}) == (
        400,
        "Bad Request: message to edit not found",
    )


async def test_pressing_a_button_makes_a_callback_query(core: BotApiCore) -> None:
    sent = await send(core, "pick", reply_markup=YES_NO)
    query_id = core.press_button(ANN, sent["message_id"], "yes")

    [update] = core.take_updates()
    query = update["callback_query"]
    assert query["id"] == query_id
    assert query["from"]["id"] == ANN
    assert query["data"] == "yes"
    assert query["message"]["reply_markup"] == YES_NO
    assert query["chat_instance"]
    assert core.answered_callback(query_id) is None

    await core.call("answerCallbackQuery", {"callback_query_id": query_id, "text": "Saved"})
    assert core.answered_callback(query_id) == {"text": "Saved", "show_alert": False}
    code, description = await api_error(core, "answerCallbackQuery", {"callback_query_id": query_id})
    assert code == 400 and description.startswith("Bad Request: query is too old")


async def test_a_toast_over_200_units_is_refused_like_telegram(core: BotApiCore) -> None:
    """answerCallbackQuery takes at most 200 characters (an emoji counts two); a longer text is refused."""
    sent = await send(core, "pick", reply_markup=YES_NO)
    query_id = core.press_button(ANN, sent["message_id"], "yes")
    too_long = {"callback_query_id": query_id, "text": "😀" * 101}
    code, description = await api_error(core, "answerCallbackQuery", too_long)
    assert code == 400 and description == "Bad Request: MESSAGE_TOO_LONG"
    assert core.answered_callback(query_id) is None
    await core.call("answerCallbackQuery", {"callback_query_id": query_id, "text": "😀" * 100})
    assert core.answered_callback(query_id) == {"text": "😀" * 100, "show_alert": False}


async def test_callback_queries_expire_after_15_seconds(core: BotApiCore, clock: FakeClock) -> None:
    await send(core, "pick", reply_markup=YES_NO)
    in_time = core.press(ANN, "Yes")
    late = core.press(ANN, "No")
    clock.now += 15
    answer = {"callback_query_id": in_time, "show_alert": True}
    assert await core.call("answerCallbackQuery", answer) is True
    assert core.answered_callback(in_time) == {"text": None, "show_alert": True}
    clock.now += 1
    assert (await api_error(core, "answerCallbackQuery", {"callback_query_id": late}))[0] == 400


async def test_press_finds_the_newest_matching_button(core: BotApiCore) -> None:
    await send(core, "old", reply_markup=YES_NO)
    newer = {"inline_keyboard": [[{"text": "Yes, submit", "callback_data": "submit"}]]}
    await send(core, "new", reply_markup=newer)
    core.press(ANN, "Yes")
    assert core.take_updates()[0]["callback_query"]["data"] == "submit"

    with pytest.raises(AssertionError, match=r"'Maybe'.*\['Yes, submit', 'Yes', 'No'\]"):
        core.press(ANN, "Maybe")


async def test_forged_callback_data_can_be_pressed(core: BotApiCore) -> None:
    await send(core, "pick", reply_markup=YES_NO)
    core.press_button(ANN, 1, "admin:delete_everything")
    assert core.take_updates()[0]["callback_query"]["data"] == "admin:delete_everything"


async def test_a_reply_keyboard_stays_until_removed(core: BotApiCore) -> None:
    sent = await send(core, "Where are you?", reply_markup=LOCATION_KEYBOARD)
    assert "reply_markup" not in sent
    await send(core, "Still waiting")
    assert core.reply_keyboard(ANN) == LOCATION_KEYBOARD
    assert core.reply_keyboard(ANN)["keyboard"][0][0]["request_location"] is True
    assert core.reply_keyboard(BEN) is None

    await send(core, "Thanks", reply_markup={"remove_keyboard": True})
    assert core.reply_keyboard(ANN) is None


async def test_a_one_time_keyboard_goes_once_a_button_is_used(core: BotApiCore) -> None:
    await send(core, "Where?", reply_markup={**LOCATION_KEYBOARD, "one_time_keyboard": True})
    core.send_text(ANN, "typing something else")
    assert core.reply_keyboard(ANN) is not None

    core.share_location(ANN, 55.75, 37.62, horizontal_accuracy=20)
    assert core.reply_keyboard(ANN) is None

    await send(core, "Sure?", reply_markup={"keyboard": [["Cancel"]], "one_time_keyboard": True})
    core.send_text(ANN, "Cancel")
    assert core.reply_keyboard(ANN) is None


def test_html_becomes_text_and_entities() -> None:
    text, entities = parse_html(
        '<b>Appeal <i>#12</i></b> &lt;ok&gt; &amp; &quot;q&quot; 😀 <a href="https://x.invalid/?a=1&amp;b=2">link</a>'
    )
    assert text == 'Appeal #12 <ok> & "q" 😀 link'
    assert entities == [
        {"type": "bold", "offset": 0, "length": 10},
        {"type": "italic", "offset": 7, "length": 3},
        {"type": "text_link", "offset": 25, "length": 4, "url": "https://x.invalid/?a=1&b=2"},
    ]


def test_html_supports_every_documented_tag() -> None:
    text, entities = parse_html(
        "<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike><del>g</del>"
        '<code>h</code><tg-spoiler>i</tg-spoiler><span class="tg-spoiler">j</span>'
        "<blockquote>k</blockquote><blockquote expandable>l</blockquote>"
        '<pre><code class="language-python">m</code></pre><pre>n</pre>&#65;&#x42;'
    )
    assert text == "abcdefghijklmnAB"
    assert [(e["type"], e["offset"]) for e in entities] == [
        ("bold", 0),
        ("italic", 1),
        ("underline", 2),
        ("underline", 3),
        ("strikethrough", 4),
        ("strikethrough", 5),
        ("strikethrough", 6),
        ("code", 7),
        ("spoiler", 8),
        ("spoiler", 9),
        ("blockquote", 10),
        ("expandable_blockquote", 11),
        ("pre", 12),
        ("pre", 13),
    ]
    assert entities[12]["language"] == "python"
    assert "language" not in entities[13]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("ж<b", "Unclosed start tag at byte offset 2"),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        (
            "<a href=>x</a>",
            'Expected quote in declaration of an attribute of the tag "a" at byte offset 0',
        ),
    ],
)
def test_malformed_html_is_refused(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(markup)
    assert str(caught.value) == error


async def test_sent_html_is_trimmed_like_telegram(core: BotApiCore) -> None:
    sent = await send(core, "\n  <b>Hi</b> AT&T  \n", parse_mode="HTML")
    assert sent["text"] == "Hi AT&T"
    assert sent["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    explicit = [{"type": "italic", "offset": 0, "length": 2}]
    # Explicit entities win over parse_mode, so the markup is left alone.
    sent = await send(core, "Hi <b>", parse_mode="HTML", entities=explicit)
    assert (sent["text"], sent["entities"]) == ("Hi <b>", explicit)


async def test_a_users_photo_is_registered_and_downloadable(core: BotApiCore) -> None:
    message = core.send_photo(ANN, b"\xff\xd8jpeg-bytes", caption="my scooter")
    small, large = message["photo"]
    assert (small["width"], large["width"]) == (90, 800)
    assert large["file_size"] == len(b"\xff\xd8jpeg-bytes")
    assert small["file_id"] != large["file_id"]
    assert message["caption"] == "my scooter"

    file = await core.call("getFile", {"file_id": large["file_id"]})
    assert file["file_unique_id"] == large["file_unique_id"]
    assert file["file_path"].startswith("photos/file_") and file["file_path"].endswith(".jpg")
    assert core.file_bytes(file["file_path"]) == b"\xff\xd8jpeg-bytes"


async def test_a_users_document_and_voice_get_their_own_folders(core: BotApiCore) -> None:
    document = core.send_document(ANN, b"%PDF", "receipt.pdf", "application/pdf")["document"]
    voice = core.send_voice(ANN, b"OggS", duration=4)["voice"]
    assert (document["file_name"], document["mime_type"]) == ("receipt.pdf", "application/pdf")
    assert (voice["duration"], voice["mime_type"]) == (4, "audio/ogg")

    document_file = await core.call("getFile", {"file_id": document["file_id"]})
    voice_file = await core.call("getFile", {"file_id": voice["file_id"]})
    assert document_file["file_path"].startswith("documents/")
    assert document_file["file_path"].endswith(".pdf")
    assert voice_file["file_path"].startswith("voice/")
    assert core.file_bytes(voice_file["file_path"]) == b"OggS"


async def test_the_bot_sends_uploads_file_ids_and_urls(core: BotApiCore) -> None:
    upload = {"document": ("report.pdf", b"%PDF-1.7", "application/pdf")}
    first = await core.call("sendDocument", {"chat_id": ANN, "caption": "report"}, upload)
    document = first["document"]
    assert (document["file_name"], document["file_size"], first["caption"]) == (
        "report.pdf",
        8,
        "report",
    )

    again = await core.call("sendDocument", {"chat_id": BEN, "document": document["file_id"]})
    assert again["document"] == document

    attached = {"attachedX": ("p.jpg", b"jpeg", "image/jpeg")}
    photo = await core.call("sendPhoto", {"chat_id": ANN, "photo": "attach://attachedX"}, attached)
    assert photo["photo"][-1]["file_size"] == 4

    url = "https://example.invalid/x.png"
    by_url = await core.call("sendPhoto", {"chat_id": ANN, "photo": url})
    url_file = await core.call("getFile", {"file_id": by_url["photo"][-1]["file_id"]})
    assert "file_path" not in url_file and "file_size" not in by_url["photo"][-1]

    mismatch = {"chat_id": ANN, "document": photo["photo"][-1]["file_id"]}
    assert await api_error(core, "sendDocument", mismatch) == (
        400,
        "Bad Request: type of file mismatch",
    )
    empty = {"voice": ("v.ogg", b"", "audio/ogg")}
    assert await api_error(core, "sendVoice", {"chat_id": ANN}, empty) == (
        400,
        "Bad Request: file must be non-empty",
    )


async def test_fail_next_injects_errors_then_recovers(core: BotApiCore) -> None:
    core.fail_next("sendMessage", ApiError.too_many_requests(3), times=2)
    core.fail_next(None, ApiError(500, "Internal Server Error"))

    with pytest.raises(ApiError) as caught:
        await send(core, "one")
    assert (caught.value.error_code, caught.value.retry_after) == (429, 3)
    assert (await api_error(core, "getMe", {}))[0] == 500
    assert (await api_error(core, "SENDMESSAGE", {"chat_id": ANN, "text": "two"}))[0] == 429
    assert (await send(core, "three"))["message_id"] == 1
    methods = [method for method, _ in core.calls]
    assert methods == ["sendMessage", "getMe", "sendMessage", "sendMessage"]


async def test_method_names_are_case_insensitive_and_recorded(core: BotApiCore) -> None:
    me = await core.call("GETME")
    assert (me["id"], me["is_bot"], me["username"]) == (123, True, "appeals_bot")
    await core.call("sendmessage", {"chat_id": ANN, "text": "hi"})
    assert core.calls == [("getMe", {}), ("sendMessage", {"chat_id": ANN, "text": "hi"})]


async def test_commands_menu_chat_and_actions(core: BotApiCore) -> None:
    commands = [{"command": "start", "description": "Start"}]
    ru = {"language_code": "ru"}
    assert await core.call("setMyCommands", {"commands": commands}) is True
    assert await core.call("setMyCommands", {"commands": commands[:0], **ru}) is True
    assert await core.call("getMyCommands", {}) == commands
    assert await core.call("getMyCommands", ru) == []
    await core.call("deleteMyCommands", {})
    assert await core.call("getMyCommands", {}) == []

    await core.call("setChatMenuButton", {"menu_button": {"type": "commands"}})
    assert await core.call("getChatMenuButton", {"chat_id": ANN}) == {"type": "commands"}
    assert await core.call("sendChatAction", {"chat_id": ANN, "action": "typing"}) is True
    chat = await core.call("getChat", {"chat_id": ANN})
    assert (chat["id"], chat["type"], chat["first_name"]) == (ANN, "private", "Ann")
    assert await core.call("logOut") is True and await core.call("close") is True


async def test_locations_venues_and_contacts(core: BotApiCore) -> None:
    location = await core.call("sendLocation", {"chat_id": ANN, "latitude": 1.5, "longitude": 2})
    venue = await core.call(
        "sendVenue",
        {"chat_id": ANN, "latitude": 1, "longitude": 2, "title": "Hub", "address": "Main St 1"},
    )
    contact = await core.call("sendContact", {"chat_id": ANN, "phone_number": "+100", "first_name": "Support"})
    shared = core.share_contact(ANN, "+200", "Ann", contact_user_id=ANN)

    assert location["location"] == {"latitude": 1.5, "longitude": 2.0}
    assert venue["venue"]["title"] == "Hub" and venue["location"] == venue["venue"]["location"]
    assert contact["contact"] == {"phone_number": "+100", "first_name": "Support"}
    assert shared["contact"]["user_id"] == ANN
