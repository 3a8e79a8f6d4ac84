"""Invitation codes: listed and revocable by coordinators, gone with their maker's coordinator role,
and wrong /join guesses limited per person, logged without the code, reported once a burst."""

from __future__ import annotations

import logging
from datetime import timedelta

from handlers import callbacks
from handlers.callbacks import Family, InviteVerb
from storage.people import JOIN_BURST_NOTICE, UnitSpec
from tests.every_state import COORDINATOR, COURIER, OTHER_COURIER, greet_everyone, press_data
from tests.harness import Bot, running_bot

OTHER_COORDINATOR = 901


def t(bot: Bot, key: str, **values: object) -> str:
    return bot.services.text("en", key, **values)


async def _make_code(bot: Bot, coordinator: int, unit: str = "hr") -> str:
    await bot.say(coordinator, f"/invite {unit}")
    return bot.last_text(coordinator).rsplit(" ", 1)[1]


def _button_data(bot: Bot, person: int) -> list[str]:
    return [data for _, data in bot.core.inline_buttons(bot.core.last_message(person))]


async def test_invites_lists_the_codes_and_a_coordinator_revokes_one_after_confirming(tmp_path) -> None:
    """/invites shows each live code's unit, maker, dates and use; Revoke asks, Yes revokes, and the
    code no longer joins anyone."""
    async with running_bot(tmp_path / "list.sqlite3", coordinators=[COORDINATOR, OTHER_COORDINATOR]) as bot:
        await greet_everyone(bot, (COURIER, OTHER_COURIER, COORDINATOR, OTHER_COORDINATOR))
        await bot.say(COORDINATOR, "/invites")
        assert bot.last_text(COORDINATOR) == t(bot, "invites15.empty")
        used = await _make_code(bot, COORDINATOR, "st1")
        await bot.say(OTHER_COURIER, f"/join {used}")
        bot.clock.advance(minutes=5)
        mine = await _make_code(bot, COORDINATOR, "hr")
        theirs = await _make_code(bot, OTHER_COORDINATOR, "hr")

        await bot.say(COORDINATOR, "/invites")
        text = bot.last_text(COORDINATOR)
        now, week = bot.clock(), bot.clock() + timedelta(days=7)
        local = bot.services.local
        assert text.startswith(t(bot, "invites15.title"))
        assert (
            t(
                bot,
                "invites15.line",
                code=mine,
                unit="HR Bureau",
                maker=t(bot, "invites15.maker_you"),
                created=local(now, "en"),
                expires=local(week, "en"),
                uses=0,
            )
            in text
        )
        assert t(bot, "invites15.maker_other", name=f"P{OTHER_COORDINATOR}") in text
        assert f"{used} · unit: Station One" in text and "used 1 of 1" in text
        revoke = callbacks.encode(Family.INVITE, InviteVerb.REVOKE, mine.lower())
        # A Revoke button for each unused code; none for the used one.
        assert sorted(_button_data(bot, COORDINATOR)) == sorted(
            callbacks.encode(Family.INVITE, InviteVerb.REVOKE, code.lower()) for code in (mine, theirs)
        )

        await press_data(bot, COORDINATOR, revoke)
        assert bot.last_text(COORDINATOR) == t(bot, "invites15.revoke_confirm", code=mine, unit="HR Bureau")
        assert len(await bot.services.storage.people.live_invites(bot.clock())) == 3
        await press_data(bot, COORDINATOR, callbacks.encode(Family.INVITE, InviteVerb.REVOKE_CONFIRMED, mine.lower()))
        assert bot.last_text(COORDINATOR).startswith(t(bot, "invites15.revoked", code=mine))
        assert mine not in bot.last_text(COORDINATOR).split("\n", 1)[1]

        # A second Yes (a double tap) is told it is gone, and the code joins nobody.
        query = await press_data(
            bot, COORDINATOR, callbacks.encode(Family.INVITE, InviteVerb.REVOKE_CONFIRMED, mine.lower())
        )
        assert bot.core.answered_callback(query) == {
            "text": t(bot, "invites15.revoke_gone", code=mine),
            "show_alert": True,
        }
        await bot.say(COURIER, f"/join {mine}")
        assert bot.last_text(COURIER) == t(bot, "staff.join_bad")
        assert (await bot.services.storage.people.get(COURIER)).role == "courier"

        # A courier cannot list or revoke.
        await bot.say(COURIER, "/invites")
        assert bot.last_text(COURIER) == t(bot, "coord.not_coordinator")
        query = await press_data(
            bot, COURIER, callbacks.encode(Family.INVITE, InviteVerb.REVOKE_CONFIRMED, theirs.lower())
        )
        assert bot.core.answered_callback(query) == {"text": t(bot, "coord.not_coordinator"), "show_alert": True}
        assert len(await bot.services.storage.people.live_invites(bot.clock())) == 2


async def test_people_has_a_button_to_the_codes(tmp_path) -> None:
    """The People screen leads to the codes, so a coordinator need not remember /invites."""
    async with running_bot(tmp_path / "people.sqlite3") as bot:
        await greet_everyone(bot, (COORDINATOR,))
        code = await _make_code(bot, COORDINATOR)
        await bot.say(COORDINATOR, "/people")
        await bot.press(COORDINATOR, t(bot, "invites15.list_button"))
        assert bot.last_text(COORDINATOR).startswith(t(bot, "invites15.title")) and code in bot.last_text(COORDINATOR)


async def test_codes_go_with_their_makers_coordinator_role(tmp_path) -> None:
    """A coordinator removed (command line) or dropped from the config loses their unused codes in the
    same transaction; another coordinator's codes stay."""
    async with running_bot(tmp_path / "gone.sqlite3", coordinators=[COORDINATOR]) as bot:
        await greet_everyone(bot, (COURIER, OTHER_COURIER, COORDINATOR, OTHER_COORDINATOR))
        people = bot.services.storage.people
        await people.add(OTHER_COORDINATOR, "coordinator", None, now=bot.clock())
        removed_code = await _make_code(bot, OTHER_COORDINATOR)
        kept_code = await _make_code(bot, COORDINATOR)
        assert await people.remove(OTHER_COORDINATOR, bot.clock())
        assert [c.code for c in await people.live_invites(bot.clock())] == [kept_code]
        await bot.say(COURIER, f"/join {removed_code}")
        assert bot.last_text(COURIER) == t(bot, "staff.join_bad")

        # Dropped from the config's coordinators: at the next start, the same.
        config_code = await _make_code(bot, COORDINATOR)
        await people.sync_config(
            [
                UnitSpec("st1", "station", "一号驿站", "Station One"),
                UnitSpec("hr", "department", "人社局", "HR Bureau"),
            ],
            [],
            bot.clock(),
        )
        assert await people.live_invites(bot.clock()) == []
        await bot.say(OTHER_COURIER, f"/join {config_code}")
        assert bot.last_text(OTHER_COURIER) == t(bot, "staff.join_bad")
        revoked = await bot.services.storage.db.fetchone("SELECT count(*) FROM invites WHERE revoked_at IS NOT NULL")
        assert revoked[0] == 3


async def test_wrong_join_codes_are_limited_logged_without_the_code_and_reported_once(tmp_path, caplog) -> None:
    """Five wrong codes in an hour pause /join for that person (even the right code then waits), the
    coordinators get one notice for the burst, the log names the person and the count but no code;
    an hour later the right code works."""
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path / "guess.sqlite3") as bot:
        await greet_everyone(bot, (COURIER, OTHER_COURIER, COORDINATOR))
        code = await _make_code(bot, COORDINATOR)
        guesses = [f"ZZZZZZ{a}{b}" for a, b in zip("23456789", "98765432", strict=True)]
        for guess in guesses[:5]:
            await bot.say(COURIER, f"/join {guess}")
            assert bot.last_text(COURIER) == t(bot, "staff.join_bad")
            bot.clock.advance(minutes=1)
        await bot.tick()
        burst = t(bot, "invites15.burst_coordinators", person=COURIER, count=5)
        assert bot.texts(COORDINATOR).count(burst) == 1

        for guess in (*guesses[5:], code):
            await bot.say(COURIER, f"/join {guess}")
            assert bot.last_text(COURIER) == t(bot, "invites15.join_limited")
        await bot.tick()
        assert (await bot.services.storage.people.get(COURIER)).role == "courier"
        assert sum(text.startswith(f"Person {COURIER} sent") for text in bot.texts(COORDINATOR)) == 1  # one a burst
        # Someone else is not held back by another's guesses.
        await bot.say(OTHER_COURIER, "/join WRONG234")
        assert bot.last_text(OTHER_COURIER) == t(bot, "staff.join_bad")

        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert f"wrong invitation code from {COURIER} (5 within the hour, coordinators told)" in logged
        assert not any(guess in logged for guess in guesses) and code not in logged

        bot.clock.advance(hours=1)
        await bot.say(COURIER, f"/join {code}")
        assert bot.last_text(COURIER).startswith("Welcome! You are now on the staff of this unit: HR Bureau.")


async def test_the_guess_limit_is_a_config_key(tmp_path) -> None:
    """invites.wrong_codes_per_hour sets how many wrong codes pause /join."""
    async with running_bot(tmp_path / "two.sqlite3", invites={"wrong_codes_per_hour": 2}) as bot:
        await greet_everyone(bot, (COURIER, COORDINATOR))
        code = await _make_code(bot, COORDINATOR)
        for guess in ("WRONG234", "WRONG345"):
            await bot.say(COURIER, f"/join {guess}")
        await bot.say(COURIER, f"/join {code}")
        assert bot.last_text(COURIER) == t(bot, "invites15.join_limited")
        await bot.tick()
        assert bot.texts(COORDINATOR)[-1] == t(bot, "invites15.burst_coordinators", person=COURIER, count=2)
        rows = await bot.services.storage.db.fetchall(
            "SELECT chat_id FROM outbox WHERE template = ?", (JOIN_BURST_NOTICE,)
        )
        assert [r[0] for r in rows] == [COORDINATOR]


async def test_erasing_ones_data_removes_ones_wrong_guesses(tmp_path) -> None:
    """The count of someone's wrong codes holds their Telegram id: /privacy erase removes it too."""
    async with running_bot(tmp_path / "erase.sqlite3", invites={"wrong_codes_per_hour": 2}) as bot:
        await greet_everyone(bot, (COURIER, COORDINATOR))
        for guess in ("WRONG234", "WRONG345"):
            await bot.say(COURIER, f"/join {guess}")
        db = bot.services.storage.db
        count = "SELECT (SELECT count(*) FROM join_failures WHERE telegram_id = ?) + (SELECT count(*) FROM join_bursts WHERE telegram_id = ?)"
        assert (await db.fetchone(count, (COURIER, COURIER)))[0] == 3
        await bot.services.storage.privacy.erase(COURIER, bot.clock())
        assert (await db.fetchone(count, (COURIER, COURIER)))[0] == 0


async def test_many_codes_list_the_newest_in_one_message(tmp_path) -> None:
    """A busy week's codes: the newest twenty, each with its Revoke button, and how many more there are."""
    async with running_bot(tmp_path / "many.sqlite3") as bot:
        await greet_everyone(bot, (COORDINATOR,))
        for _ in range(23):
            await _make_code(bot, COORDINATOR)
            bot.clock.advance(minutes=1)
        await bot.say(COORDINATOR, "/invites")
        text = bot.last_text(COORDINATOR)
        assert len(text.encode("utf-16-le")) // 2 <= 4096
        assert text.endswith(t(bot, "invites15.more", count=3))
        assert len(_button_data(bot, COORDINATOR)) == 20
