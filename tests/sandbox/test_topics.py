"""The fake Bot API's forum topics and a bot removed from a group, in Telegram's shapes and words."""

from __future__ import annotations

import pytest

from sandbox.core import ApiError, BotApiCore

ANN = 42
FORUM = -1001234567890
PLAIN = -1001234567891


@pytest.fixture
def core() -> BotApiCore:
    core = BotApiCore(bot_id=123, clock=lambda: 1_700_000_000.0)
    core.add_user(ANN, "Ann")
    core.add_group(FORUM, "Desk", forum=True)
    core.add_group(PLAIN, "Chat")
    for group in (FORUM, PLAIN):
        core.join_group(group, ANN)
    return core


async def error_of(core: BotApiCore, method: str, params: dict) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        await core.call(method, params)
    return caught.value.error_code, caught.value.description


async def test_a_topic_is_opened_written_in_renamed_and_deleted(core: BotApiCore) -> None:
    assert core.chat_info(FORUM)["is_forum"] is True and "is_forum" not in core.chat_info(PLAIN)
    topic = await core.call("createForumTopic", {"chat_id": FORUM, "name": "#1 待签收"})
    thread = topic["message_thread_id"]
    assert topic == {"message_thread_id": thread, "name": "#1 待签收", "icon_color": 7322096}
    # The topic's id is the id of the service message that opened it.
    opened = core.messages(FORUM)[-1]
    assert (opened["message_id"], opened["forum_topic_created"]["name"]) == (thread, "#1 待签收")

    sent = await core.call("sendMessage", {"chat_id": FORUM, "text": "card", "message_thread_id": thread})
    assert (sent["message_thread_id"], sent["is_topic_message"]) == (thread, True)
    reply = await core.call("sendMessage", {"chat_id": FORUM, "text": "news", "reply_parameters": {"message_id": 2}})
    assert reply["message_thread_id"] == thread  # a reply goes into its message's topic

    assert await core.call("editForumTopic", {"chat_id": FORUM, "message_thread_id": thread, "name": "#1 已签收"})
    assert core.topics(FORUM)[0]["name"] == "#1 已签收"
    assert core.messages(FORUM)[-1]["forum_topic_edited"] == {"name": "#1 已签收"}

    assert await core.call("deleteForumTopic", {"chat_id": FORUM, "message_thread_id": thread})
    assert core.topics(FORUM) == [] and core.messages(FORUM) == []
    gone = {"chat_id": FORUM, "text": "late news", "message_thread_id": thread}
    assert await error_of(core, "sendMessage", gone) == (400, "Bad Request: message thread not found")
    renamed = {"chat_id": FORUM, "message_thread_id": thread, "name": "x"}
    assert await error_of(core, "editForumTopic", renamed) == (400, "Bad Request: TOPIC_DELETED")
    unknown = {"chat_id": FORUM, "message_thread_id": 999, "name": "x"}
    assert await error_of(core, "editForumTopic", unknown) == (400, "Bad Request: TOPIC_ID_INVALID")


async def test_topics_need_a_forum_and_a_name(core: BotApiCore) -> None:
    assert await error_of(core, "createForumTopic", {"chat_id": PLAIN, "name": "x"}) == (
        400,
        "Bad Request: the chat is not a forum",
    )
    assert await error_of(core, "createForumTopic", {"chat_id": FORUM, "name": "x" * 129}) == (
        400,
        "Bad Request: TOPIC_NAME_INVALID",
    )
    # Outside a forum a thread id names no topic and is ignored.
    sent = await core.call("sendMessage", {"chat_id": PLAIN, "text": "hi", "message_thread_id": 5})
    assert "message_thread_id" not in sent


async def test_a_bot_removed_from_a_group_is_told_and_can_no_longer_send(core: BotApiCore) -> None:
    core.remove_bot(PLAIN, by_user=ANN)
    (update,) = core.take_updates()
    change = update["my_chat_member"]
    assert change["chat"]["id"] == PLAIN and change["from"]["id"] == ANN
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == ("member", "kicked")
    assert change["new_chat_member"]["user"]["id"] == 123
    assert await error_of(core, "sendMessage", {"chat_id": PLAIN, "text": "hi"}) == (
        403,
        "Forbidden: bot was kicked from the supergroup chat",
    )
