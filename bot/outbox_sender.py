"""Send what the outbox holds, in each chat's order, paced to Telegram's limits, and record every outcome.

Pacing never holds one chat behind another: a chat that must wait (one message a second, twenty a
minute in a group) is skipped, and the other chats' messages go meanwhile; only the overall limit
(thirty a second, or Telegram's flood control) makes everyone wait. Each round reads the oldest
pending message of every chat not waiting, so a unit's chat with hundreds queued takes one place
in a round, not the whole round.

Delivery is at least once: a row is marked sent only after Telegram has accepted the message,
so a process that dies between the two sends that message again after a restart. The other
choice (mark, then send) would lose the notice instead, and a courier's appeal notice lost is
worse than one seen twice. The rows Telegram accepted are marked in one write at the end of each
batch, and before any pause for pacing: a death in between repeats at most the messages sent since
(a new appeal's notices to its unit's workers), where a write per message cost more than the sends.

A notice may go in parts: its card (or the chat's card edited in place and a line under it), then
the files it brings, as albums and voice notes. When a part fails and the notice must wait, the
row keeps how many parts Telegram took, and the retry starts after them; each chat's rows still go
in order. After each batch, the other messages that show the appeals it touched (other workers'
cards, a courier's answer buttons) are edited to match, or lose buttons that no longer apply.

Several processes on one database have one sender among them (storage's sender lease, docs/design.md
§6.5): a flush in a process that does not hold it sends nothing, and asks again at its next one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application

from bot.errors import log_failure
from handlers.cards import roles
from handlers.desk import desk_thread, failure_reason, retitle, topic_gone
from handlers.digest import Part as DigestPart
from handlers.digest import digest_parts
from handlers.evidence import Part, card_view, file_parts, files_caption, not_modified
from handlers.keyboards import Keyboard
from handlers.notices import Notice, NoticeMemo, answer_buttons, notice_files, render_notice
from handlers.outreach import outreach_parts
from handlers.services import Services
from storage.desks import is_desk
from storage.models import Appeal, AppealMessage, OutboxMessage, Person, from_ts
from storage.outreach import TEMPLATE_PREFIX

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=5)
LAST_RETRY = timedelta(minutes=10)
MAX_ATTEMPTS = 12  # about an hour of backoff before a message is given up as dead
# While only waiting chats have messages, the sender looks again this often (new messages may be for others).
RECHECK_SECONDS = 1.0


@dataclass
class Pacer:
    """Telegram's limits: 30 messages a second overall, 1 a second per chat, 20 a minute per group."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    per_second: int = 30
    chat_gap: float = 1.0
    group_per_minute: int = 20
    _recent: deque[float] = field(default_factory=deque)
    _last_in_chat: dict[int, float] = field(default_factory=dict)
    _group_recent: dict[int, deque[float]] = field(default_factory=dict)
    _paused_until: float = 0.0

    def overall_wait(self) -> float:
        """Seconds until any message may go: the bot-wide limit and flood control."""
        now = self.monotonic()
        waits = [self._paused_until - now]
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.per_second:
            waits.append(self._recent[0] + 1.0 - now)
        return max(0.0, *waits)

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until `chat_id` may take a message by its own limits (other chats need not wait for it)."""
        now = self.monotonic()
        waits = [0.0]
        if chat_id in self._last_in_chat:
            waits.append(self._last_in_chat[chat_id] + self.chat_gap - now)
        if chat_id < 0:
            group = self._group_recent.setdefault(chat_id, deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) >= self.group_per_minute:
                waits.append(group[0] + 60.0 - now)
        return max(waits)

    def sent(self, chat_id: int) -> None:
        """Count a message that went out now."""
        now = self.monotonic()
        self._recent.append(now)
        self._last_in_chat[chat_id] = now
        if chat_id < 0:
            self._group_recent.setdefault(chat_id, deque()).append(now)

    def pause(self, seconds: float) -> None:
        """Telegram said to wait (flood control applies to the whole bot)."""
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)


def _backoff(attempts: int) -> timedelta:
    return min(LAST_RETRY, FIRST_RETRY * 2 ** max(0, attempts))


class OutboxSender:
    """Drains due outbox rows in order; one flush at a time."""

    def __init__(self, application: Application, services: Services, pacer: Pacer | None = None) -> None:
        self._application = application
        self._services = services
        self._pacer = pacer or Pacer()
        self._lock = asyncio.Lock()
        self._kick = asyncio.Event()
        self._progress = 0  # the parts of the message being sent that Telegram has taken
        self._shown: list[tuple[AppealMessage, datetime]] = []  # messages sent that show an appeal, to record
        self._stale: set[int] = set()  # appeals whose other messages are still to be brought up to date
        self._ticked = self._pacer.monotonic()  # when the loop last went round (/healthz: is it alive?)

    def idle_seconds(self) -> float:
        """Seconds since the loop last went round: an idle wait or a round of sending (on the pacer's clock)."""
        return max(0.0, self._pacer.monotonic() - self._ticked)

    def kick(self) -> None:
        """Wake the background loop: something new may be in the outbox."""
        self._kick.set()

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        """The background loop: flush, then wait for a kick (or a little while, for retries)."""
        while True:
            self._ticked = self._pacer.monotonic()
            try:
                await self.flush()
            except Exception as error:
                log_failure(log, "an outbox flush (the loop tries again)", error, self._services.storage.db)
            try:
                await asyncio.wait_for(self._kick.wait(), idle_seconds)
            except TimeoutError:
                pass
            self._kick.clear()

    async def flush(self) -> int:
        """Send every due message, pacing as needed; return how many were sent."""
        async with self._lock:
            sent = 0
            storage, pacer = self._services.storage, self._pacer
            held: dict[int, float] = {}  # chats that must wait, and when they may take a message
            while True:
                now = self._ticked = pacer.monotonic()
                # One process sends at a time (Telegram's limits and each chat's order are the whole bot's):
                # another holds the turn, or this one lost it. Asked again at the next flush, every few seconds.
                if not await storage.outbox.sender_lease():
                    break
                held = {chat: ready for chat, ready in held.items() if ready > now}
                batch = await storage.outbox.due(
                    self._services.clock(), skip=set(held), outreach=self._outreach_allowance()
                )
                progressed = False
                if batch:
                    outcomes = await self._round(batch, held)
                    progressed = any(outcome in ("sent", "dead") for _, outcome in outcomes)
                    sent += sum(outcome == "sent" for _, outcome in outcomes)
                    touched = {m.appeal_id for m, outcome in outcomes if outcome == "sent" and m.appeal_id is not None}
                    self._stale |= touched
                    await self._retitle(touched)
                if self._stale:
                    self._stale = await self._refresh(self._stale, held)
                if progressed:
                    continue
                if not held:
                    break
                # Only waiting chats have something to send: wait for the first, looking again now and
                # then, as a message for another chat may have come meanwhile.
                await pacer.sleep(max(0.0, min(min(held.values()) - pacer.monotonic(), RECHECK_SECONDS)))
            return sent

    def _outreach_allowance(self) -> int:
        """How many outreach messages a round may take: none in quiet hours, else a second's worth at the
        overall limit (a round then lasts about a second, so an appeal notice that comes meanwhile waits
        no longer than that)."""
        config = self._application.bot_data.config
        if config is not None and config.outreach.is_quiet(self._services.clock().astimezone(self._services.zone)):
            return 0
        return self._pacer.per_second

    async def _round(self, batch: list[OutboxMessage], held: dict[int, float]) -> list[tuple[OutboxMessage, str]]:
        """Try the oldest due message of each chat in `batch`; a chat that must wait is skipped and
        put in `held` with when it may take one. Returns each message tried with its outcome."""
        storage, pacer = self._services.storage, self._pacer
        # Outreach to someone who stopped its topic, or blocked the bot, since it was queued is given up unsent.
        gone = await storage.outreach.not_listening([(m.id, m.chat_id, m.send_id) for m in batch if m.lane == 1])
        dropped = [(m, "dead") for m in batch if m.id in gone]
        for message, _ in dropped:
            await storage.outbox.mark_dead(message.id, gone[message.id])
        batch = [m for m in batch if m.id not in gone]
        people = await storage.people.get_many({message.chat_id for message in batch})
        people.update(await storage.desks.readers({message.chat_id for message in batch}))
        memo = NoticeMemo()
        cards = await storage.outbox.cards({(m.appeal_id, m.chat_id) for m in batch if m.appeal_id is not None})
        accepted: list[tuple[int, datetime]] = []
        outcomes: list[tuple[OutboxMessage, str]] = dropped
        try:
            for message in batch:
                self._ticked = pacer.monotonic()  # a round with thousands of chats takes minutes at 30 a second
                chat = message.chat_id
                wait = pacer.chat_wait(chat)
                if wait > 0:
                    held[chat] = pacer.monotonic() + wait
                    continue
                wait = pacer.overall_wait()
                if wait > 0:
                    await self._record(accepted)  # what went out is on file before any pause
                    await pacer.sleep(wait)
                outcome = await self._send_one(message, people.get(chat), memo, cards, accepted)
                if outcome == "paused":  # a part went; the next must wait for the chat
                    held[chat] = pacer.monotonic() + pacer.chat_wait(chat)
                outcomes.append((message, outcome))
        finally:
            await self._record(accepted)
        return outcomes

    async def _record(self, accepted: list[tuple[int, datetime]]) -> None:
        """Mark the messages Telegram accepted as sent, with the cards they left in chats, in one write
        (a commit per message cost more than its send)."""
        if accepted or self._shown:
            try:
                await self._services.storage.outbox.mark_sent(accepted, self._shown)
            finally:
                # Not on file, the messages go again, and record their cards anew: these are void.
                accepted.clear()
                self._shown.clear()

    async def _deliver(
        self,
        message: OutboxMessage,
        person: Person | None,
        memo: NoticeMemo,
        cards: dict[tuple[int, int], AppealMessage],
    ) -> str:
        """Send the message's parts to Telegram: "done", "gone" (nothing left to send) or "paused" (a part
        went, and the next must wait for the chat: the row keeps how many went, and resumes after them)."""
        if message.template.startswith("digest."):
            parts = await self._digest_parts(message, person)
        elif message.template.startswith(TEMPLATE_PREFIX):
            parts = await outreach_parts(self._application.bot, self._services, message, person)
            if parts is None:
                return "gone"
        else:
            notice = await render_notice(self._services, message, person, memo)
            if notice is None:
                return "gone"
            parts = await self._parts(message, person, notice, cards, memo)
        for index, part in enumerate(parts):
            if index < max(message.parts_sent, self._progress) or part is None:
                continue
            if self._progress > message.parts_sent:  # a part went out just now: pace the next one
                self._pacer.sent(message.chat_id)
                if self._pacer.chat_wait(message.chat_id) > 0:
                    await self._services.storage.outbox.progress(message.id, self._progress)
                    return "paused"
                await self._pacer.sleep(self._pacer.overall_wait())
            await part()
            self._progress = max(self._progress, index + 1)
        return "done"

    async def _digest_parts(self, message: OutboxMessage, person: Person | None) -> list[Part | None]:
        """A digest's Telegram calls: its text and charts, as the digest reads when it is sent."""
        bot, services, chat = self._application.bot, self._services, message.chat_id
        lang = services.catalog.language_for(person.language if person else None, None)
        params = json.loads(message.params)
        start, end = from_ts(params["start"]), from_ts(params["end"])
        data = await services.storage.reports.digest(start, end, services.clock())

        def sender(part: DigestPart) -> Part:
            async def send() -> None:
                if part.photo is not None:
                    await bot.send_photo(chat, part.photo, caption=part.text)
                else:
                    await bot.send_message(chat, part.text, reply_markup=part.markup)

            return send

        return [sender(part) for part in await digest_parts(services, lang, data, f"digest.title_{params['kind']}")]

    async def _parts(
        self,
        message: OutboxMessage,
        person: Person | None,
        notice: Notice,
        cards: dict[tuple[int, int], AppealMessage],
        memo: NoticeMemo,
    ) -> list[Part | None]:
        """A notice's Telegram calls, always in the same shape (so a retry resumes where it stopped):
        the message (or the chat's card edited in place), the notice's words under it when the card
        was edited, then the files it brings."""
        bot, services, chat = self._application.bot, self._services, message.chat_id
        outbox = services.storage.outbox
        key = (message.appeal_id, chat)
        held = cards.get(key) if notice.keep == "card" else None
        edited: list[int] = []
        # In a unit's group with topics, each appeal has a topic of its own (handlers/desk.py).
        thread = await desk_thread(bot, services, chat, message.appeal_id, person) if is_desk(person) else None

        def remember(message_id: int, kind: str) -> None:
            record = AppealMessage(
                chat_id=chat,
                message_id=message_id,
                appeal_id=message.appeal_id,
                kind=kind,
                template=message.template if kind == "buttons" else None,
                version=notice.version,
            )
            self._shown.append((record, services.clock()))
            if kind == "card":
                cards[key] = record

        async def send_new() -> None:
            message_id = await bot.send_text(chat, notice.text, notice.markup, thread_id=thread)
            # A new message says it all: the words under an edited card are done too. (Resumed, the
            # card it leaves is on file, and must not be taken for one edited.)
            self._progress = 2
            if notice.keep is not None:
                remember(message_id, notice.keep)

        async def edit_card() -> None:
            try:
                # The news itself comes as a line under the card (it notifies; an edit does not).
                await bot.edit_text(chat, held.message_id, notice.card, notice.markup)
            except BadRequest as error:
                if not not_modified(error):  # the card is gone (deleted by its reader): a new one
                    await send_new()
                    return
            outbox.shows_later(chat, held.message_id, notice.version)
            edited.append(held.message_id)

        async def words_under_card() -> None:
            # Resumed after a pause for pacing, the card edited before is the one on file.
            await bot.send_text(chat, notice.line, reply_to=edited[0] if edited else held.message_id, thread_id=thread)

        first: Part = edit_card if held is not None else send_new
        parts: list[Part | None] = [first, words_under_card if held is not None else None]
        files = await notice_files(services, message, person, memo)
        if files:
            appeal = await services.storage.appeals.get(message.appeal_id)
            lang = services.catalog.language_for(person.language if person else None, None)
            parts += file_parts(bot, chat, files_caption(services, appeal, lang), files, thread)
        return parts

    async def _refresh(self, appeal_ids: set[int], held: dict[int, float]) -> set[int]:
        """Bring every other message that shows these appeals up to date: cards edited, void buttons taken away.

        A chat that must wait is skipped (and put in `held`); returns the appeals left for a later round.
        """
        storage, pacer = self._services.storage, self._pacer
        await storage.outbox.write_later()  # the cards just sent are on file before they are looked for
        stale = await storage.outbox.behind(appeal_ids)
        left: set[int] = set()
        if not stale:
            return left
        appeals: dict[int, Appeal | None] = {}
        views: dict[tuple[object, ...], tuple[str, Keyboard | None]] = {}  # a card drawn once per kind of reader
        people = await storage.people.get_many({m.chat_id for m, _ in stale})
        people.update(await storage.desks.readers({m.chat_id for m, _ in stale}))
        for message, replaced in stale:
            if message.appeal_id not in appeals:
                appeals[message.appeal_id] = await storage.appeals.get(message.appeal_id)
            appeal, person = appeals[message.appeal_id], people.get(message.chat_id)
            if appeal is None or person is None:
                storage.outbox.forget_later(message.chat_id, message.message_id)
                continue
            wait = pacer.chat_wait(message.chat_id)
            if wait > 0:
                held[message.chat_id] = pacer.monotonic() + wait
                left.add(appeal.id)
                continue
            await pacer.sleep(pacer.overall_wait())
            try:
                kept = await self._bring_up_to_date(message, replaced, appeal, person, views)
            except BadRequest as error:
                if not not_modified(error):  # gone, or no longer editable: nothing left to keep current
                    storage.outbox.forget_later(message.chat_id, message.message_id)
                    continue
                kept = not replaced
            except Forbidden:
                storage.outbox.forget_later(message.chat_id, message.message_id)
                continue
            except RetryAfter as error:
                delay = (
                    error.retry_after
                    if isinstance(error.retry_after, timedelta)
                    else timedelta(seconds=error.retry_after)
                )
                pacer.pause(delay.total_seconds())
                break  # the rest stay behind, and are brought up to date with the appeal's next notice
            except NetworkError:
                break
            pacer.sent(message.chat_id)
            if kept:
                storage.outbox.shows_later(message.chat_id, message.message_id, appeal.version)
            else:
                storage.outbox.forget_later(message.chat_id, message.message_id)
        await storage.outbox.write_later()
        return left

    async def _bring_up_to_date(
        self,
        message: AppealMessage,
        replaced: bool,
        appeal: Appeal,
        person: Person,
        views: dict[tuple[object, ...], tuple[str, Keyboard | None]],
    ) -> bool:
        """Edit one message to show `appeal` as it is now; whether it is still worth keeping current.

        A card is kept; a notice keeps its buttons while they still answer something, and loses them
        once a newer notice asks the same (`replaced`).
        """
        bot, services = self._application.bot, self._services
        lang = services.catalog.language_for(person.language, None)
        if message.kind == "card":
            key = (appeal.id, appeal.version, lang, roles(person, appeal), is_desk(person))
            if key not in views:
                views[key] = await card_view(services, appeal, person, lang)
            text, markup = views[key]
            await bot.edit_text(message.chat_id, message.message_id, text, markup)
            return True
        markup = None if replaced else answer_buttons(services, appeal, person, message.template, lang)
        await bot.edit_markup(message.chat_id, message.message_id, markup)
        return markup is not None

    async def _send_one(
        self,
        message: OutboxMessage,
        person: Person | None,
        memo: NoticeMemo,
        cards: dict[tuple[int, int], AppealMessage],
        accepted: list[tuple[int, datetime]],
    ) -> str:
        """Try one message: "sent" (added to `accepted`), "dead" (given up, with the reason kept), "later"
        (to be tried again after a while) or "paused" (some parts went; the rest when the chat may take them)."""
        services, outbox = self._services, self._services.storage.outbox
        now = services.clock()
        self._progress = message.parts_sent
        try:
            delivered = await self._deliver(message, person, memo, cards)
            if delivered == "gone":
                # Outreach, an activity's or a wish's notice: what it was about is gone (or withdrawn).
                reason = (
                    "no longer exists"
                    if message.lane == 1 or message.appeal_id is None
                    else "the appeal no longer exists"
                )
                await outbox.mark_dead(message.id, reason)
                return "dead"
            if delivered == "paused":
                return "paused"
        except RetryAfter as error:
            delay = (
                error.retry_after if isinstance(error.retry_after, timedelta) else timedelta(seconds=error.retry_after)
            )
            self._pacer.pause(delay.total_seconds())
            await outbox.retry_later(
                message.id, now + delay, "flood control (429)", count=False, parts_sent=self._progress
            )
            return "later"
        except Forbidden as error:
            if is_desk(person):
                return await self._desk_failed(message, error, now)
            await outbox.mark_dead(message.id, f"forbidden: {error.message}")
            if message.lane == 1:  # a broadcast's blocked couriers are counted on the send, not announced each
                await services.storage.people.set_reachable(message.chat_id, False)
            elif await services.storage.people.set_reachable(message.chat_id, False):
                await outbox.tell_coordinators_unreachable(message.chat_id, message.appeal_id, now)
            return "dead"
        except BadRequest as error:
            if is_desk(person):
                return await self._desk_failed(message, error, now)
            await outbox.mark_dead(message.id, f"rejected: {error.message}")
            return "dead"
        except NetworkError as error:
            if message.attempts + 1 >= MAX_ATTEMPTS:
                await outbox.mark_dead(message.id, f"network, gave up: {error.message}")
                return "dead"
            await outbox.retry_later(
                message.id, now + _backoff(message.attempts), f"network: {error.message}", parts_sent=self._progress
            )
            return "later"
        self._pacer.sent(message.chat_id)
        accepted.append((message.id, now))
        row, template, appeal = message.id, message.template, message.appeal_id
        log.debug("outbox %d sent (%s, appeal %s)", row, template, appeal)
        return "sent"

    async def _desk_failed(self, message: OutboxMessage, error: Forbidden | BadRequest, now: datetime) -> str:
        """A unit's group refused a notice: the desk is marked broken, and this notice (with everything
        else that waited for the group, and the open appeals' cards) goes to each worker instead."""
        reason, row, group = failure_reason(error), message.id, message.chat_id
        log.warning(
            "outbox %d: the unit group %d refused a notice (%s); its workers get it directly", row, group, reason
        )
        if await self._services.storage.desks.mark_broken(group, reason, now) is None:
            await self._services.storage.outbox.mark_dead(message.id, f"desk gone: {error.message}")
        return "dead"

    async def _retitle(self, appeal_ids: set[int]) -> None:
        """Rename the topics of these appeals in unit groups whose state they name has changed."""
        for chat_id, appeal_id, thread_id, name in await self._services.storage.desks.topics_of(appeal_ids):
            try:
                await retitle(self._application.bot, self._services, chat_id, appeal_id, thread_id, name)
            except (Forbidden, BadRequest) as error:
                if topic_gone(error) or isinstance(error, Forbidden):
                    await self._services.storage.desks.mark_broken(
                        chat_id, failure_reason(error), self._services.clock()
                    )
            except (RetryAfter, NetworkError):
                return  # renamed with the appeal's next notice
