"""`python -m bot run --webhook`: the secret is checked, and an update is acknowledged only once handled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiohttp
import pytest

from sandbox.server import start_server
from tests.helpers import CallsTold, bot_environment, start_bot_process, until
from tests.test_run_command import free_port

TOKEN = "123456:TEST"
SECRET = "s3cret-Token_1"
LI = 7


@pytest.mark.slow  # the bot runs as a process of its own
async def test_webhook_checks_the_secret_and_acknowledges_after_handling(tmp_path: Path) -> None:
    core = CallsTold()
    core.add_user(LI, "Li", language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(f'default_language = "en"\n[webhook]\nurl = "http://127.0.0.1:{port}"\nport = {port}\n')
    env = bot_environment(tmp_path, url, TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET, APPEALS_BOT_CONFIG=str(config))
    process = await start_bot_process("run", "--webhook", workdir=tmp_path, env=env)
    hook = f"http://127.0.0.1:{port}/telegram"
    try:
        await until(
            lambda: any(m.lower() == "setwebhook" for m, _ in core.calls),
            "setWebhook",
            wake=core.on_call,
            process=process,
        )
        (params,) = [p for m, p in core.calls if m.lower() == "setwebhook"]
        assert params["url"] == hook and params["secret_token"] == SECRET
        async with aiohttp.ClientSession() as http:  # /healthz is served beside the webhook
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200 and (await response.json())["status"] == "ready"
        core.send_text(LI, "/start")
        (update,) = core.take_updates()
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(hook, json=update, headers=headers) as response:
                    assert response.status == 403
            assert core.bot_messages(LI) == []
            async with http.post(
                hook, data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as response:
                assert response.status == 400
            async with http.post(hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                assert response.status == 200
                # Acknowledged only after handling: the reply is already there.
                assert [m["text"].split("\n")[0] for m in core.bot_messages(LI)] == ["Hello, Li!"]
            async with http.post(hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                assert response.status == 200  # a retry of a handled update changes nothing
            assert len(core.bot_messages(LI)) == 1
        stdout, stderr = await process.stop()
    finally:
        await process.end()
        await runner.cleanup()
    assert process.returncode == 0, process.described()
    assert TOKEN.encode() not in stdout + stderr and SECRET.encode() not in stdout + stderr


async def test_a_failed_update_answers_500_so_telegram_delivers_it_again(tmp_path: Path, monkeypatch) -> None:
    """If handling fails (the database is away), the webhook says so; the redelivery is handled then."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.webhook import webhook_app
    from tests.harness import running_bot

    async with running_bot(tmp_path / "hook.sqlite3") as bot:
        bot.user(LI, "Li")
        bot.core.send_text(LI, "/start")
        (update,) = bot.core.take_updates()
        people = bot.services.storage.people
        real_get = people.get
        calls = {"n": 0}

        async def flaky_get(telegram_id):
            calls["n"] += 1
            if calls["n"] == 1:
                raise OSError("database unavailable")
            return await real_get(telegram_id)

        monkeypatch.setattr(people, "get", flaky_get)
        async with TestClient(TestServer(webhook_app(bot.app, SECRET, "telegram"), host="127.0.0.1")) as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            first = await client.post("/telegram", json=update, headers=headers)
            assert first.status == 500
            assert bot.texts(LI) == [bot.services.text("en", "error.internal")]
            again = await client.post("/telegram", json=update, headers=headers)
            assert again.status == 200
            assert bot.last_text(LI).startswith("Hello, Li!")
            # Once Telegram has its 200 it never sends the update again: the record is on disk by then.
            on_disk = sqlite3.connect(tmp_path / "hook.sqlite3")
            try:
                sql = "SELECT count(*) FROM handled_updates WHERE update_id = ?"
                assert on_disk.execute(sql, (update["update_id"],)).fetchone() == (1,)
            finally:
                on_disk.close()


async def test_a_press_whose_query_was_answered_already_is_handled(tmp_path: Path) -> None:
    """A press delivered again after a worker answered it and died: Telegram refuses a second answer,
    which must not fail the press (a 500 for it would be answered 500 at every redelivery)."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.webhook import webhook_app
    from tests.harness import running_bot

    async with running_bot(tmp_path / "hook.sqlite3") as bot:
        bot.user(LI, "Li")
        await bot.say(LI, "/appeal")
        query = bot.core.press(LI, "Work protection")
        (update,) = bot.core.take_updates()
        await bot.core.call("answerCallbackQuery", {"callback_query_id": query})  # by the worker that died
        async with TestClient(TestServer(webhook_app(bot.app, SECRET, "telegram"), host="127.0.0.1")) as client:
            response = await client.post("/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert response.status == 200
        assert "Describe the problem" in bot.last_text(LI)


async def test_a_message_the_draft_took_is_not_taken_again(tmp_path: Path) -> None:
    """The same message in an update not on record (its worker died after handling it): the draft, at the
    place step by then, does not take the description again as the place."""
    from telegram import Update

    from tests.harness import running_bot

    async with running_bot(tmp_path / "hook.sqlite3") as bot:
        bot.user(LI, "Li")
        await bot.say(LI, "/appeal")
        await bot.press(LI, "Work protection")
        bot.core.send_text(LI, "Wages unpaid since May")
        (update,) = bot.core.take_updates()
        await bot.app.process_update(Update.de_json(update, bot.app.bot))
        assert "If the place does not matter" in bot.last_text(LI)
        again = {**update, "update_id": update["update_id"] + 1000}  # a new id: the record of the first is lost
        await bot.app.process_update(Update.de_json(again, bot.app.bot))
        draft = await bot.services.storage.dialogs.draft(LI)
        assert draft.description == "Wages unpaid since May" and draft.place is None and draft.step == "place"


async def test_a_chat_whose_message_ids_started_again_is_still_heard(tmp_path: Path) -> None:
    """The sandbox's Telegram numbers a chat's messages from 1 again when it restarts: a new message with
    an id below the draft's last one, but a later date, is taken (a new operator's first text after a
    restart went unanswered)."""
    from storage.dialogs import LastText
    from tests.harness import running_bot

    async with running_bot(tmp_path / "hook.sqlite3") as bot:
        bot.user(LI, "Li")
        await bot.say(LI, "/appeal")
        await bot.press(LI, "Work protection")
        dialogs, now = bot.services.storage.dialogs, bot.clock.now
        draft = await dialogs.draft(LI)
        before_restart = LastText(message_id=10_000, at=int(now.timestamp()) - 60, went="refused")
        await dialogs.save_draft(LI, draft.model_copy(update={"last": before_restart}), now)
        await bot.say(LI, "Wages unpaid since May")
        assert "If the place does not matter" in bot.last_text(LI)
        assert (await dialogs.draft(LI)).description == "Wages unpaid since May"
