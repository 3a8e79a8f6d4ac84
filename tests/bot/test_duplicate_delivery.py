"""The same update delivered twice (a crash, a webhook retry) changes nothing the second time."""

import json

from telegram import Update

from tests.harness import running_bot

COURIER, HR = 1001, 600


async def snapshot(bot) -> tuple:
    """Rows that a repeated update must not add to."""
    row = await bot.services.storage.db.fetchone(
        "SELECT (SELECT count(*) FROM appeals), (SELECT count(*) FROM events), (SELECT count(*) FROM outbox),"
        " (SELECT group_concat(state || version) FROM appeals)"
    )
    return tuple(row)


async def test_every_update_of_a_loop_delivered_twice_is_handled_once(tmp_path) -> None:
    """File, accept and resolve with each update delivered twice: one appeal, one ledger, one reply each."""
    async with running_bot(tmp_path / "dup.sqlite3") as bot:
        bot.user(COURIER, "Li")
        bot.user(HR, "HR")
        delivered: list[dict] = []
        original_take = bot.core.take_updates

        def take_twice() -> list[dict]:
            updates = original_take()
            delivered.extend(updates)
            return [u for update in updates for u in (update, json.loads(json.dumps(update)))]

        bot.core.take_updates = take_twice
        await bot.say(HR, "/start")
        await bot.say(COURIER, "/appeal")
        await bot.press(COURIER, "Work protection")
        await bot.say(COURIER, "Wages unpaid")
        await bot.press(COURIER, "Skip")
        await bot.press(COURIER, "Skip")
        await bot.press(COURIER, "Confirm")
        await bot.press(HR, "Accept")
        before = await snapshot(bot)
        assert before[:2] == (1, 3)  # submit, assign, accept
        replies = [m["text"] for m in bot.core.bot_messages(COURIER)]
        # The category question turned into the description question when pressed, once.
        describe = bot.services.text("en", "filing.ask_description", limit=2000)
        assert sum(t.endswith(describe) for t in replies) == 1
        assert sum("Appeal #1 is filed" in t for t in replies) == 1
        # And once more, much later, all of them again: nothing changes.
        for raw in delivered:
            await bot.app.process_update(Update.de_json(raw, bot.app.bot))
        assert await snapshot(bot) == before
        assert len(bot.core.bot_messages(COURIER)) == len(replies)
