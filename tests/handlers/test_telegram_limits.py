"""Nothing the bot composes exceeds what Telegram accepts, and people's words never pass for the bot's own lines.

Every text field is filled to its own limit (in English, in Chinese, and in characters outside the
Basic Multilingual Plane, which Telegram counts twice), and every notice and screen is walked: the
fake Bot API refuses what Telegram would refuse, the bot's last-guard cut is never needed, and the
whole of every text is still reachable through the Full text button.
"""

from __future__ import annotations

import logging
import re

import pytest

from domain.commands import ActOnAppeal
from domain.stations_file import MAX_ADDRESS, MAX_NAME, FileProblem, StationRecord
from handlers.filing_steps import MAX_DESCRIPTION, MAX_PLACE
from handlers.station_admin import problems_text
from handlers.telegram_text import QUOTE, TEXT, quoted, said, shorten, split, units
from handlers.text_prompts import MAX_TYPED
from tests.harness import running_bot

COURIER, HR_STAFF, COORDINATOR = 1001, 600, 900
PHONE = "+8613800138000"
# What a description might say to pass for the bot's own lines.
FORGED = {
    "en": "State: closed: resolved\nCourier's phone: 13800000000\n",
    "zh": "状态：已办结\n诉求人电话：13800000000\n",
}
FILLERS = {
    "en": "The charger at the north gate is broken again. ",
    "zh": "北门的充电桩又坏了，请尽快修理。",
    "astral": "𠀀𠀁🚲",  # each counts two UTF-16 units
}


def filled(filler: str, length: int, lead: str = "") -> str:
    """`lead`, then `filler` repeated, to exactly `length` characters (code points, as the bot's own limits count)."""
    return (lead + filler * (length // len(filler) + 1))[:length]


def unquoted(text: str) -> str:
    """Text as read for its words: quote marks, line breaks and spaces gone (a long line may continue in the next message)."""
    return re.sub(r"\s", "", text.replace(QUOTE.strip(), ""))


# ---------------------------------------------------------------------------- the module's rules


def test_units_count_as_telegram_does() -> None:
    """ASCII and Han one unit each; emoji and CJK Extension B two."""
    assert units("ab") == 2 and units("字") == 1 and units("🚲") == 2 and units("𠀀") == 2


@pytest.mark.parametrize("text", ["a" * 5000, "字" * 5000, "🚲" * 3000, "a" * 4095 + "🚲", "x\n" * 3000])
def test_shorten_and_split_keep_within_the_limit(text: str) -> None:
    """Shortened: within the limit, ending in "…"; split: every part within the limit, nothing lost."""
    cut = shorten(text)
    assert units(cut) <= TEXT and cut.endswith("…")
    parts = split(text)
    assert all(units(p) <= TEXT for p in parts)
    assert unquoted("".join(parts)) == unquoted(text)


def test_quoted_words_start_every_line_with_the_mark_and_keep_to_their_share() -> None:
    """Each line of people's words (whatever line break they used) starts with the quote mark; a cut ends in "…"."""
    block = quoted("状态：已办结\r电话：138\u2028State: closed\n\nend")
    assert all(line.startswith(QUOTE) for line in block.split("\n"))
    assert len(block.split("\n")) == 5
    long = quoted("字\n" * 1000, 300)
    assert units(long) <= 300 and long.endswith("…") and all(line.startswith(QUOTE) for line in long.split("\n"))
    assert said("x") == "\n" + QUOTE + "x"
    assert quoted("\u202e已办结：态状") == QUOTE + "已办结：态状"  # no override to draw the mark at the line's end


async def test_a_problem_report_fits_one_message_however_long_the_problems(tmp_path) -> None:
    """A station import's problems quote what was sent: many long ones still make one message within the limit."""
    async with running_bot(tmp_path / "problems.sqlite3") as bot:
        for filler in FILLERS.values():
            problems = [FileProblem(n, "name", filled(filler, 3000)) for n in range(40)]
            for lang in ("en", "zh"):
                text = problems_text(bot.services, lang, problems)
                assert units(text) <= TEXT and "…" in text


# ---------------------------------------------------------------------------- the walk


def long_units(filler: str, lang: str) -> list[dict[str, object]]:
    """The district's two units with names at the config's limit of 60 characters."""
    name = lambda base: filled(filler if filler != FILLERS["en"] else base, 60)  # noqa: E731
    return [
        {"id": "st1", "kind": "station", "zh": filled("一号驿站", 60), "en": name("Station One "), "staff": [500, 501]},
        {
            "id": "hr",
            "kind": "department",
            "zh": filled(FILLERS["zh"] if filler != FILLERS["astral"] else filler, 60),
            "en": name("Human Resources Bureau "),
            "staff": [600],
        },
    ]


class Walk:
    """What the walk checks after every step: nothing cut by the last guard, nothing dead-lettered."""

    def __init__(self, bot, caplog, lang: str) -> None:
        self.bot, self.caplog, self.lang = bot, caplog, lang

    async def check(self) -> None:
        cut = [r for r in self.caplog.records if r.name == "handlers.quiet_bot"]
        assert not cut, [r.getMessage() for r in cut]
        dead = await self.bot.services.storage.db.fetchall("SELECT * FROM outbox WHERE status = 'dead'")
        assert not dead, [tuple(r) for r in dead]
        for chat in self.bot.users:
            for message in self.bot.core.bot_messages(chat):
                text = message.get("text") or message.get("caption") or ""
                assert units(text) <= TEXT
                # The forged lines only ever appear quoted.
                for line in text.split("\n"):
                    assert "13800000000" not in line or line.startswith(QUOTE), line

    async def press(self, user: int, label: str) -> None:
        await self.bot.press(user, label)
        await self.check()

    async def say(self, user: int, text: str) -> None:
        await self.bot.say(user, text)
        await self.check()

    async def full_text(self, user: int) -> str:
        """Press the newest Full text button; the messages it sent, joined."""
        bot = self.bot
        seen = len(bot.core.bot_messages(user))
        await self.press(user, bot.services.text(self.lang, "limits.full_text_button"))
        parts = [m["text"] for m in bot.core.bot_messages(user)[seen:]]
        assert len(parts) >= 2 and all(units(p) <= TEXT for p in parts)
        return "\n".join(parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", ["en", "zh", "astral"])
async def test_every_field_at_its_limit_walks_every_notice_and_screen(tmp_path, caplog, lang, kind) -> None:
    """Description, question, answer, progress note, result and reason at their limits; unit and person names
    at theirs: every card, notice, list, history and digest is accepted by Telegram, and Full text brings it all."""
    caplog.set_level(logging.WARNING, logger="handlers.quiet_bot")
    filler = FILLERS[kind]
    async with running_bot(tmp_path / "limits.sqlite3", units=long_units(filler, lang)) as bot:
        t = lambda key, **kw: bot.services.text(lang, key, **kw)  # noqa: E731
        walk = Walk(bot, caplog, lang)
        bot.user(COURIER, filled(filler, 64), language_code=lang)
        bot.user(HR_STAFF, "HR", language_code=lang)
        bot.user(COORDINATOR, "Coordinator", language_code=lang)
        for person in (COURIER, HR_STAFF, COORDINATOR):
            await walk.say(person, "/start")
            await bot.services.storage.people.set_language(person, lang)

        description = filled(filler, MAX_DESCRIPTION, FORGED[lang])
        await walk.say(COURIER, "/appeal")
        await walk.press(COURIER, bot.services.category("work").name(lang))
        await walk.say(COURIER, description)
        await walk.say(COURIER, filled(filler, MAX_PLACE, "P "))  # a typed place at its limit
        bot.core.share_contact(COURIER, PHONE, "Li", contact_user_id=COURIER)
        await bot.deliver()
        await walk.check()
        await walk.press(COURIER, t("button.confirm"))
        number = (await bot.services.storage.appeals.of_courier(COURIER))[0][0].id

        # The unit's notice carries a shortened card: the bot's state line once, the forged one quoted.
        card = bot.last_text(HR_STAFF)
        state_lines = [line for line in card.split("\n") if line.startswith(t("card.state", state="").strip())]
        assert len(state_lines) == 1
        assert sum(line.startswith(t("place.line", place="P ")) for line in card.split("\n")) == 1
        assert "…" in card and t("limits.description") in card

        texts = {
            "ask": filled(filler, MAX_TYPED, "Q "),
            "answer": filled(filler, MAX_TYPED, "A "),
            "note": filled(filler, MAX_TYPED, "N "),
            "resolve": filled(filler, MAX_TYPED, "R1 "),
            "unsatisfied": filled(filler, MAX_TYPED, "U "),
            "resolve2": filled(filler, MAX_TYPED, "R2 "),
        }
        await walk.press(HR_STAFF, t("button.accept"))
        await walk.say(HR_STAFF, "/queue")
        await walk.press(HR_STAFF, t("button.ask"))
        await walk.say(HR_STAFF, texts["ask"])
        # The question is cut in the courier's notice, which offers the whole of it beside Reply.
        labels = [label for label, _ in bot.core.inline_buttons(bot.core.last_message(COURIER))]
        assert labels == [t("button.reply"), t("limits.full_text_button")]
        assert unquoted(texts["ask"]) in unquoted(await walk.full_text(COURIER))
        await walk.press(COURIER, t("button.reply"))
        await walk.say(COURIER, texts["answer"])
        await walk.press(HR_STAFF, t("button.note"))
        await walk.say(HR_STAFF, texts["note"])
        await walk.press(HR_STAFF, t("button.resolve"))
        await walk.say(HR_STAFF, texts["resolve"])
        await walk.press(HR_STAFF, t("confirm.button_resolve"))
        await walk.press(COURIER, t("button.not_solved"))
        await walk.say(COURIER, texts["unsatisfied"])
        await walk.press(HR_STAFF, t("button.resolve"))
        await walk.say(HR_STAFF, texts["resolve2"])
        await walk.press(HR_STAFF, t("confirm.button_resolve"))
        await walk.press(COURIER, t("button.satisfied"))
        ledger = await bot.services.storage.appeals.ledger(number)
        assert [e.event.value for e in ledger] == [
            "submit",
            "assign",
            "accept",
            "ask",
            "answer",
            "note",
            "resolve",
            "rate_unsatisfied",
            "resolve",
            "rate_satisfied",
        ]
        assert [e.note for e in ledger if e.note] == [texts[k].strip() for k in texts]

        # Every screen: the courier's list and card, staff's card, the coordinator's /open, /triage and digest.
        await walk.say(COURIER, "/my")
        await walk.press(COURIER, t("button.open", number=number))
        courier_full = await walk.full_text(COURIER)
        await walk.say(HR_STAFF, f"/open {number}")
        staff_full = await walk.full_text(HR_STAFF)
        await walk.say(COORDINATOR, f"/open {number}")
        coordinator_full = await walk.full_text(COORDINATOR)
        for command in ("/triage", "/digest", "/people", "/stations", "/undelivered"):
            await walk.say(COORDINATOR, command)
        await walk.say(COURIER, "/privacy")

        # The whole of every text is there, in parts within the limit.
        for full in (courier_full, staff_full, coordinator_full):
            for words in (description, *texts.values()):
                assert unquoted(words) in unquoted(full)
        assert PHONE in staff_full and PHONE not in courier_full


async def test_station_card_with_longest_name_and_address(tmp_path, caplog) -> None:
    """A station whose name and address are at their limits, in characters Telegram counts twice: its card opens."""
    caplog.set_level(logging.WARNING, logger="handlers.quiet_bot")
    async with running_bot(tmp_path / "stations.sqlite3") as bot:
        name, address = filled("𠀀🚲", MAX_NAME, "Wanda "), filled("𠀀🚲", MAX_ADDRESS)
        record = StationRecord(
            id="wd-1", name=name, lat=31.2, lon=121.4, grade="A", address=address, name_en=name, address_en=address
        )
        await bot.services.storage.stations.import_records([record])
        bot.user(COORDINATOR, "Coordinator")
        await bot.say(COORDINATOR, "/start")
        await bot.say(COORDINATOR, "/stations wd-1")
        assert name in bot.last_text(COORDINATOR)
        assert not [r for r in caplog.records if r.name == "handlers.quiet_bot"]


# ---------------------------------------------------------------------------- forged lines


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_description_cannot_pass_for_the_cards_own_lines(tmp_path, lang) -> None:
    """A description that reads like the bot's state and phone lines shows quoted under its label, on the card,
    in the unit's notice, and in the courier's review; the bot's own lines are never quoted."""
    async with running_bot(tmp_path / "forged.sqlite3") as bot:
        t = lambda key, **kw: bot.services.text(lang, key, **kw)  # noqa: E731
        forged = {"en": "State: closed: resolved\nPhone: 13800000000", "zh": "状态：已办结\n电话：13800000000"}[lang]
        for person in (COURIER, HR_STAFF):
            bot.user(person, f"P{person}", language_code=lang)
            await bot.say(person, "/start")
            await bot.services.storage.people.set_language(person, lang)
        await bot.say(COURIER, "/appeal")
        await bot.press(COURIER, bot.services.category("work").name(lang))
        await bot.say(COURIER, forged)
        await bot.press(COURIER, t("button.skip"))
        await bot.press(COURIER, t("button.anonymous"))
        review = bot.last_text(COURIER)
        await bot.press(COURIER, t("button.confirm"))
        notice = bot.last_text(HR_STAFF)
        number = (await bot.services.storage.appeals.of_courier(COURIER))[0][0].id
        await bot.say(HR_STAFF, f"/open {number}")
        card = bot.last_text(HR_STAFF)
        quoted_block = quoted(forged)
        for text in (review, notice, card):
            assert quoted_block in text
            lines = text.split("\n")
            # Every line that says the forged words is quoted; no unquoted line says them.
            assert all(
                line.startswith(QUOTE)
                for line in lines
                if "13800000000" in line or line.endswith(forged.split("\n")[0])
            )
        prefix = t("card.state", state="").strip()
        for text in (notice, card):
            lines = text.split("\n")
            assert lines[lines.index(t("limits.description")) + 1] == QUOTE + forged.split("\n")[0]
            # One state line, the bot's: the forged one starts with the quote mark, not with "State:".
            states = [line for line in lines if line.startswith(prefix)]
            assert len(states) == 1 and states[0] != forged.split("\n")[0]


def test_callback_data_of_the_longest_ids_fits_64_bytes() -> None:
    """Unit ids (32 characters), station ids (40) and appeal numbers (12 digits) at their longest still make
    callback data Telegram takes, and the codec reads it back."""
    from handlers import callbacks
    from handlers.callbacks import AppealVerb, Family, StationAdminVerb

    unit, station, number = "u" * 32, "s" * 40, 10**12 - 1
    for data in (
        callbacks.appeal(number, AppealVerb.ASSIGN_PRIORITY, f"{unit}.urgent"),
        callbacks.appeal(number, AppealVerb.FULL_TEXT),
        callbacks.encode(Family.STATION_ADMIN, StationAdminVerb.SHUT_CONFIRMED, station),
        callbacks.station("appeal", station),
        callbacks.encode(Family.INVITE, "mk", unit),
    ):
        assert len(data.encode()) <= 64 and callbacks.decode(data) is not None


# ---------------------------------------------------------------------------- what storage allows beyond the dialogs


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_notes_at_storages_own_limit_are_never_dead_lettered(tmp_path, caplog, lang) -> None:
    """Storage keeps notes of up to 4,000 characters (8,000 units in astral characters), more than any dialog
    lets through: every notice about them still goes out within the limit, and the screens still open."""
    from domain.commands import EventArgs, NewAppeal
    from domain.lifecycle import Event
    from storage.appeals import MAX_NOTE

    caplog.set_level(logging.WARNING, logger="handlers.quiet_bot")
    async with running_bot(tmp_path / "storage.sqlite3") as bot:
        walk = Walk(bot, caplog, lang)
        for person in (COURIER, HR_STAFF, COORDINATOR):
            bot.user(person, f"P{person}", language_code=lang)
            await walk.say(person, "/start")
            await bot.services.storage.people.set_language(person, lang)
        storage, now = bot.services.storage, bot.clock()
        description = filled(FILLERS["astral"], 4000)
        new = NewAppeal(
            courier_id=COURIER, category="work", description=description, language=lang, contact_phone=PHONE
        )
        number = (await storage.appeals.submit(new, "hr", now)).appeal.id
        await bot.tick()
        words = {
            event: filled(FILLERS["astral"], MAX_NOTE, event.value)
            for event in (Event.ASK, Event.ANSWER, Event.RESOLVE)
        }
        await storage.appeals.apply(ActOnAppeal(number, Event.ACCEPT, HR_STAFF), now)
        await storage.appeals.apply(ActOnAppeal(number, Event.ASK, HR_STAFF, EventArgs(note=words[Event.ASK])), now)
        await bot.tick()
        await storage.appeals.apply(
            ActOnAppeal(number, Event.ANSWER, COURIER, EventArgs(note=words[Event.ANSWER])), now
        )
        await bot.tick()
        await storage.appeals.apply(
            ActOnAppeal(number, Event.RESOLVE, HR_STAFF, EventArgs(note=words[Event.RESOLVE])), now
        )
        await bot.tick()
        await walk.check()
        await walk.say(HR_STAFF, f"/open {number}")
        full = await walk.full_text(HR_STAFF)
        for text in (description, *words.values()):
            assert unquoted(text) in unquoted(full)


@pytest.mark.parametrize("send", ["send_text", "send_message"])
async def test_the_last_guard_cuts_and_says_so_without_the_words(tmp_path, caplog, send) -> None:
    """A text no screen kept within the limit is cut by the bot's client (its own raw send and
    python-telegram-bot's), not refused, and the log names the call and the length, never the words."""
    caplog.set_level(logging.WARNING, logger="handlers.quiet_bot")
    async with running_bot(tmp_path / "guard.sqlite3") as bot:
        bot.user(COURIER, "P")
        await getattr(bot.app.bot, send)(COURIER, "秘密" * 3000)
        sent = bot.last_text(COURIER)
        assert units(sent) <= TEXT and sent.endswith("…")
        [record] = [r for r in caplog.records if r.name == "handlers.quiet_bot"]
        assert "sendMessage" in record.getMessage() and "秘密" not in record.getMessage()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_send_back_and_reject_reasons_at_their_limit(tmp_path, caplog, lang) -> None:
    """A unit's reason for sending back, and a coordinator's for rejecting, at their limit in astral characters:
    the coordinators' notice and the courier's go out within the limit, and each offers the whole reason."""
    caplog.set_level(logging.WARNING, logger="handlers.quiet_bot")
    filler = FILLERS["astral"]
    async with running_bot(tmp_path / "reasons.sqlite3") as bot:
        t = lambda key, **kw: bot.services.text(lang, key, **kw)  # noqa: E731
        walk = Walk(bot, caplog, lang)
        for person in (COURIER, HR_STAFF, COORDINATOR):
            bot.user(person, f"P{person}", language_code=lang)
            await walk.say(person, "/start")
            await bot.services.storage.people.set_language(person, lang)
        await walk.say(COURIER, "/appeal")
        await walk.press(COURIER, bot.services.category("work").name(lang))
        await walk.say(COURIER, filled(filler, MAX_DESCRIPTION))
        await walk.press(COURIER, t("button.skip"))
        await walk.press(COURIER, t("button.anonymous"))
        await walk.press(COURIER, t("button.confirm"))
        back, rejected = filled(filler, MAX_TYPED, "B "), filled(filler, MAX_TYPED, "J ")
        await walk.press(HR_STAFF, t("button.send_back"))
        await walk.say(HR_STAFF, back)
        assert unquoted(back) in unquoted(await walk.full_text(COORDINATOR))
        await walk.press(COORDINATOR, t("button.reject"))
        await walk.say(COORDINATOR, rejected)
        await walk.press(COORDINATOR, t("confirm.button_reject"))
        notice = bot.last_text(COURIER)
        assert notice.endswith("…") and units(notice) <= TEXT
        assert unquoted(rejected) in unquoted(await walk.full_text(COURIER))
        assert unquoted(back) not in unquoted(await walk.full_text(COURIER))  # the unit's reason stays with staff
