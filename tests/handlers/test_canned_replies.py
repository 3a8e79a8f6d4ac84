"""Canned replies (常用回复): a unit's reply templates, from the config or added with /replies, offered by
Ask the courier, Note and Resolve to the unit's own staff only; sent as they are or replaced by what is typed;
every press is checked again against the database."""

import pytest

from bot.config import ConfigError, parse_config
from domain.canned_replies import MAX_REPLIES, MAX_REPLY
from handlers import callbacks
from handlers.callbacks import AppealVerb, CannedVerb, Family
from handlers.telegram_text import TEXT, said, units
from storage.canned_replies import Source
from tests.harness import running_bot
from tests.helpers import press_data, submit_appeal

COURIER, ZH_COURIER, HR_STAFF, ZH_HR_STAFF, ST1_STAFF, COORDINATOR = 1001, 1002, 600, 601, 500, 900
WAGES = "Bring your labour contract and wage slips to the labour inspection window, Room 102, weekdays 9:00-17:00."
CALL = "We have called the platform and asked it to pay within 3 working days; we will tell you the result."
ZH_WAGES = "请携带劳动合同、工资流水到区劳动保障监察大队窗口（102室）反映，工作日9:00-17:00受理。"

UNITS = [
    {"id": "st1", "kind": "station", "zh": "一号驿站", "en": "Station One", "staff": [500, 501]},
    {"id": "hr", "kind": "department", "zh": "人社局", "en": "HR Bureau", "staff": [HR_STAFF, ZH_HR_STAFF]},
]


def units_with(hr_replies: list[str]) -> list[dict]:
    return [UNITS[0], {**UNITS[1], "replies": hr_replies}]


@pytest.fixture
async def bot(tmp_path):
    async with running_bot(tmp_path / "canned.sqlite3", units=units_with([WAGES, CALL])) as running:
        for person, lang in (
            (COURIER, "en"),
            (ZH_COURIER, "zh"),
            (HR_STAFF, "en"),
            (ZH_HR_STAFF, "zh"),
            (ST1_STAFF, "en"),
            (COORDINATOR, "en"),
        ):
            running.user(person, f"P{person}", language_code=lang)
            await running.say(person, "/start")
        yield running


def labels(bot, message: dict) -> list[str]:
    return [label for label, _ in bot.core.inline_buttons(message)]


def newest(bot, person: int) -> dict:
    return bot.core.bot_messages(person)[-1]


async def accepted(bot, staff: int = HR_STAFF, courier: int = COURIER) -> int:
    """An appeal with the HR Bureau, accepted by `staff`."""
    number = await submit_appeal(bot, courier)
    await bot.say(staff, f"/open {number}")
    await bot.press(staff, bot.services.text("zh" if staff == ZH_HR_STAFF else "en", "button.accept"))
    return number


async def ledger_notes(bot, number: int) -> list[tuple[str, str | None]]:
    return [(str(e.event), e.note) for e in await bot.services.storage.appeals.ledger(number)]


async def test_ask_offers_the_units_replies_and_send_as_is_reaches_the_courier(bot) -> None:
    """Ask the courier: the question lists the unit's replies as buttons (their start); one pressed is shown
    whole with Send as is and Cancel; Send as is asks the courier exactly that text."""
    number = await accepted(bot)
    await bot.press(HR_STAFF, "Ask the courier")
    question = newest(bot, HR_STAFF)
    assert question["text"] == (
        f"Appeal #{number}: write your question for the courier.\n\nOr tap one of your unit's canned replies to use it:"
    )
    assert labels(bot, question) == ["1. Bring your labour contract…", "2. We have called the platform…", "Cancel"]

    await bot.press(HR_STAFF, "1. ")
    shown = newest(bot, HR_STAFF)
    assert shown["text"] == (
        f"Canned reply 1:\n\n{WAGES}\n\nTap “Send as is” to send it like this. To change it, copy the text above,"
        " edit it and send it to me: what you send is used instead."
    )
    assert labels(bot, shown) == ["Send as is", "Cancel"]

    await bot.press(HR_STAFF, "Send as is")
    assert bot.last_text(HR_STAFF) == (
        f"Question on appeal #{number} sent to the courier. The deadline is paused until the courier answers."
    )
    assert labels(bot, bot.core.messages(HR_STAFF)[shown["message_id"] - 1]) == []
    assert labels(bot, bot.core.messages(HR_STAFF)[question["message_id"] - 1]) == []
    assert (await ledger_notes(bot, number))[-1] == ("ask", WAGES)
    assert bot.last_text(COURIER) == (f"A question about appeal #{number} from the unit (HR Bureau):{said(WAGES)}")
    assert await bot.services.storage.dialogs.prompt(HR_STAFF) is None


async def test_typing_replaces_the_reply_shown(bot) -> None:
    """A reply shown is only offered: what the worker types instead is what is sent; picking another reply
    takes the first one's buttons away."""
    number = await accepted(bot)
    await bot.press(HR_STAFF, "Note")
    await bot.press(HR_STAFF, "1. ")
    first = newest(bot, HR_STAFF)
    await bot.press(HR_STAFF, "2. ")
    second = newest(bot, HR_STAFF)
    assert second["text"].startswith(f"Canned reply 2:\n\n{CALL}\n\n")
    assert labels(bot, bot.core.messages(HR_STAFF)[first["message_id"] - 1]) == []

    edited = CALL.replace("3 working days", "2 working days")
    await bot.say(HR_STAFF, edited)
    assert bot.last_text(HR_STAFF) == f"Note on appeal #{number} sent to the courier."
    assert (await ledger_notes(bot, number))[-1] == ("note", edited)
    assert bot.last_text(COURIER) == f"Progress on appeal #{number} from the unit (HR Bureau):{said(edited)}"
    assert labels(bot, bot.core.messages(HR_STAFF)[second["message_id"] - 1]) == []


async def test_resolve_in_chinese_sends_the_reply_after_its_confirmation(bot) -> None:
    """办结: the reply chosen is shown, then confirmed like a typed result (a resolution is final)."""
    await bot.services.storage.canned_replies.add("hr", ZH_WAGES, bot.clock())
    number = await accepted(bot, ZH_HR_STAFF, ZH_COURIER)
    await bot.press(ZH_HR_STAFF, "办结")
    question = newest(bot, ZH_HR_STAFF)
    assert question["text"] == (
        f"诉求 #{number}：请填写办理结果，说明采取了哪些措施。诉求人将看到这段内容。\n\n也可点选本单位的常用回复："
    )
    assert labels(bot, question)[2:] == ["3. 请携带劳动合同、工资流水到区劳动保障监察大队窗口（10…", "取消"]
    await bot.press(ZH_HR_STAFF, "3. ")
    assert bot.last_text(ZH_HR_STAFF) == (
        f"常用回复第3条：\n\n{ZH_WAGES}\n\n如无需修改，请点“原样发送”作为办理结果（下一步确认）；如需修改，"
        "可复制上面的文字，改好后发给我，以您发送的内容为准。"
    )
    assert labels(bot, newest(bot, ZH_HR_STAFF)) == ["原样发送", "取消"]
    await bot.press(ZH_HR_STAFF, "原样发送")
    shown_back = newest(bot, ZH_HR_STAFF)
    assert shown_back["text"].startswith(f"确认按以下结果办结诉求 #{number}？")
    assert (await ledger_notes(bot, number))[-1][0] == "accept"  # nothing final before the confirmation
    await bot.press(ZH_HR_STAFF, bot.services.text("zh", "confirm.button_resolve"))
    assert (await ledger_notes(bot, number))[-1] == ("resolve", ZH_WAGES)
    assert ZH_WAGES in bot.last_text(ZH_COURIER)


async def test_cancel_always_works(bot) -> None:
    """Cancel under a reply shown ends the question; its buttons are dead afterwards."""
    number = await accepted(bot)
    await bot.press(HR_STAFF, "Ask the courier")
    question = newest(bot, HR_STAFF)
    await bot.press(HR_STAFF, "1. ")
    await bot.press(HR_STAFF, "Cancel")
    assert bot.last_text(HR_STAFF) == "Cancelled. Nothing was changed."
    assert await bot.services.storage.dialogs.prompt(HR_STAFF) is None
    reply_id = (await bot.services.storage.canned_replies.of_unit("hr"))[0].id
    query = bot.core.press_button(
        HR_STAFF, question["message_id"], callbacks.appeal(number, AppealVerb.CANNED, str(reply_id))
    )
    await bot.deliver()
    assert bot.core.answered_callback(query)["text"] == (
        "This question is no longer open; press the button on the appeal's card again."
    )
    assert (await ledger_notes(bot, number))[-1][0] == "accept"


async def test_coordinators_and_other_kinds_of_question_see_no_replies(bot) -> None:
    """A coordinator's Note speaks in their own name: no unit's replies. Send back asks its reason plainly."""
    number = await accepted(bot)
    await bot.say(COORDINATOR, f"/open {number}")
    await bot.press(COORDINATOR, "Note")
    assert labels(bot, newest(bot, COORDINATOR)) == ["Cancel"]
    assert "canned" not in newest(bot, COORDINATOR)["text"]

    other = await submit_appeal(bot, COURIER)
    await bot.say(HR_STAFF, f"/open {other}")
    await bot.press(HR_STAFF, "Send back")
    assert labels(bot, newest(bot, HR_STAFF)) == ["Cancel"]


async def test_forged_presses_are_refused(bot) -> None:
    """Callback data carries only an id: another unit's staff, a courier and a coordinator are refused, and
    a unit's worker cannot use another unit's reply on their own appeal."""
    number = await accepted(bot)
    hr_reply = (await bot.services.storage.canned_replies.of_unit("hr"))[0].id
    data = callbacks.appeal(number, AppealVerb.CANNED, str(hr_reply))
    for person in (ST1_STAFF, COURIER):
        query = await press_data(bot, person, data)
        assert bot.core.answered_callback(query)["show_alert"], person
    query = await press_data(bot, ST1_STAFF, callbacks.appeal(number, AppealVerb.CANNED_SEND, str(hr_reply)))
    assert bot.core.answered_callback(query)["text"] == "That appeal does not exist, or you may not see it."
    query = await press_data(bot, COORDINATOR, data)
    assert bot.core.answered_callback(query) == {
        "text": "Canned replies are your unit's own: only its staff can use them on its appeals.",
        "show_alert": True,
    }

    # Station One's worker, asking on their own appeal, forges the HR Bureau's reply.
    own = await submit_appeal(bot, COURIER, category="facilities", unit="st1")
    await bot.say(ST1_STAFF, f"/open {own}")
    await bot.press(ST1_STAFF, "Accept")
    await bot.press(ST1_STAFF, "Ask the courier")
    assert labels(bot, newest(bot, ST1_STAFF)) == ["Cancel"]  # Station One has none
    query = await press_data(bot, ST1_STAFF, callbacks.appeal(own, AppealVerb.CANNED, str(hr_reply)))
    assert bot.core.answered_callback(query)["text"].startswith("Canned replies are your unit's own")
    query = await press_data(bot, ST1_STAFF, callbacks.appeal(own, AppealVerb.CANNED_SEND, str(hr_reply)))
    assert bot.core.answered_callback(query)["text"].startswith("Canned replies are your unit's own")
    assert (await ledger_notes(bot, own))[-1][0] == "accept"
    assert (await ledger_notes(bot, number))[-1][0] == "accept"


async def test_send_as_is_only_from_the_reply_shown_now(bot) -> None:
    """Send as is pressed with the question open but no reply shown in that message acts on nothing."""
    number = await accepted(bot)
    await bot.press(HR_STAFF, "Ask the courier")
    reply_id = (await bot.services.storage.canned_replies.of_unit("hr"))[1].id
    query = await press_data(bot, HR_STAFF, callbacks.appeal(number, AppealVerb.CANNED_SEND, str(reply_id)))
    assert bot.core.answered_callback(query)["text"].startswith("This question is no longer open")
    assert (await ledger_notes(bot, number))[-1][0] == "accept"


async def test_replies_lists_adds_and_deletes_after_asking(bot) -> None:
    """/replies: the config's replies (not deletable here) and the unit's own, each of theirs with Delete;
    Add takes the next text; Delete asks first; Keep keeps it."""
    (listed,) = await bot.say(HR_STAFF, "/replies")
    assert listed["text"] == (
        "Canned replies of HR Bureau (2 of at most 10). Ask the courier, Note and Resolve offer them as buttons;"
        " you can send one as it is or change it first.\n\n"
        f"1. {WAGES}\n(from the bot's settings: only its administrator can change it)\n\n"
        f"2. {CALL}\n(from the bot's settings: only its administrator can change it)"
    )
    assert labels(bot, listed) == ["Add a reply", "Close"]

    await bot.press(HR_STAFF, "Add a reply")
    assert bot.last_text(HR_STAFF) == (
        "Send the text of the new canned reply, as the courier should read it (at most 500 characters)."
    )
    (too_long,) = await bot.say(HR_STAFF, "x" * (MAX_REPLY + 1))
    assert too_long["text"] == "That text has 501 characters; a canned reply has at most 500. Send a shorter one."
    (added,) = await bot.say(HR_STAFF, "  Please send a photo of the gate.  ")
    assert added["text"].startswith("Added as canned reply 3. Ask the courier, Note and Resolve now offer it.\n\n")
    assert "3. Please send a photo of the gate." in added["text"]
    assert labels(bot, added) == ["Delete 3", "Add a reply", "Close"]
    stored = await bot.services.storage.canned_replies.of_unit("hr")
    assert [(r.text, r.source) for r in stored][2] == ("Please send a photo of the gate.", Source.STAFF)

    # The same text again is refused; a later text is not taken as a reply.
    await bot.press(HR_STAFF, "Add a reply")
    (again,) = await bot.say(HR_STAFF, "Please send a photo of the gate.")
    assert again["text"] == "HR Bureau already has this canned reply."
    assert len(await bot.services.storage.canned_replies.of_unit("hr")) == 3

    # Delete asks first, naming the reply; Keep keeps it.
    await bot.say(HR_STAFF, "/replies")
    await bot.press(HR_STAFF, "Delete 3")
    assert bot.last_text(HR_STAFF) == (
        "Delete canned reply 3? Ask the courier, Note and Resolve will no longer offer it.\n\n"
        "Please send a photo of the gate."
    )
    assert labels(bot, newest(bot, HR_STAFF)) == ["Delete it", "Keep it"]
    await bot.press(HR_STAFF, "Keep it")
    assert bot.last_text(HR_STAFF).startswith("Kept. Nothing was deleted.\n\nCanned replies of HR Bureau (3 of")
    assert len(await bot.services.storage.canned_replies.of_unit("hr")) == 3
    await bot.press(HR_STAFF, "Delete 3")
    confirm = newest(bot, HR_STAFF)
    await bot.press(HR_STAFF, "Delete it")
    assert bot.last_text(HR_STAFF).startswith("Deleted. HR Bureau has 2 canned replies left.\n\nCanned replies of")
    assert len(await bot.services.storage.canned_replies.of_unit("hr")) == 2
    # The confirmation pressed again (a double tap) deletes nothing more.
    query = bot.core.press_button(HR_STAFF, confirm["message_id"], bot.core.inline_buttons(confirm)[0][1])
    await bot.deliver()
    assert bot.core.answered_callback(query)["show_alert"]
    assert len(await bot.services.storage.canned_replies.of_unit("hr")) == 2


async def test_replies_in_chinese_and_refusals(bot) -> None:
    """The list and its buttons in Chinese; a courier's /replies and forged presses are refused, and another
    unit's staff cannot delete the HR Bureau's reply."""
    added = await bot.services.storage.canned_replies.add("hr", ZH_WAGES, bot.clock())
    (listed,) = await bot.say(ZH_HR_STAFF, "/replies")
    assert listed["text"].startswith("人社局的常用回复（3条，最多10条）。在“询问诉求人”“备注进展”“办结”时可点选，")
    assert f"3. {ZH_WAGES}" in listed["text"] and "（系统配置，仅管理员可修改）" in listed["text"]
    assert labels(bot, listed) == ["删除第3条", "新增常用回复", "关闭"]
    await bot.press(ZH_HR_STAFF, "删除第3条")
    assert bot.last_text(ZH_HR_STAFF).startswith("确定删除第3条常用回复吗？")
    assert labels(bot, newest(bot, ZH_HR_STAFF)) == ["确定删除", "保留"]
    await bot.press(ZH_HR_STAFF, "保留")

    (refused,) = await bot.say(COURIER, "/replies")
    assert refused["text"] == "This command is for station and department staff."
    for person in (COURIER, COORDINATOR):
        query = await press_data(bot, person, callbacks.encode(Family.CANNED, CannedVerb.ADD))
        assert bot.core.answered_callback(query)["show_alert"], person
    data = callbacks.encode(Family.CANNED, CannedVerb.DELETE_CONFIRMED, str(added.id))
    query = await press_data(bot, ST1_STAFF, data)
    assert bot.core.answered_callback(query) == {
        "text": "Canned replies are your unit's own: only its staff can use them on its appeals.",
        "show_alert": True,
    }
    assert len(await bot.services.storage.canned_replies.of_unit("hr")) == 3


async def test_a_full_unit_cannot_add_more(bot) -> None:
    """At MAX_REPLIES the list offers no Add; a reply asked for before it filled up is refused, saying why."""
    await bot.say(HR_STAFF, "/replies")
    await bot.press(HR_STAFF, "Add a reply")
    for index in range(MAX_REPLIES - 2):
        await bot.services.storage.canned_replies.add("hr", f"Reply {index}", bot.clock())
    (full,) = await bot.say(HR_STAFF, "One more")
    assert full["text"] == "HR Bureau already has 10 canned replies. Delete one with /replies before adding another."
    (listed,) = await bot.say(HR_STAFF, "/replies")
    assert "Add a reply" not in labels(bot, listed)


async def test_the_longest_reply_reaches_the_courier_whole_within_telegrams_limit(bot) -> None:
    """A reply of the most characters, sent as a note, is in the courier's notice whole, in one message."""
    longest = ("工资" * MAX_REPLY)[:MAX_REPLY]
    await bot.services.storage.canned_replies.add("hr", longest, bot.clock())
    number = await accepted(bot, ZH_HR_STAFF, ZH_COURIER)
    await bot.press(ZH_HR_STAFF, "备注进展")
    await bot.press(ZH_HR_STAFF, "3. ")
    assert units(bot.last_text(ZH_HR_STAFF)) <= TEXT
    await bot.press(ZH_HR_STAFF, "原样发送")
    notice = bot.last_text(ZH_COURIER)
    assert longest in notice.replace("\n│ ", "").replace("│ ", "") and units(notice) <= TEXT
    assert (await ledger_notes(bot, number))[-1] == ("note", longest)


async def test_the_configs_replies_follow_the_config_across_restarts(tmp_path) -> None:
    """A reply the config keeps keeps its id (a button offered before a restart still works); one it
    drops is gone; the staff's own stay."""
    path = tmp_path / "restart.sqlite3"
    async with running_bot(path, units=units_with([WAGES, CALL])) as bot:
        kept = (await bot.services.storage.canned_replies.of_unit("hr"))[0]
        await bot.services.storage.canned_replies.add("hr", "Our own", bot.clock())
    async with running_bot(path, units=units_with([WAGES, "A new one"])) as bot:
        replies = await bot.services.storage.canned_replies.of_unit("hr")
    assert [(r.text, r.source) for r in replies] == [
        (WAGES, Source.CONFIG),
        ("A new one", Source.CONFIG),
        ("Our own", Source.STAFF),
    ]
    assert replies[0].id == kept.id


@pytest.mark.parametrize(
    ("replies", "problem"),
    [
        (["  "], "units[1].replies[0]: a reply cannot be empty"),
        (["ok", "x" * (MAX_REPLY + 1)], "units[1].replies[1]: a reply is at most 500 characters; this one has 501"),
        ([f"r{i}" for i in range(MAX_REPLIES + 1)], "units[1].replies: List should have at most 10 items"),
        (["Same", " Same "], "units[1].replies: the reply 'Same' is listed twice"),
        ([3], "units[1].replies[0]: Input should be a valid string"),
    ],
)
def test_the_config_checks_its_replies(replies, problem) -> None:
    """Empty, too long, too many, repeated or not text: check-config names the reply and why."""
    with pytest.raises(ConfigError) as error:
        parse_config({"units": units_with(replies)}, "test", environ={})
    assert any(str(p).startswith(problem) for p in error.value.problems), error.value.problems


def test_the_config_keeps_replies_trimmed() -> None:
    """Spaces and blank lines around a reply are not part of it."""
    config = parse_config({"units": units_with(["\n  Come to window 3.  \n"])}, "test", environ={})
    assert config.units[1].replies == ["Come to window 3."]


async def test_a_reply_too_thin_for_a_result_is_refused_like_typed_text(tmp_path) -> None:
    """Send as is goes the way typed text goes: a reply too short to be a result is refused with the same
    words, nothing is resolved, and the question stays open for a fuller text."""
    async with running_bot(tmp_path / "thin.sqlite3", units=units_with(["Done."])) as bot:
        for person in (COURIER, HR_STAFF):
            bot.user(person, f"P{person}", language_code="en")
            await bot.say(person, "/start")
        number = await accepted(bot)
        await bot.press(HR_STAFF, "Resolve")
        await bot.press(HR_STAFF, "1. Done.")
        await bot.press(HR_STAFF, "Send as is")
        assert bot.last_text(HR_STAFF) == bot.services.text("en", "confirm.bad_note_too_thin")
        assert (await ledger_notes(bot, number))[-1][0] == "accept"
        prompt = await bot.services.storage.dialogs.prompt(HR_STAFF)
        assert prompt is not None and prompt.appeal_id == number and not prompt.data.typed
        await bot.say(HR_STAFF, "The platform paid the wages in full on 25 November.")
        assert bot.last_text(HR_STAFF).startswith(f"Resolve #{number} with this result?")


async def test_the_newest_question_takes_the_next_text(bot) -> None:
    """Add a reply after Note was asked: the text is the reply, and Note no longer waits. Note asked after
    Add a reply: the text is the note, and no reply is added."""
    number = await accepted(bot)
    await bot.press(HR_STAFF, "Note")
    question = newest(bot, HR_STAFF)
    await bot.say(HR_STAFF, "/replies")
    await bot.press(HR_STAFF, "Add a reply")
    assert labels(bot, bot.core.messages(HR_STAFF)[question["message_id"] - 1]) == []
    await bot.say(HR_STAFF, "We will call you within one working day.")
    assert len(await bot.services.storage.canned_replies.of_unit("hr")) == 3
    assert (await ledger_notes(bot, number))[-1][0] == "accept"

    await bot.say(HR_STAFF, "/replies")
    await bot.press(HR_STAFF, "Add a reply")
    await bot.say(HR_STAFF, f"/open {number}")
    await bot.press(HR_STAFF, "Note")
    await bot.say(HR_STAFF, "We called the platform this morning.")
    assert (await ledger_notes(bot, number))[-1] == ("note", "We called the platform this morning.")
    await bot.say(HR_STAFF, "Another text")
    assert len(await bot.services.storage.canned_replies.of_unit("hr")) == 3
