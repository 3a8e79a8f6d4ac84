"""The fake Bot API's sendMediaGroup: albums of 2-10 photos or documents, checked as Telegram checks them."""

from __future__ import annotations

import json

import pytest

from sandbox.core import ApiError, BotApiCore

ANN = 42


@pytest.fixture
def core() -> BotApiCore:
    core = BotApiCore(bot_id=123, clock=lambda: 1_700_000_000.0)
    core.add_user(ANN, "Ann", language_code="en")
    return core


def photo_ids(core: BotApiCore, count: int) -> list[str]:
    """Photos Ann sent, as the bot would know them (the full size of each)."""
    return [core.send_photo(ANN, f"photo {i}".encode())["photo"][-1]["file_id"] for i in range(count)]


async def error_of(core: BotApiCore, media: object, **params: object) -> str:
    with pytest.raises(ApiError) as caught:
        await core.call("sendMediaGroup", {"chat_id": ANN, "media": media, **params})
    assert caught.value.error_code == 400
    return caught.value.description


async def test_an_album_is_one_message_per_item_with_a_shared_group_id(core) -> None:
    """Known file ids, the media as a JSON string (as a form sends it), the caption on the first item."""
    ids = photo_ids(core, 3)
    media = [
        {"type": "photo", "media": ids[0], "caption": "Appeal #7"},
        *({"type": "photo", "media": i} for i in ids[1:]),
    ]
    sent = await core.call("sendMediaGroup", {"chat_id": ANN, "media": json.dumps(media)})
    assert [m["message_id"] for m in sent] == [4, 5, 6]
    assert len({m["media_group_id"] for m in sent}) == 1
    assert sent[0]["caption"] == "Appeal #7" and "caption" not in sent[1]
    assert [m["photo"][-1]["file_id"] for m in sent] == ids
    assert core.bot_messages(ANN) == [{**m, "_deleted": False} for m in sent]


async def test_uploaded_documents_make_an_album(core) -> None:
    """Files uploaded with the call are named by attach://."""
    media = [{"type": "document", "media": "attach://a"}, {"type": "document", "media": "attach://b"}]
    files = {"a": ("a.pdf", b"%PDF a", "application/pdf"), "b": ("b.pdf", b"%PDF b", "application/pdf")}
    sent = await core.call("sendMediaGroup", {"chat_id": ANN, "media": media}, files)
    assert [m["document"]["file_name"] for m in sent] == ["a.pdf", "b.pdf"]


async def test_what_telegram_refuses(core) -> None:
    """One item or eleven, a document among photos, a caption over 1024 characters, an unknown file."""
    ids = photo_ids(core, 11)
    photos = [{"type": "photo", "media": i} for i in ids]
    assert "wrong number of media items" in await error_of(core, photos[:1])
    assert "wrong number of media items" in await error_of(core, photos)
    document = {"type": "document", "media": "attach://d"}
    assert await error_of(core, [photos[0], document]) == "Bad Request: document can't be mixed with other media types"
    long_caption = [{**photos[0], "caption": "x" * 1025}, photos[1]]
    assert await error_of(core, long_caption) == "Bad Request: message caption is too long"
    assert "wrong file identifier" in await error_of(core, [photos[0], {"type": "photo", "media": "no-such-file"}])
    assert "media to send are not specified" in await error_of(core, None)
    assert "can't parse media JSON object" in await error_of(core, "{not json")
    assert await error_of(core, [photos[0], {"type": "voice", "media": ids[1]}]) == (
        "Bad Request: can't parse InputMedia: unsupported media type"
    )
    # Nothing was stored by a refused call.
    assert core.bot_messages(ANN) == []
