"""`python -m bot run --webhook --workers 2`: two worker processes on one port and one PostgreSQL database."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main
from sandbox.server import start_server
from tests.helpers import BotProcess, CallsTold, bot_environment, start_bot_process, until
from tests.test_run_command import free_port

TOKEN = "123456:TEST"
SECRET = "s3cret-Token_1"
COURIERS = range(8101, 8131)
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
LISTENING = re.compile(r"webhook listening on \S+ \(worker (\d)\)")


def test_several_workers_need_the_webhook_and_postgresql(tmp_path: Path, capsys, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('default_language = "en"\n[telegram]\ntoken = "123456:TEST"\n')
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    assert main(["run", "--config", str(config), "--workers", "2"]) == 2
    assert "--workers needs --webhook and a PostgreSQL database" in capsys.readouterr().err
    assert not (tmp_path / "appeals.sqlite3").exists()  # nothing was opened


def children(pid: int) -> set[int]:
    """The processes `pid` started (its workers)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


async def listening(process: BotProcess, count: int) -> None:
    """Wait until `count` "webhook listening (worker N)" lines were logged."""
    await until(
        lambda: len(LISTENING.findall(process.stderr.decode(errors="replace"))) >= count,
        f"{count} workers listening",
        wake=process.on_output,
        process=process,
        seconds=60,
    )


async def post(hook: str, update: dict) -> int:
    """POST one update on a connection of its own (the kernel may give it to either worker); the status."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        async with http.post(hook, json=update, headers=HEADERS) as response:
            return response.status


@pytest.mark.slow  # a real PostgreSQL server and three processes
async def test_two_workers_share_the_updates_and_one_comes_back_after_a_kill(tmp_path: Path, postgres_url) -> None:
    core = CallsTold()
    for courier in COURIERS:
        core.add_user(courier, f"Courier {courier}", language_code="en")
    runner, url = await start_server(core, token=TOKEN)
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'default_language = "en"\n[webhook]\nurl = "http://127.0.0.1:{port}"\nport = {port}\n'
        f'[database]\nurl = "{postgres_url}"\n'
    )
    env = bot_environment(tmp_path, url, TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET, APPEALS_BOT_CONFIG=str(config))
    process = await start_bot_process("run", "--webhook", "--workers", "2", workdir=tmp_path, env=env)
    hook = f"http://127.0.0.1:{port}/telegram"
    workers: set[int] = set()
    try:
        await listening(process, 2)
        workers = children(process.process.pid)
        assert len(workers) == 2
        assert sum(m.lower() == "setwebhook" for m, _ in core.calls) == 1  # worker 0 alone tells Telegram

        updates = []
        for courier in COURIERS:
            core.send_text(courier, "/start")
            updates += core.take_updates()
        assert [await post(hook, update) for update in updates] == [200] * len(updates)
        # Delivered again to whichever worker: each was handled once.
        assert [await post(hook, update) for update in updates] == [200] * len(updates)
        assert all(len(core.bot_messages(courier)) == 1 for courier in COURIERS)
        handled_by = await handled_per_worker(port)
        # Both took some; the metric counts the redeliveries (each dropped by the handled-updates check) too.
        assert len(handled_by) == 2 and min(handled_by.values()) > 0, handled_by
        assert sum(handled_by.values()) == 2 * len(updates), handled_by

        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        await listening(process, 3)  # started again
        assert "ended with -9; starting it again" in process.stderr.decode(errors="replace")
        workers = children(process.process.pid)
        assert killed not in workers and len(workers) == 2
        for courier in COURIERS:
            core.send_text(courier, "/help")
        assert [await post(hook, update) for update in core.take_updates()] == [200] * len(COURIERS)
        assert all(len(core.bot_messages(courier)) == 2 for courier in COURIERS)

        await process.stop()
    finally:
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        await process.end()
        await runner.cleanup()
    assert process.returncode == 0, process.described()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # the workers stopped with it


async def handled_per_worker(port: int) -> dict[str, float]:
    """Updates handled per worker, from /metrics asked of both (each connection reaches one of them)."""
    seen: dict[str, float] = {}
    line = re.compile(r'^appeals_bot_updates_handled_total\{worker="([^"]+)"\} (\S+)$', re.M)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        for _ in range(200):
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                seen.update((worker, float(count)) for worker, count in line.findall(await response.text()))
            if len(seen) == 2:
                break
    return seen
