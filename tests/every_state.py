"""Appeals in every state and with every outcome, made through the bot as people would make them.

Shared by the invariant checker's tests, the fuzz tests and the authorization matrix: each
appeal is filed with the filing dialog and moved on with the same buttons (callback data from
`handlers.callbacks`) and typed answers a person would use.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers import callbacks
from storage.stations import Station
from tests.harness import Bot
from tests.helpers import file_appeal, number_in, press_data  # noqa: F401 (some tests import them from here)

COURIER, OTHER_COURIER = 1001, 1002
STATION_STAFF, STATION_STAFF_2, HR_STAFF = 500, 501, 600  # units st1 and hr of the test district
COORDINATOR = 900
STATION = Station(
    id="s1",
    name="Fuzhou Rd Station",
    lat=31.2320,
    lon=121.4760,
    grade="B",
    amenities=("water", "charging"),
    unit_id="st1",
)
KNOWN = (COURIER, OTHER_COURIER, STATION_STAFF, STATION_STAFF_2, HR_STAFF, COORDINATOR)


async def greet_everyone(bot: Bot, people: tuple[int, ...] = KNOWN) -> None:
    """Each person opens the chat with /start (config people then have a language); s1 exists."""
    await bot.services.storage.stations.upsert([STATION])
    for person in people:
        bot.user(person, f"P{person}")
        await bot.say(person, "/start")


async def act(bot: Bot, person: int, number: int, verb: str, text: str | None = None, arg: str = "") -> str:
    """Press an appeal's button (`ap:N:verb`), then type `text` if the bot asked for one; a withdrawal,
    a result, a rejection or a merge is then confirmed with the button the bot shows."""
    query = await press_data(bot, person, callbacks.appeal(number, verb, arg))
    if text is not None:
        await bot.say(person, text)
    await confirm_if_asked(bot, person, number)
    return query


async def confirm_if_asked(bot: Bot, person: int, number: int) -> None:
    """Press the confirm button of appeal `number` if the bot's newest message has one."""
    message = bot.core.last_message(person)
    for _, data in bot.core.inline_buttons(message) if message else ():
        press = callbacks.decode(data)
        if (
            press
            and press.appeal_id == number
            and press.verb in (callbacks.AppealVerb.CONFIRM, callbacks.AppealVerb.WITHDRAW_CONFIRM)
        ):
            await press_data(bot, person, data)
            return


@dataclass
class Appeals:
    """The numbers of the appeals `every_state` made, by what happened to each."""

    unrouted: int = 0  # assessing, no unit
    sent_back: int = 0  # assessing again, HR sent it back (unit hr, one send-back)
    handling: int = 0  # HR has it, not accepted
    accepted: int = 0
    awaiting: int = 0  # HR asked the courier
    answered: int = 0
    feedback: int = 0  # resolved, waiting for the rating
    resolved: int = 0  # closed: satisfied (a follow-up is armed)
    reopened: int = 0  # not solved: back with HR
    rejected: int = 0
    merged: int = 0  # into `unrouted`
    withdrawn: int = 0
    reassigned: int = 0  # from HR to Station One
    assigned: int = 0  # by the coordinator, urgent, to Station One
    at_station: int = 0  # filed about station s1, routed to Station One


async def every_state(bot: Bot) -> Appeals:
    """File and move appeals so that every state, flag and outcome of the lifecycle is present."""
    a = Appeals()
    a.unrouted = await file_appeal(bot, COURIER, "Suggestions", "Please add a microwave")
    a.sent_back = await file_appeal(bot, COURIER, "Work protection", "Wages unpaid in October")
    await act(bot, HR_STAFF, a.sent_back, "sb", "This is for the trade union")
    a.handling = await file_appeal(bot, OTHER_COURIER, "Work protection", "No insurance after a crash")
    a.accepted = await file_appeal(bot, COURIER, "Work protection", "Overtime not paid")
    await act(bot, HR_STAFF, a.accepted, "acc")
    a.awaiting = await file_appeal(bot, COURIER, "Work protection", "Fined for a late order")
    await act(bot, HR_STAFF, a.awaiting, "acc")
    await act(bot, HR_STAFF, a.awaiting, "ask", "Which platform?")
    a.answered = await file_appeal(bot, OTHER_COURIER, "Work protection", "Deposit not returned")
    await act(bot, HR_STAFF, a.answered, "acc")
    await act(bot, HR_STAFF, a.answered, "ask", "How much?")
    await act(bot, OTHER_COURIER, a.answered, "ans", "500 yuan")
    a.feedback = await file_appeal(bot, COURIER, "Work protection", "Contract not given")
    await act(bot, HR_STAFF, a.feedback, "acc")
    await act(bot, HR_STAFF, a.feedback, "res", "The contract was sent")
    a.resolved = await file_appeal(bot, OTHER_COURIER, "Work protection", "Bonus missing")
    await act(bot, HR_STAFF, a.resolved, "acc")
    await act(bot, HR_STAFF, a.resolved, "res", "Paid in full")
    await act(bot, OTHER_COURIER, a.resolved, "rs")
    a.reopened = await file_appeal(bot, COURIER, "Work protection", "Account blocked")
    await act(bot, HR_STAFF, a.reopened, "acc")
    await act(bot, HR_STAFF, a.reopened, "res", "Unblocked")
    await act(bot, COURIER, a.reopened, "ru", "Still blocked")
    a.rejected = await file_appeal(bot, OTHER_COURIER, "Suggestions", "Free lunches")
    await act(bot, COORDINATOR, a.rejected, "rej", "Outside our district")
    a.merged = await file_appeal(bot, OTHER_COURIER, "Suggestions", "A microwave please")
    await act(bot, COORDINATOR, a.merged, "mrg", f"#{a.unrouted}")
    a.withdrawn = await file_appeal(bot, COURIER, "Work protection", "Sorted it out myself")
    await act(bot, COURIER, a.withdrawn, "wd")
    a.reassigned = await file_appeal(bot, OTHER_COURIER, "Work protection", "The charger at the station is broken")
    await act(bot, COORDINATOR, a.reassigned, "reau", arg="st1")
    a.assigned = await file_appeal(bot, COURIER, "Suggestions", "Longer opening hours")
    await act(bot, COORDINATOR, a.assigned, "asgp", arg="st1.urgent")
    a.at_station = await file_appeal(bot, OTHER_COURIER, "Station facilities", "No hot water", station=STATION.id)
    return a
