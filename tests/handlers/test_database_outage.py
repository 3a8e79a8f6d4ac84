"""A database that is away for a while (a PostgreSQL restart, a failover): the person is told, in their
language, to try again, though the apology cannot read who they are; the log says so in one line, not
a traceback; and the bot comes back by itself when the database does."""

import logging

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from telegram import Update

from tests.harness import running_bot

pytestmark = pytest.mark.postgresql_only


def _away(url: str, away: bool) -> None:
    """Refuse new sessions to the bot's database and end its open ones (or let them in again)."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.SQL("false" if away else "true")
            )
        )
        if away:
            admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = %s", (name,))


async def test_the_courier_is_told_and_the_bot_comes_back(tmp_path, caplog) -> None:
    """The update that meets the outage gets the apology in the courier's language and one warning in the
    log; once the database is back, the same message is answered as usual."""
    async with running_bot(tmp_path / "bot.sqlite3") as bot:
        courier = bot.user(1001, "Li", language_code="zh-hans")
        await bot.say(courier, "/start")
        url = bot.services.storage.db.path
        _away(url, True)
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
            _away(url, False)
        replies = await bot.say(courier, "/help")
        assert replies and replies[-1]["text"] != bot.services.text("zh", "error.internal")
