"""`python -m bot run` as a real process: /healthz and /metrics on the [ops] port when polling, JSON-lines
logs without secrets, and a restore refused while it runs."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.cli import main
from sandbox.core import BotApiCore
from sandbox.server import start_server
from tests.helpers import bot_environment, bot_said, start_bot_process
from tests.test_run_command import DISTRICT, HR, LI, TOKEN, file_wage_appeal, free_port

pytestmark = pytest.mark.slow  # the bot runs as a process of its own

PHONE = "+8613800138000"


async def test_polling_serves_health_and_metrics_logs_json_lines_and_keeps_restore_away(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    """Ready once started; updates counted under the configured worker; every log line is JSON with
    neither the token nor a phone number in it, at debug level too; restore refuses the running bot's database."""
    core = BotApiCore()
    core.add_user(LI, "Li", language_code="en")
    core.add_user(HR, "HR worker", language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(DISTRICT + f'\n[ops]\nport = {port}\nworker = "district-1"\n')
    env = bot_environment(tmp_path, url, TOKEN, APPEALS_BOT_CONFIG=str(config))
    process = await start_bot_process("run", "--debug", "--log-format", "json", workdir=tmp_path, env=env)
    ops = f"http://127.0.0.1:{port}"
    try:
        core.send_text(HR, "/start")
        await bot_said(core, HR, "Hello, HR worker!", process=process)
        await file_wage_appeal(core, process, "Two months of wages unpaid", phone=PHONE)
        await bot_said(core, HR, "New appeal for your unit: HR Bureau", process=process)
        async with aiohttp.ClientSession() as http:
            # It has answered, so it has started: its sender's loop runs.
            async with http.get(f"{ops}/healthz") as response:
                assert response.status == 200, await response.text()
                body = await response.json()
            assert body["worker"] == "district-1" and set(body["checks"].values()) == {"ok"}
            async with http.get(f"{ops}/metrics") as response:
                assert response.status == 200
                text = await response.text()
        handled = {
            s.labels["worker"]: s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "appeals_bot_updates_handled_total"
        }
        assert handled["district-1"] >= 7  # /start, and the filing dialog's six steps at least

        monkeypatch.setenv("APPEALS_BOT_DATABASE", str(tmp_path / "bot.sqlite3"))
        monkeypatch.delenv("APPEALS_BOT_CONFIG", raising=False)
        monkeypatch.chdir(tmp_path)
        assert main(["backup", "copy.sqlite3"]) == 0
        assert main(["restore", "copy.sqlite3"]) == 1
        assert "is in use by a running bot" in capsys.readouterr().err
        stdout, stderr = await process.stop()
    finally:
        await process.end()
        await runner.cleanup()
    assert process.returncode == 0, process.described()
    lines = stderr.decode().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {r["level"] for r in records} >= {"DEBUG", "INFO"}
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in records)
    assert any(r["message"].startswith("health and metrics on http://127.0.0.1:") for r in records)
    for secret in (TOKEN, PHONE, PHONE[1:], "Two months of wages unpaid"):
        assert secret.encode() not in stdout + stderr, secret
