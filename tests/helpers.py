"""What many tests do, each done one way: wait for something, start the bot's own process, file an appeal."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from domain.commands import NewAppeal
from domain.filing_limits import FilingLimits
from handlers import callbacks
from sandbox.core import BotApiCore
from tests.harness import Bot

T = TypeVar("T")
# Register a listener (called with anything) for changes; returns the unsubscribe.
Subscribe = Callable[[Callable[[object], None]], Callable[[], None]]
ROOT = Path(__file__).resolve().parent.parent
# How long a wait may take before the test fails: generous, as a loaded machine is slow; a wait that
# succeeds ends the moment its condition holds, so a passing test never waits this out.
WAIT_S = 20.0
EXIT_S = 15.0


class TimedOut(AssertionError):
    """A wait's condition did not hold in time."""


async def until(
    condition: Callable[[], T],
    what: str = "a condition",
    *,
    core: BotApiCore | None = None,
    wake: Subscribe | None = None,
    process: BotProcess | None = None,
    seconds: float = WAIT_S,
) -> T:
    """Wait until `condition()` is truthy and return its value; TimedOut (a test failure) after `seconds`.

    With `core` the condition is checked again each time a chat of the fake Telegram changes (what the
    bot sends, edits or deletes); with `wake` (a subscribe function like core.subscribe), each time it
    calls; with neither, at every turn of the event loop. With `process`, the wait fails at once, with
    the process's output, if the process ends first.
    """
    changed = asyncio.Event()
    subscribe = wake or (core.subscribe if core is not None else None)
    unsubscribe = subscribe(lambda _what: changed.set()) if subscribe is not None else None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while True:
            changed.clear()
            if value := condition():
                return value
            if process is not None and process.output.done():
                pytest.fail(f"the bot exited while waiting for {what}\n{process.described()}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimedOut(
                    f"timed out after {seconds:g} s waiting for {what}"
                    + (f"\n{process.described()}" if process else "")
                )
            if subscribe is None:
                await asyncio.sleep(0)  # a turn for whatever makes the condition true
                continue
            awaited = {asyncio.ensure_future(changed.wait())}
            if process is not None:
                awaited.add(process.output)
            _, pending = await asyncio.wait(awaited, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending - {process.output if process else None}:
                waiter.cancel()
    finally:
        if unsubscribe is not None:
            unsubscribe()


class CallsTold(BotApiCore):
    """The fake Telegram, telling listeners (a `wake` for `until`) of each Bot API call too: a setWebhook or an
    answered press changes no chat."""

    def __init__(self) -> None:
        super().__init__()
        self._call_listeners: list[Callable[[object], None]] = []

    def on_call(self, listener: Callable[[object], None]) -> Callable[[], None]:
        """Call listener(method) after each call; returns an unsubscribe."""
        self._call_listeners.append(listener)
        return lambda: self._call_listeners.remove(listener)

    async def call_encoded(self, method: str, *args: Any, **kwargs: Any) -> bytes:
        try:
            return await super().call_encoded(method, *args, **kwargs)
        finally:
            for listener in list(self._call_listeners):
                listener(method)


async def bot_said(
    core: BotApiCore, chat: int, fragment: str, *, process: BotProcess | None = None, seconds: float = WAIT_S
) -> dict:
    """Wait until the bot has sent `chat` a message containing `fragment`; return that message."""

    def said() -> dict | None:
        return next((m for m in core.bot_messages(chat) if fragment in (m.get("text") or "")), None)

    try:
        return await until(said, f"a message with {fragment!r} to {chat}", core=core, process=process, seconds=seconds)
    except TimedOut as timed_out:
        recent = [m.get("text") for m in core.bot_messages(chat)][-3:]
        raise TimedOut(f"{timed_out}; the chat's last messages: {recent}") from None


@dataclass
class BotProcess:
    """`python -m bot ...` running as a process of its own; its output is read all along."""

    process: asyncio.subprocess.Process
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    # (stdout, stderr) once the process has ended and both pipes are read to their end.
    output: asyncio.Future[tuple[bytes, bytes]] = field(init=False)
    _listeners: list[Callable[[object], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Reading both pipes all along keeps a chatty bot from blocking on a full pipe.
        self.output = asyncio.ensure_future(self._read())

    async def _read(self) -> tuple[bytes, bytes]:
        async def pump(stream: asyncio.StreamReader, into: bytearray) -> None:
            while chunk := await stream.read(1 << 16):
                into += chunk
                for listener in list(self._listeners):
                    listener(chunk)

        await asyncio.gather(pump(self.process.stdout, self.stdout), pump(self.process.stderr, self.stderr))
        await self.process.wait()
        return bytes(self.stdout), bytes(self.stderr)

    def on_output(self, listener: Callable[[object], None]) -> Callable[[], None]:
        """Call listener(chunk) on each piece of output; returns an unsubscribe (a `wake` for `until`)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def printed(self, pattern: re.Pattern[str], seconds: float = WAIT_S) -> re.Match[str]:
        """Wait until the standard output matches `pattern`; the match."""
        return await until(
            lambda: pattern.search(self.stdout.decode(errors="replace")), f"output {pattern.pattern!r}",
            wake=self.on_output, process=self, seconds=seconds,
        )  # fmt: skip

    def described(self) -> str:
        """The process's exit code (if it has ended) and its output so far, for a failure message."""
        stdout, stderr = (part.decode(errors="replace") for part in (self.stdout, self.stderr))
        return f"exit code {self.process.returncode}\nstdout:\n{stdout}\nstderr:\n{stderr}"

    async def stop(self, sig: signal.Signals = signal.SIGTERM, seconds: float = EXIT_S) -> tuple[bytes, bytes]:
        """Send `sig` and wait for the process to exit; its (stdout, stderr). Fails if it outlives `seconds`."""
        self.process.send_signal(sig)
        try:
            return await asyncio.wait_for(asyncio.shield(self.output), seconds)
        except TimeoutError:
            self.process.kill()
            await self.output
            pytest.fail(f"still running {seconds:g} s after {sig.name}\n{self.described()}")

    @property
    def returncode(self) -> int | None:
        """The exit code, once it has ended."""
        return self.process.returncode

    async def kill(self) -> None:
        """SIGKILL, as a crash would, and wait until it is gone."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def end(self) -> None:
        """However the test went: kill the process if it still runs, and wait for its output (a test's `finally`)."""
        if self.process.returncode is None:
            self.process.kill()
        await asyncio.gather(self.output, return_exceptions=True)


def bot_environment(workdir: Path, url: str | None, token: str | None, **more: str) -> dict[str, str]:
    """The environment a bot process under test gets: the fake Telegram at `url` (if any), the database in `workdir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "APPEALS_BOT_"))}
    env.update(
        {
            "APPEALS_BOT_DATABASE": str(workdir / "bot.sqlite3"),
            "PTB_TIMEDELTA": "true",
            # The code under test, not whatever checkout the virtualenv was installed from.
            "PYTHONPATH": str(ROOT),
        }
    )
    if token:
        env["TELEGRAM_BOT_TOKEN"] = token
    if url:
        env.update({"TELEGRAM_BASE_URL": f"{url}/bot", "TELEGRAM_BASE_FILE_URL": f"{url}/file/bot"})
    env.update(more)
    return env


async def start_bot_process(*args: str, workdir: Path, env: dict[str, str]) -> BotProcess:
    """Start `python -m bot ARGS` in `workdir`; `end()` it in the test's `finally`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=workdir, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return BotProcess(process)


async def draft_over_http(
    core: BotApiCore,
    courier: int,
    category: str,
    text: str,
    *,
    process: BotProcess | None = None,
    phone: str | None = None,
) -> None:
    """The courier fills in the filing dialog in English, each step once its question has come: the category
    button, `text`, no place, `phone` shared or anonymous; it ends at the review, for the caller to confirm."""
    core.send_text(courier, "/appeal")
    await bot_said(core, courier, "What is it about?", process=process)
    core.press(courier, category)
    await bot_said(core, courier, "Describe the problem", process=process)
    core.send_text(courier, text)
    await bot_said(core, courier, "If the place does not matter", process=process)
    core.press(courier, "Skip")
    await bot_said(core, courier, "staff will then see only what you wrote", process=process)
    if phone:
        core.share_contact(courier, phone, "Li", contact_user_id=courier)
    else:
        core.press(courier, "Skip")
    await bot_said(core, courier, "Please check your appeal", process=process)


async def press_data(bot: Bot, person: int, data: str, *, chat_id: int | None = None) -> str:
    """Press a button with exactly this callback data on the newest message in the chat."""
    chat = chat_id if chat_id is not None else person
    message = bot.core.last_message(chat)
    if message is None:
        await bot.say(person, "/start")
        message = bot.core.last_message(chat)
    query = bot.core.press_button(person, message["message_id"], data, chat_id=chat_id)
    await bot.deliver()
    return query


def number_in(text: str) -> int:
    """The first appeal number (#N) in a text."""
    return int(text.split("#", 1)[1].split()[0].rstrip(".,:;，。"))


async def file_appeal(
    bot: Bot, courier: int, category: str, text: str, *, station: str | None = None, lang: str = "en"
) -> int:
    """File through the dialog in `lang` (the category's button label, the description, no place, anonymous),
    from /appeal or from a station's "appeal here" button; return the appeal's number."""
    t = lambda key: bot.services.text(lang, key)  # noqa: E731
    if station:
        await press_data(bot, courier, callbacks.station("appeal", station))
    else:
        await bot.say(courier, "/appeal")
    await bot.press(courier, category)
    await bot.say(courier, text)
    if not station:
        await bot.press(courier, t("button.skip"))  # the place
    await bot.press(courier, t("button.skip"))  # the phone
    await bot.press(courier, t("button.confirm"))
    return number_in(bot.last_text(courier))


async def submit_appeal(
    bot: Bot,
    courier: int,
    category: str = "work",
    unit: str | None = "hr",
    description: str = "Wages unpaid",
    *,
    limits: FilingLimits | None = None,
    **more: Any,
) -> int:
    """An appeal stored now as the filing dialog's last step stores it (routed to `unit`), without the
    dialog; `more` are NewAppeal's other fields (station_id, place...). Its number."""
    new = NewAppeal(courier_id=courier, category=category, description=description, language="en", **more)
    return (await bot.services.storage.appeals.submit(new, unit, bot.clock(), limits)).appeal.id


# The environment that would let a machine's own bot settings leak into a test.
MACHINE_SETTINGS = (
    "APPEALS_BOT_CONFIG",
    "APPEALS_BOT_DATABASE",
    "APPEALS_BOT_DATABASE_URL",
    "APPEALS_BOT_NO_TOKEN",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
)
# A one-unit district's [[units]] table, for configs written by a test.
ONE_UNIT = '[[units]]\nid = "hr"\nkind = "department"\nzh = "人社局"\nen = "HR Bureau"\n'


def without_machine_settings(monkeypatch: Any, workdir: Path) -> None:
    """No config, database or Telegram setting leaks in from the machine; work in `workdir`."""
    for name in MACHINE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(workdir)
