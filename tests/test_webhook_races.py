"""Updates that race over the real webhook: one person's updates and presses about one appeal are
handled in turn, and every check-then-act step acts once.

The bot's Bot API calls go to the fake Telegram through a request that gives the loop a turn on
every call, as a network does: without it nothing the bot does would ever interleave, and these
tests could not fail. A `Gate` holds one call until the test lets it go, so a test knows which
update is mid-way when the next one arrives. Nothing waits for time: only for events and conditions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from telegram import Update

from bot.app import build_application
from bot.ordering import OrderedUpdates, order_keys
from bot.outbox_sender import Pacer
from bot.webhook import SECRET_HEADER, webhook_app
from domain.commands import NewAppeal, OpenHotSpot
from domain.lifecycle import Event, State
from handlers.telegram_text import said
from sandbox.core import BotApiCore
from sandbox.inprocess import InProcessRequest
from storage.dialogs import Step
from tests.harness import Bot, Clock, PacerTime, district_config
from tests.helpers import until

SECRET = "race-Secret_1"
COURIER, COURIER_2, STAFF_1, STAFF_2, COORDINATOR = 1001, 1002, 500, 501, 900
WAIT_S = 10
QUIET = {"text": None, "show_alert": False}  # a press answered with no toast


class Gate(InProcessRequest):
    """The in-process Bot API, a network's turn on every call, and one call held while the gate is armed."""

    def __init__(self, core: BotApiCore) -> None:
        super().__init__(core)
        self._armed = False
        self.held = asyncio.Event()  # a call is being held
        self._open = asyncio.Event()

    def arm(self) -> None:
        """Hold the next Bot API call until `release`."""
        self._armed, self._open = True, asyncio.Event()
        self.held.clear()

    def release(self) -> None:
        """Let the held call go on."""
        self._open.set()

    async def do_request(
        self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        await asyncio.sleep(0)  # the network: other updates get a turn here
        if self._armed:
            self._armed = False
            self.held.set()
            await self._open.wait()
        return await super().do_request(url, method, request_data, *args, **kwargs)


class Hook:
    """Telegram's side of the webhook: posts updates to the bot's real aiohttp server on 127.0.0.1."""

    def __init__(self, http: ClientSession, url: str) -> None:
        self._http, self._url = http, url

    async def post(self, update: Any, *, raw: bytes | None = None) -> int:
        """Post one update (or raw bytes); the HTTP status the bot answered."""
        body = raw if raw is not None else json.dumps(update).encode()
        headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        async with self._http.post(self._url, data=body, headers=headers) as response:
            return response.status


@asynccontextmanager
async def webhook_bot(tmp_path: Path) -> AsyncIterator[tuple[Bot, Gate, Hook]]:
    """The bot's real Application behind its real webhook server, on the fake Telegram through a Gate."""
    clock = Clock()
    core = BotApiCore(clock=lambda: clock.now.timestamp())
    pacer_time = PacerTime()
    gate = Gate(core)
    config = district_config(tmp_path / "races.sqlite3")
    app = build_application(
        config,
        clock=clock,
        pacer=Pacer(monotonic=pacer_time.monotonic, sleep=pacer_time.sleep),
        background=False,
        request=gate,
    )
    async with app:
        await app.post_init(app)
        server = TestServer(webhook_app(app, SECRET, "telegram"), host="127.0.0.1")
        await server.start_server()
        try:
            async with ClientSession() as http:
                yield Bot(app, core, clock, config, pacer_time), gate, Hook(http, str(server.make_url("/telegram")))
        finally:
            await server.close()
            await app.post_shutdown(app)


async def post_all(bot: Bot, hook: Hook, updates: list[Any]) -> list[int]:
    """Post updates side by side, as Telegram's parallel connections do; then send the notices they queued."""
    statuses = await asyncio.gather(*(hook.post(u) for u in updates))
    await bot.app.bot_data.sender.flush()
    return list(statuses)


def one_update(bot: Bot) -> dict[str, Any]:
    (update,) = bot.core.take_updates()
    return update


def t(bot: Bot, key: str, **values: Any) -> str:
    return bot.services.text("en", key, **values)


def answers(bot: Bot, query_ids: list[str]) -> list[dict[str, Any] | None]:
    """How each press was answered (toast text, alert), in the order given."""
    return [bot.core.answered_callback(q) for q in query_ids]


def calls_for(bot: Bot, query_id: str) -> int:
    """The index of the answerCallbackQuery call for a press."""
    return next(
        i
        for i, (m, p) in enumerate(bot.core.calls)
        if m == "answerCallbackQuery" and p.get("callback_query_id") == query_id
    )


async def to_review(bot: Bot, courier: int, category: str = "facilities") -> None:
    """A courier's draft, filled in and waiting at review (fed one update at a time, as in every test)."""
    for person in (courier, STAFF_1, STAFF_2):
        bot.user(person, f"P{person}")
    for staff in (STAFF_1, STAFF_2):
        await bot.services.storage.people.set_language(staff, "en")
    await bot.say(courier, "/appeal")
    await bot.press(courier, bot.services.category(category).name("en"))
    await bot.say(courier, "The charger at the station is broken")
    await bot.press(courier, t(bot, "button.skip"))
    await bot.press(courier, t(bot, "button.anonymous"))
    draft = await bot.services.storage.dialogs.draft(courier)
    assert draft is not None and draft.step == Step.REVIEW


async def appeals_of(bot: Bot, courier: int) -> list[int]:
    rows = await bot.services.storage.db.fetchall("SELECT id FROM appeals WHERE courier_id = ?", (courier,))
    return [r["id"] for r in rows]


async def events(bot: Bot, number: int) -> list[Event]:
    return [e.event for e in await bot.services.storage.appeals.ledger(number)]


# ---------------------------------------------------------------------------- one person's updates, in turn


async def test_a_category_tap_and_the_story_typed_right_after_are_taken_in_that_order(tmp_path: Path) -> None:
    """The tap is mid-way (its answer to Telegram held) when the story arrives: the story waits for it,
    and is taken as the description, not refused as "choose a category first"."""
    async with webhook_bot(tmp_path) as (bot, gate, hook):
        bot.user(COURIER, "Li")
        await bot.say(COURIER, "/appeal")
        tap = bot.core.press(COURIER, bot.services.category("facilities").name("en"))
        tapped = one_update(bot)
        bot.core.send_text(COURIER, "The charger at the station is broken")
        story = one_update(bot)

        gate.arm()
        first = asyncio.ensure_future(hook.post(tapped))
        await asyncio.wait_for(gate.held.wait(), WAIT_S)
        second = asyncio.ensure_future(hook.post(story))
        processor: OrderedUpdates = bot.app.update_processor  # type: ignore[assignment]
        await until(lambda: processor.waiting == 1, "the story to wait behind the tap")
        gate.release()
        assert await asyncio.gather(first, second) == [200, 200]

        assert answers(bot, [tap]) == [QUIET]
        draft = await bot.services.storage.dialogs.draft(COURIER)
        assert draft is not None and draft.category == "facilities"
        assert draft.description == "The charger at the station is broken"
        assert bot.last_text(COURIER) == t(bot, "filing.ask_place")
        assert t(bot, "filing.expecting_category") not in bot.texts(COURIER)


async def test_a_double_tap_of_confirm_files_one_appeal_over_the_webhook(tmp_path: Path) -> None:
    """Two taps of Confirm and send, posted at once: one appeal, one receipt; the other tap hears it is filed."""
    async with webhook_bot(tmp_path) as (bot, _gate, hook):
        await to_review(bot, COURIER)
        review = bot.core.last_message(COURIER)
        (confirm,) = [d for label, d in bot.core.inline_buttons(review) if label == t(bot, "button.confirm")]
        taps = [bot.core.press_button(COURIER, review["message_id"], confirm) for _ in range(2)]
        assert await post_all(bot, hook, bot.core.take_updates()) == [200, 200]

        (number,) = await appeals_of(bot, COURIER)
        assert answers(bot, taps) == [QUIET, {"text": t(bot, "filing2.already_filed"), "show_alert": False}]
        receipts = [x for x in bot.texts(COURIER) if f"#{number}" in x]
        assert len(receipts) == 1
        # The unit heard of it once.
        assert sum(f"#{number}" in x for x in bot.texts(STAFF_1)) == 1


async def test_two_confirms_handled_side_by_side_still_file_one_appeal(tmp_path: Path) -> None:
    """Without any ordering (the Application's process_update called twice at once), the database
    takes the draft once: the check-then-act is one transaction, not a read and a later write."""
    async with webhook_bot(tmp_path) as (bot, _gate, _hook):
        await to_review(bot, COURIER)
        review = bot.core.last_message(COURIER)
        (confirm,) = [d for label, d in bot.core.inline_buttons(review) if label == t(bot, "button.confirm")]
        taps = [bot.core.press_button(COURIER, review["message_id"], confirm) for _ in range(2)]
        updates = [Update.de_json(u, bot.app.bot) for u in bot.core.take_updates()]
        await asyncio.gather(*(bot.app.process_update(u) for u in updates))

        assert len(await appeals_of(bot, COURIER)) == 1
        assert sorted(json.dumps(a) for a in answers(bot, taps)) == sorted(
            json.dumps(a) for a in (QUIET, {"text": t(bot, "filing2.already_filed"), "show_alert": False})
        )


async def test_a_double_tap_of_confirm_resolve_resolves_once(tmp_path: Path) -> None:
    """Staff's Confirm resolve, tapped twice and posted at once: one resolve, one notice; the other tap: already done."""
    async with webhook_bot(tmp_path) as (bot, _gate, hook):
        await to_review(bot, COURIER)
        await bot.press(COURIER, t(bot, "button.confirm"))
        (number,) = await appeals_of(bot, COURIER)
        await bot.press(STAFF_1, t(bot, "button.accept"))
        await bot.press(STAFF_1, t(bot, "button.resolve"))
        await bot.say(STAFF_1, "A new charger is fitted")
        shown_back = bot.core.last_message(STAFF_1)
        (confirm,) = [
            d for label, d in bot.core.inline_buttons(shown_back) if label == t(bot, "confirm.button_resolve")
        ]
        taps = [bot.core.press_button(STAFF_1, shown_back["message_id"], confirm) for _ in range(2)]
        assert await post_all(bot, hook, bot.core.take_updates()) == [200, 200]

        assert (await events(bot, number)).count(Event.RESOLVE) == 1
        assert (await bot.services.storage.appeals.get(number)).state == State.FEEDBACK
        assert answers(bot, taps) == [QUIET, {"text": t(bot, "stale.already_done", number=number), "show_alert": False}]
        resolved = t(
            bot, "notice.resolve.courier", unit="Station One", number=number, note=said("A new charger is fitted")
        )
        assert bot.texts(COURIER).count(resolved) == 1


async def test_two_taps_sending_one_kept_text_to_two_appeals_side_by_side_send_it_once(tmp_path: Path) -> None:
    """Text typed with two questions open, then both appeals' buttons tapped and handled at once with no
    ordering: the text is taken from the draft once, so it answers one appeal; the other tap hears it is gone."""
    async with webhook_bot(tmp_path) as (bot, _gate, _hook):
        numbers = []
        bot.user(600, "HR")
        await bot.services.storage.people.set_language(600, "en")
        for question in ("Which platform?", "Which month?"):
            await to_review(bot, COURIER, "work")
            await bot.press(COURIER, t(bot, "button.confirm"))
            numbers.append((await appeals_of(bot, COURIER))[-1])
            await bot.press(600, t(bot, "button.accept"))
            await bot.press(600, t(bot, "button.ask"))
            await bot.say(600, question)
        (offer,) = await bot.say(COURIER, "October, on Meituan")
        taps = [
            bot.core.press_button(COURIER, offer["message_id"], data)
            for label, data in bot.core.inline_buttons(offer)
            if label.startswith("#")
        ]
        updates = [Update.de_json(u, bot.app.bot) for u in bot.core.take_updates()]
        await asyncio.gather(*(bot.app.process_update(u) for u in updates))

        answered = [n for n in numbers if (await events(bot, n))[-1] is Event.ANSWER]
        assert len(answered) == 1 and len(taps) == 2
        assert sorted(json.dumps(a) for a in answers(bot, taps)) == sorted(
            json.dumps(a) for a in (QUIET, {"text": t(bot, "freetext.nothing_kept"), "show_alert": True})
        )


# ---------------------------------------------------------------------------- different people, one thing


async def test_two_staff_pressing_accept_on_one_appeal_take_turns(tmp_path: Path) -> None:
    """Presses about one appeal from two chats: the second waits until the first is done, then hears who took it."""
    async with webhook_bot(tmp_path) as (bot, gate, hook):
        await to_review(bot, COURIER)
        await bot.press(COURIER, t(bot, "button.confirm"))
        (number,) = await appeals_of(bot, COURIER)
        first_tap = bot.core.press(STAFF_1, t(bot, "button.accept"))
        first = one_update(bot)
        second_tap = bot.core.press(STAFF_2, t(bot, "button.accept"))
        second = one_update(bot)

        gate.arm()
        posted = asyncio.ensure_future(hook.post(first))
        await asyncio.wait_for(gate.held.wait(), WAIT_S)
        later = asyncio.ensure_future(hook.post(second))
        processor: OrderedUpdates = bot.app.update_processor  # type: ignore[assignment]
        await until(lambda: processor.waiting == 1, "the second press to wait for the first")
        gate.release()
        assert await asyncio.gather(posted, later) == [200, 200]

        assert (await events(bot, number)).count(Event.ACCEPT) == 1
        assert answers(bot, [first_tap, second_tap]) == [
            QUIET,
            {"text": t(bot, "stale.accept", number=number, unit="Station One"), "show_alert": False},
        ]
        # In turn: the second press was answered after the first one's last word to its presser.
        assert calls_for(bot, second_tap) > max(
            i for i, (m, p) in enumerate(bot.core.calls) if p.get("chat_id") == STAFF_1
        )


async def test_two_people_sending_one_invite_code_at_once_one_joins(tmp_path: Path) -> None:
    """Two workers send the same /join code at the same moment: one becomes staff, the other is told the code is used."""
    async with webhook_bot(tmp_path) as (bot, _gate, hook):
        bot.user(COORDINATOR, "Coordinator")
        await bot.say(COORDINATOR, "/invite hr")
        code = bot.last_text(COORDINATOR).rsplit(" ", 1)[1]
        bot.user(COURIER, "Wang")
        bot.user(COURIER_2, "Zhao")
        bot.core.send_text(COURIER, f"/join {code}")
        bot.core.send_text(COURIER_2, f"/join {code}")
        assert await post_all(bot, hook, bot.core.take_updates()) == [200, 200]

        people = bot.services.storage.people
        roles = sorted([(await people.get(p)).role for p in (COURIER, COURIER_2)])
        assert roles == ["courier", "staff"]
        said = sorted(bot.last_text(p) for p in (COURIER, COURIER_2))
        assert said == sorted([t(bot, "staff.join_ok", unit="HR Bureau"), t(bot, "staff.join_bad")])
        row = await bot.services.storage.db.fetchone("SELECT used_by FROM invites WHERE code = ?", (code,))
        assert (await people.get(row["used_by"])).role == "staff"


async def test_a_double_tap_of_erase_erases_once(tmp_path: Path) -> None:
    """Yes, delete it, tapped twice and posted at once: one "deleted" message, the other tap hears it is done."""
    async with webhook_bot(tmp_path) as (bot, _gate, hook):
        await to_review(bot, COURIER)
        await bot.press(COURIER, t(bot, "button.confirm"))
        await bot.say(COURIER, "/privacy")
        await bot.press(COURIER, t(bot, "privacy.delete"))
        asked = bot.core.last_message(COURIER)
        (yes,) = [d for label, d in bot.core.inline_buttons(asked) if label == t(bot, "privacy.confirm")]
        taps = [bot.core.press_button(COURIER, asked["message_id"], yes) for _ in range(2)]
        assert await post_all(bot, hook, bot.core.take_updates()) == [200, 200]

        erased = t(bot, "privacy.erased", appeals=1, withdrawn=1)
        assert bot.texts(COURIER).count(erased) == 1
        assert answers(bot, taps) == [QUIET, {"text": t(bot, "stale.already_done_plain"), "show_alert": False}]


async def test_erasing_twice_side_by_side_finds_something_once(tmp_path: Path) -> None:
    """Storage alone: two erasures at once; the one whose transaction came first reports what it found."""
    async with webhook_bot(tmp_path) as (bot, _gate, _hook):
        await to_review(bot, COURIER)
        await bot.press(COURIER, t(bot, "button.confirm"))
        privacy = bot.services.storage.privacy
        results = await asyncio.gather(*(privacy.erase(COURIER, bot.clock()) for _ in range(2)))
        assert sorted(r.found for r in results) == [False, True]


async def test_two_coordinators_making_one_hot_spot_an_appeal_at_once_make_one(tmp_path: Path) -> None:
    """Storage alone: the hot spot's appeals are checked for a link in the transaction that links them."""
    async with webhook_bot(tmp_path) as (bot, _gate, _hook):
        appeals = bot.services.storage.appeals
        await bot.start(COURIER, COURIER_2, 1003)
        for courier in (COURIER, COURIER_2, 1003):
            new = NewAppeal(
                courier_id=courier,
                category="facilities",
                description="Broken charger",
                language="en",
                lat=31.2,
                lon=121.4,
            )
            await appeals.submit(new, None, bot.clock())
        (spot,) = await bot.services.storage.reports.hotspots(bot.clock() + timedelta(days=1))
        made = await asyncio.gather(
            *(appeals.open_hotspot(OpenHotSpot(COORDINATOR, spot, "Hot spot", "en"), bot.clock()) for _ in range(2))
        )
        assert sorted(m is None for m in made) == [False, True]
        links = await bot.services.storage.db.fetchone("SELECT count(*) FROM appeal_links WHERE kind = 'hotspot'")
        assert links[0] == 3


# ---------------------------------------------------------------------------- what may come in


BAD_BODIES: list[tuple[str, bytes]] = [
    ("invalid JSON", b"{not json"),
    ("empty", b""),
    ("not UTF-8", b"\xff\xfe{}"),
    ("an array", b"[]"),
    ("an array of an update", b'[{"update_id": 1}]'),
    ("a number", b"5"),
    ("a string", b'"update"'),
    ("null", b"null"),
    ("an object without update_id", b"{}"),
    ("update_id a string", b'{"update_id": "1"}'),
    ("update_id a boolean", b'{"update_id": true}'),
    ("update_id a float", b'{"update_id": 1.5}'),
    ("a message that is a string", b'{"update_id": 1, "message": "hello"}'),
    ("a message without a chat", b'{"update_id": 1, "message": {"message_id": 1, "date": 0}}'),
    (
        "a message id that is a string",
        b'{"update_id": 1, "message": {"message_id": "x", "date": 0, "chat": {"id": 7, "type": "private"}}}',
    ),
    (
        "a chat id that is a string",
        b'{"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": "seven", "type": "private"}}}',
    ),
    (
        "a date that is a word",
        b'{"update_id": 1, "message": {"message_id": 1, "date": "today", "chat": {"id": 7, "type": "private"}}}',
    ),
    (
        "text that is a number",
        b'{"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, "text": 5}}',
    ),
    ("a press that is a list", b'{"update_id": 1, "callback_query": [1, 2]}'),
    ("a press without a sender", b'{"update_id": 1, "callback_query": {"id": "1", "chat_instance": "1"}}'),
    (
        "press data that is a number",
        b'{"update_id": 1, "callback_query": {"id": "1", "chat_instance": "1", "data": 5, "from": {"id": 7, "is_bot": false, "first_name": "A"}}}',
    ),
    ("deeply nested", b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
]


@pytest.mark.parametrize(("what", "body"), BAD_BODIES, ids=[w for w, _ in BAD_BODIES])
async def test_a_body_that_is_not_a_telegram_update_is_answered_400(tmp_path: Path, what: str, body: bytes) -> None:
    """Anything but an update object: 400 (Telegram would not send it again), nothing handled; a real update still works."""
    async with webhook_bot(tmp_path) as (bot, _gate, hook):
        bot.user(COURIER, "Li")
        assert await hook.post(None, raw=body) == 400, what
        assert bot.core.bot_messages(COURIER) == []
        assert not bot.app.bot_data.failed_updates
        bot.core.send_text(COURIER, "/start")
        assert await hook.post(one_update(bot)) == 200
        assert bot.last_text(COURIER).startswith("Hello, Li!")


# ---------------------------------------------------------------------------- the keys


def test_order_keys_name_the_chat_the_sender_and_what_a_press_is_about() -> None:
    """A message waits for its chat and sender; a press also for the appeal or station it is about."""
    core = BotApiCore()
    core.add_user(COURIER, "Li")
    core.send_text(COURIER, "hello")
    (update,) = core.take_updates()
    assert order_keys(Update.de_json(update, None)) == {f"chat:{COURIER}", f"user:{COURIER}"}
    core.press_button(COURIER, update["message"]["message_id"], "ap:17:acc")
    core.press_button(COURIER, update["message"]["message_id"], "sa:shut:hp-040")
    core.press_button(COURIER, update["message"]["message_id"], "nonsense")
    appeal, station, nonsense = (order_keys(Update.de_json(u, None)) for u in core.take_updates())
    assert appeal == {f"chat:{COURIER}", f"user:{COURIER}", "appeal:17"}
    assert station == {f"chat:{COURIER}", f"user:{COURIER}", "station:hp-040"}
    assert nonsense == {f"chat:{COURIER}", f"user:{COURIER}"}


async def test_an_update_cancelled_while_waiting_lets_the_next_one_run() -> None:
    """A waiting update that is cancelled (shutdown) never runs and never blocks the ones after it."""
    core = BotApiCore()
    core.add_user(COURIER, "Li")
    for text in ("one", "two", "three"):
        core.send_text(COURIER, text)
    one, two, three = (Update.de_json(u, None) for u in core.take_updates())
    processor = OrderedUpdates(4)
    ran: list[str] = []
    first_may_end = asyncio.Event()

    async def handle(name: str, wait: Awaitable[Any] | None = None) -> None:
        if wait is not None:
            await wait
        ran.append(name)

    first = asyncio.ensure_future(processor.process_update(one, handle("one", first_may_end.wait())))
    second = asyncio.ensure_future(processor.process_update(two, handle("two")))
    third = asyncio.ensure_future(processor.process_update(three, handle("three")))
    await until(lambda: processor.waiting == 2, "two updates waiting")
    second.cancel()
    await asyncio.wait([second])
    for _ in range(20):  # turns of the loop, not time: enough for the third to run if it were let go
        await asyncio.sleep(0)
    assert ran == [] and processor.waiting == 1  # the third still waits for the first
    first_may_end.set()
    await asyncio.wait_for(asyncio.gather(first, third), WAIT_S)
    assert second.cancelled() and ran == ["one", "three"]
