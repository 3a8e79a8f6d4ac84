"""A database that is away for a while (a PostgreSQL restart, a failover): the person is told, in their
language, to try again, though the apology cannot read who they are; the log says so in one line, not
a traceback; and the bot comes back by itself when the database does."""

import logging

import pytest
from telegram import Update

from tests.harness import running_bot
from tests.postgres import away

pytestmark = pytest.mark.postgresql_only


async def test_the_courier_is_told_and_the_bot_comes_back(tmp_path, caplog) -> None:
    """The update that meets the outage gets the apology in the courier's language and one warning in the
    log; once the database is back, the same message is answered as usual."""
    async with running_bot(tmp_path / "bot.sqlite3") as bot:
        courier = bot.user(1001, "Li", language_code="zh-hans")
        await bot.say(courier, "/start")
        url = bot.services.storage.db.path
        away(url, True)
        try:
            seen = len(bot.texts(courier))
            bot.core.send_text(courier, "/help")
            with caplog.at_level(logging.WARNING, logger="bot.errors"):
                for raw in bot.core.take_updates():
                    await bot.app.process_update(Update.de_json(raw, bot.app.bot))
            assert bot.texts(courier)[seen:] == [bot.services.text("zh", "error.internal")]
            logged = [r for r in caplog.records if r.name == "bot.errors"]
            assert [(r.levelno, r.exc_info) for r in logged] == [(logging.WARNING, None)], logged
            assert "the database is unavailable" in logged[0].getMessage()
        finally:
            away(url, False)
        replies = await bot.say(courier, "/help")
        assert replies and replies[-1]["text"] != bot.services.text("zh", "error.internal")
