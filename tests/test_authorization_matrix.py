"""Who may do what: every command and every button x every kind of person, allowed or refused.

The tables below are the expected outcome, written out by hand from docs/design.md §2, the
README and the lifecycle table (`domain/lifecycle.py`); each button is pressed with the appeal
in the state where its action could apply, so a refusal is about the person, not the state. A
case that is allowed must work (the state changes, or the expected reply comes); a refused one
must get a clear message (an alert on a press, a reply to a command) and leave every table as it
was — except that a stranger is recorded as a person on first contact, as everyone is.

The people, relative to the appeal (filed by COURIER, with the HR unit):

    stranger     never wrote to the bot before
    courier      filed the appeal (or owns the dialog the button belongs to)
    other        another courier
    unit         staff of the appeal's unit (HR)
    other_unit   staff of another unit (Station One); in the states "cohandled" and "part_signed" that unit
                 co-handles the appeal (协办), so its staff see it and may do a co-handler's part
    coordinator
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import CommandHandler

from domain.activities import ActivityRecord
from domain.answers_file import read_answers
from domain.commands import ActOnAppeal, EventArgs
from domain.lifecycle import Event
from domain.surveys_file import read_survey
from domain.wishes import WishStep
from handlers import callbacks
from handlers.cards import BY_VERB
from storage.dialogs import Draft, Prompt, PromptKind
from storage.invariants import check_database
from tests.every_state import (
    COORDINATOR,
    COURIER,
    HR_STAFF,
    OTHER_COURIER,
    STATION,
    STATION_STAFF,
    confirm_if_asked,
    greet_everyone,
)
from tests.harness import Bot, running_bot
from tests.helpers import submit_appeal

STRANGER = 7001
KINDS = ("stranger", "courier", "other", "unit", "other_unit", "coordinator")
PERSON = {
    "stranger": STRANGER,
    "courier": COURIER,
    "other": OTHER_COURIER,
    "unit": HR_STAFF,
    "other_unit": STATION_STAFF,
    "coordinator": COORDINATOR,
}
HOTSPOT_KEY = f"st.{STATION.id}.facilities"
MUTED = 7002
SAMPLE_ANSWERS = Path(__file__).resolve().parents[1] / "sandbox" / "district" / "answers.toml"
SAMPLE_SURVEY = Path(__file__).resolve().parents[1] / "sandbox" / "district" / "survey-needs.toml"
CATEGORIES = (
    "work",
    "life",
    "rights",
    "facilities",
    "suggestion",
)  # a courier who is none of the kinds above: muted in the "muted" state

# Buttons: callback data ({n} is the appeal, {target} another appeal), the state it is pressed in,
# then who may press it:  stranger, courier, other, unit, other_unit, coordinator.
BUTTONS: list[tuple[str, str, tuple[str, ...]]] = [
    # Anyone who may see the appeal may open it and drop a typed answer they owe.
    ("ap:{n}:open", "handling", ("no", "ok", "no", "ok", "no", "ok")),
    ("ap:{n}:cnl", "handling", ("no", "ok", "no", "ok", "no", "ok")),
    # The unit: accept or send back, then ask, note, resolve.
    ("ap:{n}:acc", "handling", ("no", "no", "no", "ok", "no", "no")),
    ("ap:{n}:sb", "handling", ("no", "no", "no", "ok", "no", "no")),
    ("ap:{n}:ask", "accepted", ("no", "no", "no", "ok", "no", "no")),
    ("ap:{n}:note", "accepted", ("no", "no", "no", "ok", "no", "ok")),  # coordinators may note too
    ("ap:{n}:res", "accepted", ("no", "no", "no", "ok", "no", "no")),
    # The unit asks for more time (延期): how long, then why; coordinators grant (how long) or refuse it.
    ("ap:{n}:ext", "accepted", ("no", "no", "no", "ok", "no", "no")),
    ("ap:{n}:exd:2", "accepted", ("no", "no", "no", "ok", "no", "no")),
    ("ap:{n}:exa", "extension", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:exg:3.{v}", "extension", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:exr", "extension", ("no", "no", "no", "no", "no", "ok")),
    # Co-handling (协办): coordinators add a unit beside the lead (which unit, then it acts once) and may let
    # the lead resolve with parts open; only the co-handling unit's staff sign for its part and finish it.
    ("ap:{n}:coa", "accepted", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:cou:st1.{v}", "accepted", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:cos", "cohandled", ("no", "no", "no", "no", "ok", "no")),
    ("ap:{n}:cof", "part_signed", ("no", "no", "no", "no", "ok", "no")),
    ("ap:{n}:cow", "cohandled", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:note", "cohandled", ("no", "no", "no", "ok", "no", "ok")),  # a note the courier reads: not a co-handler's
    ("ap:{n}:con", "cohandled", ("no", "no", "no", "no", "ok", "no")),  # a co-handler's note to the lead
    ("ap:{n}:rea", "cohandled", ("no", "no", "no", "no", "no", "ok")),
    # The result HR typed, shown back: only HR may confirm it; anyone who sees the appeal may press
    # Edit (with nothing of theirs pending, they are told so in a toast).
    ("ap:{n}:ok:res.{v}", "confirming", ("no", "no", "no", "ok", "no", "no")),
    ("ap:{n}:edit", "confirming", ("no", "ok", "no", "ok", "no", "ok")),
    # Coordinators route: assign (unit, then priority), reassign, reject, merge. The appeal in
    # `assessing` was sent back by HR, so HR staff can see it but no longer route it.
    ("ap:{n}:asg", "assessing", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:asgu:st1", "assessing", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:asgp:st1.urgent", "assessing", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:rea", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:reau:st1", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:rej", "assessing", ("no", "no", "no", "no", "no", "ok")),
    ("ap:{n}:mrg", "assessing", ("no", "no", "no", "no", "no", "ok")),
    # The courier: answer, rate, reopen, withdraw, and answer the follow-up.
    ("ap:{n}:ans", "awaiting", ("no", "ok", "no", "no", "no", "no")),
    ("ap:{n}:rs", "feedback", ("no", "ok", "no", "no", "no", "no")),
    ("ap:{n}:rf", "feedback", ("no", "ok", "no", "no", "no", "no")),
    ("ap:{n}:ru", "feedback", ("no", "ok", "no", "no", "no", "no")),
    # Not solved once the unit's redos (重办) are used up: to a coordinator.
    ("ap:{n}:rux", "redos_used", ("no", "ok", "no", "no", "no", "no")),
    ("ap:{n}:wd", "handling", ("no", "ok", "no", "no", "no", "no")),
    ("ap:{n}:wdy", "handling", ("no", "ok", "no", "no", "no", "no")),
    ("ap:{n}:fuy", "followup", ("no", "ok", "no", "no", "no", "no")),
    ("ap:{n}:fun", "followup", ("no", "ok", "no", "no", "no", "no")),
    # The filing dialog's buttons act on the presser's own draft: only its owner has one.
    ("dr:cat:work", "draft_category", ("no", "ok", "no", "no", "no", "no")),
    ("dr:back", "draft_description", ("no", "ok", "no", "no", "no", "no")),
    ("dr:next", "draft_described", ("no", "ok", "no", "no", "no", "no")),
    ("dr:skip", "draft_place", ("no", "ok", "no", "no", "no", "no")),
    ("dr:st:s1", "draft_place", ("no", "ok", "no", "no", "no", "no")),
    ("dr:confirm", "draft_review", ("no", "ok", "no", "no", "no", "no")),
    ("dr:cancel", "draft_description", ("no", "ok", "no", "no", "no", "no")),
    ("dr:solved:wage-arrears.1", "draft_answers", ("no", "ok", "no", "no", "no", "no")),
    ("dr:anyway", "draft_answers", ("no", "ok", "no", "no", "no", "no")),
    # The knowledge base: coordinators and units' staff read it.
    ("kb:cat:work.0", "answers", ("no", "no", "no", "ok", "ok", "ok")),
    # Activities with sign-up: couriers sign up (a stranger is one as soon as they press); coordinators see the list.
    ("ac:join:1", "activity", ("ok", "ok", "ok", "no", "no", "no")),
    ("ac:list:1", "activity", ("no", "no", "no", "no", "no", "ok")),
    # Stations are public; the amenity filter searches around one's own last shared location,
    # which a stranger does not have yet.
    ("st:near:water", "located", ("no", "ok", "ok", "ok", "ok", "ok")),
    ("st:venue:s1", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("st:appeal:s1", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("lg:set:zh", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    # Coordinators' tools.
    (f"hs:mk:{HOTSPOT_KEY}", "hotspot", ("no", "no", "no", "no", "no", "ok")),
    ("sa:shut:s1", "none", ("no", "no", "no", "no", "no", "ok")),  # asks first
    ("sa:shuty:s1", "none", ("no", "no", "no", "no", "no", "ok")),
    ("sa:show:s1", "none", ("no", "no", "no", "no", "no", "ok")),
    ("iv:mk:hr", "none", ("no", "no", "no", "no", "no", "ok")),
    ("iv:ls", "invite", ("no", "no", "no", "no", "no", "ok")),
    ("iv:rv:abcdefgh", "invite", ("no", "no", "no", "no", "no", "ok")),  # asks first
    ("iv:rvy:abcdefgh", "invite", ("no", "no", "no", "no", "no", "ok")),
    ("sa:reopen:s1", "closed_station", ("no", "no", "no", "no", "no", "ok")),
    ("ex:period:this_week", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("ex:days:20261116.20261129", "handling", ("no", "no", "no", "no", "no", "ok")),  # a shorter period offered
    # The filing limits: the list, a person picked by their appeal, lift, apply again, cancel.
    ("lm:list", "none", ("no", "no", "no", "no", "no", "ok")),
    ("lm:ask:{n}", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("lm:lift:{n}", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("lm:restore:{n}", "lifted", ("no", "no", "no", "no", "no", "ok")),
    ("lm:no", "none", ("no", "no", "no", "no", "no", "ok")),
    # Mutes: the periods for a person picked by their appeal, confirm, mute, unmute (of someone else
    # muted: a muted presser only ever hears that they are muted), cancel.
    ("mu:ask:{n}", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("mu:for:{n}.1d", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("mu:yes:{n}.1d", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("mu:un:{m}", "muted", ("no", "no", "no", "no", "no", "ok")),
    ("mu:no", "none", ("no", "no", "no", "no", "no", "ok")),
    ("mu:card:{n}", "handling", ("no", "no", "no", "no", "no", "ok")),  # an appeal card's Mute filer
    # Canned replies (常用回复): any unit's staff keep their own; a reply {r} of HR's is deleted (asked
    # first) only by HR; under HR's open question, and shown from it, only HR may use it.
    ("cr:add", "none", ("no", "no", "no", "ok", "ok", "no")),
    ("cr:close", "none", ("no", "no", "no", "ok", "ok", "no")),
    ("cr:del:{r}", "canned", ("no", "no", "no", "ok", "no", "no")),
    ("cr:dely:{r}", "canned", ("no", "no", "no", "ok", "no", "no")),
    ("ap:{n}:cr:{r}", "asking", ("no", "no", "no", "ok", "no", "no")),
    ("ap:{n}:crs:{r}", "canned_shown", ("no", "no", "no", "ok", "no", "no")),
    # A unit's group's link buttons work only in the group (tests/handlers/test_unit_desk.py).
    ("dk:link:hr", "none", ("no", "no", "no", "no", "no", "ok")),
    ("dk:unl", "none", ("no", "no", "no", "no", "no", "ok")),
    ("dk:keep", "none", ("no", "no", "no", "no", "no", "ok")),
    # Erasing one's data is for couriers (a stranger is one as soon as they write); staff and
    # coordinators must lose their role first.
    # What one hears about (issue 18) is each person's own; a notice's button to an activity or a survey
    # says "not available" to anyone until that feature answers it.
    ("or:yes", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("or:no", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("or:set", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("or:tg:surveys", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("or:stop:notices", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("or:close", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    # A notice's button: the survey, as sv:go for couriers; staff and coordinators see its preview.
    ("ol:sv:{s}", "survey", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("ol:act:1", "activity", ("ok", "ok", "ok", "ok", "ok", "ok")),  # a notice's button: the activity, to anyone
    # A coordinator's notice dialog, at the step each button belongs to.
    ("nc:skip", "notice_photo", ("no", "no", "no", "no", "no", "ok")),
    ("nc:lang:all", "notice_language", ("no", "no", "no", "no", "no", "ok")),
    ("nc:area:all", "notice_area", ("no", "no", "no", "no", "no", "ok")),
    ("nc:send:1", "notice_confirm", ("no", "no", "no", "no", "no", "ok")),
    ("nc:cancel", "notice_confirm", ("no", "no", "no", "no", "no", "ok")),
    ("nc:when:now", "notice_when", ("no", "no", "no", "no", "no", "ok")),
    # A send scheduled for tomorrow (send 1): /outreach's Cancel asks, then cancels; Keep leaves it.
    ("nc:unsend:1", "scheduled_send", ("no", "no", "no", "no", "no", "ok")),
    ("nc:unsendy:1", "scheduled_send", ("no", "no", "no", "no", "no", "ok")),
    ("nc:keep", "scheduled_send", ("no", "no", "no", "no", "no", "ok")),
    ("pv:erase", "handling", ("ok", "ok", "ok", "no", "no", "no")),
    ("pv:yes", "handling", ("ok", "ok", "ok", "no", "no", "no")),
    ("pv:no", "handling", ("ok", "ok", "ok", "no", "no", "no")),
    # Surveys: coordinators manage them and read the results; couriers answer; staff and coordinators preview.
    ("sv:res:{s}", "survey", ("no", "no", "no", "no", "no", "ok")),
    ("sv:go:{s}", "survey", ("ok", "ok", "ok", "no", "no", "no")),
    ("sv:pv:{s}.en.0", "survey", ("no", "no", "no", "ok", "ok", "ok")),
    # Micro-wishes (微心愿), the wish {w} posted by the courier: couriers post; a coordinator reviews; any
    # unit claims an approved one; the claiming unit (HR) or a coordinator grants; the courier (or a
    # coordinator) confirms receipt; the courier may withdraw. Back and Confirm belong to a dialog.
    ("wi:new", "none", ("ok", "ok", "ok", "no", "no", "no")),
    ("wi:cat:rain_gear", "none", ("ok", "ok", "ok", "no", "no", "no")),
    ("wi:back", "none", ("no", "no", "no", "no", "no", "no")),
    ("wi:cnl", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("wi:ok:abcdef12", "none", ("no", "no", "no", "no", "no", "no")),
    ("wi:approve:{w}", "wish_posted", ("no", "no", "no", "no", "no", "ok")),
    ("wi:decline:{w}", "wish_posted", ("no", "no", "no", "no", "no", "ok")),
    ("wi:claim:{w}", "wish_approved", ("no", "no", "no", "ok", "ok", "no")),
    ("wi:grant:{w}", "wish_claimed", ("no", "no", "no", "ok", "no", "ok")),
    ("wi:collect:{w}", "wish_granted", ("no", "ok", "no", "no", "no", "ok")),
    ("wi:withdraw:{w}", "wish_posted", ("no", "ok", "no", "no", "no", "no")),
    ("wi:wdy:{w}", "wish_posted", ("no", "ok", "no", "no", "no", "no")),
    ("wi:keep", "wish_posted", ("ok", "ok", "ok", "ok", "ok", "ok")),
]

# Commands, with the state they are sent in and who may use them (same columns).
COMMANDS: list[tuple[str, str, tuple[str, ...]]] = [
    ("/start", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("/help", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("/language", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("/appeal", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),  # anyone may file; they are its courier
    ("/cancel", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("/my", "handling", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("/station", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("/privacy", "handling", ("ok", "ok", "ok", "ok", "ok", "ok")),  # staff see it, without the erase button
    ("/queue", "handling", ("no", "no", "no", "ok", "ok", "no")),
    ("/triage", "assessing", ("no", "no", "no", "no", "no", "ok")),
    ("/open {n}", "handling", ("no", "ok", "no", "ok", "no", "ok")),
    ("/invite hr", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/invites", "invite", ("no", "no", "no", "no", "no", "ok")),
    ("/join {code}", "invite", ("ok", "ok", "ok", "ok", "ok", "no")),  # the code is the authority
    ("/digest", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("/undelivered", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/export", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/stations", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/people", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/lift {n}", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("/mute {n}", "handling", ("no", "no", "no", "no", "no", "ok")),
    ("/unmute {m}", "muted", ("no", "no", "no", "no", "no", "ok")),
    ("/replies", "none", ("no", "no", "no", "ok", "ok", "no")),
    # A unit's group is linked in the group itself (tests/handlers/test_unit_desk.py): here, only where to do it.
    ("/link_unit hr", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/unlink_unit", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/answers", "answers", ("no", "no", "no", "ok", "ok", "ok")),
    ("/settings", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("/notice", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/outreach", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/activities", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),
    ("/activity new", "none", ("no", "no", "no", "no", "no", "ok")),
    ("/surveys", "survey", ("ok", "ok", "ok", "ok", "ok", "ok")),  # coordinators manage, staff preview, couriers answer
    ("/wishes", "none", ("ok", "ok", "ok", "ok", "ok", "ok")),  # what each may do with micro-wishes
]

# The appeal buttons that are not lifecycle events of cards.ACTIONS, and the tools' verbs.
EXTRA_APPEAL_VERBS = {
    *("open", "cnl", "asgu", "asgp", "reau", "wdy", "ok", "edit", "fuy", "fun", "exd", "exg", "cou"),
    *("cr", "crs"),  # a canned reply under a question, and its Send as is
}
# The states in which Station One co-handles the appeal: its staff (other_unit) see it.
CO_HANDLED = ("cohandled", "part_signed")
DRAFT_VERBS = {"cat", "back", "next", "skip", "st", "confirm", "cancel", "solved", "anyway"}


def _family_verb(data: str) -> tuple[str, str]:
    parts = data.split(":")
    if parts[0] == "ap":
        return "ap", parts[2]
    return parts[0], parts[1]


def refusal(data: str, kind: str, state: str = "") -> str:
    """The catalog key a refused press must show."""
    family, verb = _family_verb(data)
    if family == "ap" and kind == "other_unit" and state in CO_HANDLED:
        return "appeal.not_permitted"  # a co-handling unit's staff see the appeal
    if data == "dr:confirm":
        return "filing2.already_filed"  # with no draft, a Confirm is most likely a second tap
    if family == "cr" or (family == "ap" and verb in ("cr", "crs") and kind in ("courier", "coordinator")):
        # A unit's canned replies: another unit's staff are told they are not theirs; the rest, whose they are.
        return "canned.not_offered" if kind == "other_unit" or family == "ap" else "staff.not_staff"
    if family == "ac":
        return "activities.not_for_you" if verb == "join" else "coord.not_coordinator"
    if family == "wi":
        if verb in ("new", "cat"):
            return "wishes.couriers_only"
        return "wishes.stale" if verb in ("back", "ok") else "wishes.refused_step_role"
    if family == "ap":
        # Couriers see their own appeals, staff their unit's, coordinators all; to anyone else
        # an appeal does not exist. Who can see it but may not act is told so.
        return "appeal.not_found" if kind in ("stranger", "other", "other_unit") else "appeal.not_permitted"
    return {
        "dr": "filing.no_draft",
        "st": "nearest.no_location",
        "hs": "coord.not_coordinator",
        "sa": "coord.not_coordinator",
        "iv": "coord.not_coordinator",
        "ex": "coord.not_coordinator",
        "pv": "privacy.role_first",
        "lm": "coord.not_coordinator",
        "mu": "coord.not_coordinator",
        "dk": "coord.not_coordinator",
        "kb": "answers.not_allowed",
        "nc": "coord.not_coordinator",
        "sv": "surveys.couriers_only" if verb == "go" else "coord.not_coordinator",
        "ol": "surveys.couriers_only",  # a notice's survey button: as sv:go
    }[family]


def command_refusal(command: str, kind: str) -> str:
    """The catalog key a refused command must answer with."""
    name = command.split()[0]
    if name in ("/queue", "/replies"):
        return "staff.not_staff"
    if name == "/open":
        return "appeal.not_found"
    if name == "/join":
        return "staff.join_coordinator"
    if name == "/answers":
        return "answers.not_allowed"
    return "coord.not_coordinator"


# ---------------------------------------------------------------------------- setting the scene


async def _apply(bot: Bot, number: int, event: Event, actor: int | None, note: str | None = None) -> None:
    await bot.services.storage.appeals.apply(ActOnAppeal(number, event, actor, EventArgs(note=note)), bot.clock())


async def scene(bot: Bot, state: str) -> dict[str, Any]:
    """Greet everyone, then make what the case needs; returns the names its data and checks use."""
    await greet_everyone(bot)
    storage, now = bot.services.storage, bot.clock()
    for person in (COURIER, OTHER_COURIER, HR_STAFF, STATION_STAFF, COORDINATOR):
        await storage.stations.remember_location(person, lat=31.23, lon=121.47, accuracy_m=None, now=now)
    names: dict[str, Any] = {"n": 0}
    if state == "muted":  # a third courier, muted by the coordinator
        await storage.people.seen(MUTED, "en", now)
        names["m"] = muted = await submit_appeal(bot, MUTED)
        await storage.people_actions.mute(
            MUTED, appeal_id=muted, actor_id=COORDINATOR, now=now, until=now + timedelta(days=1)
        )
    opened = (
        "handling",
        "accepted",
        "confirming",
        "awaiting",
        "feedback",
        "followup",
        "assessing",
        "lifted",
        "redos_used",
        *CO_HANDLED,
    )
    if state in ("canned", "asking", "canned_shown"):
        names["r"] = (await storage.canned_replies.add("hr", "Please bring your wage slips.", now)).id
    if state in ("asking", "canned_shown"):  # HR asks the courier; the question (or a reply shown) is pressed
        names["n"] = n = await submit_appeal(bot, COURIER)
        await _apply(bot, n, Event.ACCEPT, HR_STAFF)
        await bot.tick()
        pressed = {"asked_at" if state == "asking" else "shown_at": bot.core.bot_messages(HR_STAFF)[-1]["message_id"]}
        await storage.dialogs.set_prompt(HR_STAFF, Prompt(PromptKind.ASK, n, pressed), now)
    if state in (*opened, "extension"):
        names["n"] = n = await submit_appeal(bot, COURIER)
        if state == "lifted":
            await storage.filing_limits.set_lifted(COURIER, COORDINATOR, now)
        if state == "assessing":
            await _apply(bot, n, Event.SEND_BACK, HR_STAFF, "Not ours to handle")
            names["target"] = await submit_appeal(bot, OTHER_COURIER, "work", None)  # a duplicate: same category
        if state in (
            "accepted",
            "confirming",
            "awaiting",
            "feedback",
            "followup",
            "extension",
            "redos_used",
            *CO_HANDLED,
        ):
            await _apply(bot, n, Event.ACCEPT, HR_STAFF)
        if state == "accepted":
            names["v"] = (await storage.appeals.get(n)).version
        if state in CO_HANDLED:
            await storage.appeals.apply(ActOnAppeal(n, Event.ADD_COHANDLER, COORDINATOR, EventArgs(unit="st1")), now)
        if state == "part_signed":
            await _apply(bot, n, Event.SIGN_PART, STATION_STAFF)
        if state == "redos_used":  # redone twice (feedback.max_redos), resolved again
            for _ in range(2):
                await _apply(bot, n, Event.RESOLVE, HR_STAFF, "Paid in full")
                await _apply(bot, n, Event.RATE_UNSATISFIED, COURIER, "Only half was paid")
            await _apply(bot, n, Event.RESOLVE, HR_STAFF, "Paid the rest")
        if state == "extension":
            asked = EventArgs(note="We need the platform's payroll records", days=2)
            await storage.appeals.apply(ActOnAppeal(n, Event.REQUEST_EXTENSION, HR_STAFF, asked), now)
            names["v"] = (await storage.appeals.get(n)).version
        if state == "confirming":
            names["v"] = version = (await storage.appeals.get(n)).version
            typed = Prompt(PromptKind.RESOLVE, n, {"text": "Paid in full", "files": [], "version": version})
            await storage.dialogs.set_prompt(HR_STAFF, typed, now)
        if state == "awaiting":
            await _apply(bot, n, Event.ASK, HR_STAFF, "Which platform?")
        if state in ("feedback", "followup"):
            await _apply(bot, n, Event.RESOLVE, HR_STAFF, "Paid in full")
        if state == "followup":
            await _apply(bot, n, Event.RATE_SATISFIED, COURIER)
    elif state.startswith("draft_"):
        step, data = {
            "draft_category": ("category", {}),
            "draft_description": ("description", {"category": "work"}),
            "draft_described": ("description", {"category": "work", "description": "Wages unpaid", "files": []}),
            "draft_place": ("place", {"category": "work", "description": "Wages unpaid", "files": []}),
            "draft_review": ("review", {"category": "work", "description": "Wages unpaid", "files": []}),
            "draft_answers": ("answers", {"category": "work", "description": "My wages are unpaid", "started": 1}),
        }[state]
        if state == "draft_answers":
            await storage.answers.import_records(read_answers(SAMPLE_ANSWERS.read_bytes(), "toml", CATEGORIES))
        await storage.dialogs.save_draft(COURIER, Draft.stored(step, data), now)
    elif state == "activity":  # a couriers' activity at the station, next week, 2 places
        start = now + timedelta(days=7)
        record = ActivityRecord("Childcare class", start, 2, start, station_id="s1")
        await storage.activities.publish([record], COORDINATOR, now)
    elif state == "survey":
        _, names["s"] = await storage.surveys.import_survey(read_survey(SAMPLE_SURVEY.read_bytes(), "toml"), now)
        await storage.surveys.set_state(names["s"], "open", now)
    elif state == "answers":
        await storage.answers.import_records(read_answers(SAMPLE_ANSWERS.read_bytes(), "toml", CATEGORIES))
    elif state == "hotspot":
        for courier in (COURIER, OTHER_COURIER, 1003):
            await storage.people.seen(courier, "en", now)
            await submit_appeal(bot, courier, "facilities", None, station_id=STATION.id)
    elif state == "closed_station":
        await storage.stations.set_active(STATION.id, False)
    elif state.startswith("notice_"):  # a coordinator's notice at this step, for one courier who hears notices
        await storage.outreach.choose(COURIER, ("notices",), True, now)
        draft = {"step": state.removeprefix("notice_"), "text": "Free clinic on Saturday", "language": "all"}
        await storage.outreach.save_draft(COORDINATOR, {**draft, "area": "all", "token": "1"}, now)
    elif state == "scheduled_send":
        await storage.outreach.choose(COURIER, ("notices",), True, now)
        notice = await storage.outreach.add_notice("Free clinic on Saturday", now)
        await storage.outreach.broadcast(
            kind="notice", ref=str(notice), topic="notices", recipients=[COURIER], now=now, at=now + timedelta(days=1)
        )
    elif state == "invite":
        names["code"] = "ABCDEFGH"
        await storage.people.create_invite(
            "ABCDEFGH", "st1", COORDINATOR, now=now, expires=now.replace(year=now.year + 1)
        )
    elif state.startswith("wish_"):
        await _wish_scene(bot, state, names)
    await bot.tick()  # send the notices all that wrote, so a snapshot sees nothing pending
    return names


async def _wish_scene(bot: Bot, state: str, names: dict[str, Any]) -> None:
    """A wish {w} of the courier's, moved on to `state` ("wish_posted", "wish_approved", ...); HR claims it."""
    wishes, people, now = bot.services.storage.wishes, bot.services.storage.people, bot.clock()
    posted = await wishes.post(
        await people.get(COURIER), category="rain_gear", text="A raincoat", language="en", now=now
    )
    names["w"] = w = posted.wish.id
    steps = [
        (WishStep.APPROVE, COORDINATOR, None),
        (WishStep.CLAIM, HR_STAFF, None),
        (WishStep.GRANT, HR_STAFF, "HR Bureau, front desk"),
    ]
    reached = {"wish_posted": 0, "wish_approved": 1, "wish_claimed": 2, "wish_granted": 3}[state]
    for step, actor, note in steps[:reached]:
        await wishes.take(w, step, await people.get(actor), now=now, note=note)


def snapshot(path: str, ignore_person: int | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (but the redelivery ledger, and which messages show which appeal: a
    refusal shows the appeal's card anew), optionally without one new person."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'station_index%' AND name NOT IN ('handled_updates', 'appeal_messages')"
            )
        ]
        rows = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        conn.close()
    if ignore_person is not None:
        rows["people"] = [r for r in rows["people"] if r[0] != ignore_person]
    return rows


# ---------------------------------------------------------------------------- what "allowed" does


@dataclass
class Case:
    """One person doing one thing."""

    bot: Bot
    person: int
    names: dict[str, Any]

    @property
    def n(self) -> int:
        return self.names["n"]

    def t(self, key: str, **values: Any) -> str:
        return self.bot.services.text("en", key, **values)

    def bot_texts(self) -> list[str]:
        return self.bot.texts(self.person)

    async def appeal(self, number: int | None = None):
        return await self.bot.services.storage.appeals.get(number or self.n)

    async def prompt_then(self, kind: PromptKind, text: str) -> None:
        """The press asked for text: the prompt is there; then the person writes it (and confirms it if asked)."""
        prompt = await self.bot.services.storage.dialogs.prompt(self.person)
        assert prompt is not None and (prompt.verb, prompt.appeal_id) == (kind, self.n)
        await self.bot.say(self.person, text)
        await confirm_if_asked(self.bot, self.person, self.n)

    async def count(self, sql: str) -> int:
        return (await self.bot.services.storage.db.fetchone(sql))[0]


Check = Callable[[Case], Awaitable[None]]


async def _open(c: Case) -> None:
    assert any(f"#{c.n}" in text and "Wages unpaid" in text for text in c.bot_texts()[-2:])


async def _cancel(c: Case) -> None:
    assert await c.bot.services.storage.dialogs.prompt(c.person) is None
    assert c.t("appeal.prompt_cancelled") in c.bot_texts()


async def _accept(c: Case) -> None:
    assert (await c.appeal()).accepted


async def _send_back(c: Case) -> None:
    await c.prompt_then(PromptKind.SEND_BACK, "Not ours to handle")
    assert (await c.appeal()).state == "assessing"


async def _ask(c: Case) -> None:
    await c.prompt_then(PromptKind.ASK, "Which platform?")
    assert (await c.appeal()).awaiting_courier


async def _note(c: Case) -> None:
    await c.prompt_then(PromptKind.NOTE, "We called the platform")
    assert [e.note for e in await c.bot.services.storage.appeals.ledger(c.n)][-1] == "We called the platform"


async def _resolve(c: Case) -> None:
    await c.prompt_then(PromptKind.RESOLVE, "Paid in full")
    assert (await c.appeal()).state == "feedback"


async def _how_long_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("extension.how_long", number=c.n)


async def _extension_requested(c: Case) -> None:
    await c.prompt_then(PromptKind.REQUEST_EXTENSION, "We need the platform's payroll records")
    assert (await c.appeal()).extension_pending
    assert await c.count(f"SELECT asked_days FROM extensions WHERE appeal_id = {c.n}") == 2


async def _grant_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("extension.grant_question", number=c.n, days="2 working days")


async def _extension_granted(c: Case) -> None:
    appeal = await c.appeal()
    assert (appeal.extension_pending, appeal.extensions) == (False, 1)
    assert await c.count(f"SELECT granted_days FROM extensions WHERE appeal_id = {c.n}") == 3


async def _extension_refused(c: Case) -> None:
    await c.prompt_then(PromptKind.REFUSE_EXTENSION, "Two more days are not needed for this")
    appeal = await c.appeal()
    assert (appeal.extension_pending, appeal.extensions) == (False, 0)


async def _cohandler_unit_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("cohandle.choose_unit", number=c.n)


async def _cohandler_added(c: Case) -> None:
    assert (await c.appeal()).co_units == "st1"
    assert await c.count(f"SELECT count(*) FROM cohandlers WHERE appeal_id = {c.n} AND state = 'open'") == 1


async def _part_signed(c: Case) -> None:
    assert await c.count(f"SELECT count(*) FROM cohandlers WHERE appeal_id = {c.n} AND state = 'accepted'") == 1


async def _part_finished(c: Case) -> None:
    await c.prompt_then(PromptKind.FINISH_PART, "We checked the rider's shift records")
    assert await c.count(f"SELECT count(*) FROM cohandlers WHERE appeal_id = {c.n} AND state = 'done'") == 1


async def _co_note(c: Case) -> None:
    await c.prompt_then(PromptKind.CO_NOTE, "We found the rider's shifts")
    assert [e.note for e in await c.bot.services.storage.appeals.ledger(c.n)][-1] == "We found the rider's shifts"


async def _allow_asked(c: Case) -> None:
    """Allow resolving now asks first, naming the open parts; nothing is allowed yet."""
    before_units = c.t("cohandle.allow_confirm", number=c.n, units="\0").split("\0")[0]
    assert c.bot_texts()[-1].startswith(before_units)
    assert not (await c.appeal()).parts_waived


async def _confirmed(c: Case) -> None:
    assert (await c.appeal()).state == "feedback"
    assert await c.bot.services.storage.dialogs.prompt(c.person) is None


async def _edit(c: Case) -> None:
    if c.person == HR_STAFF:  # the one with the typed result: asked again
        assert c.bot_texts()[-1] == c.t("appeal.prompt_resolve", number=c.n)
    assert (await c.appeal()).state == "handling"


async def _choose_unit(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("appeal.choose_unit", number=c.n)


async def _choose_priority(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("appeal.choose_priority", number=c.n, unit="Station One")


async def _assigned(c: Case) -> None:
    appeal = await c.appeal()
    assert (appeal.state, appeal.unit_id, appeal.priority) == ("handling", "st1", "urgent")


async def _reassigned(c: Case) -> None:
    appeal = await c.appeal()
    assert (appeal.state, appeal.unit_id) == ("handling", "st1")


async def _reject(c: Case) -> None:
    await c.prompt_then(PromptKind.REJECT, "Outside the district")
    assert (await c.appeal()).outcome == "rejected"


async def _merge(c: Case) -> None:
    await c.prompt_then(PromptKind.MERGE, f"#{c.names['target']}")
    appeal = await c.appeal()
    assert (appeal.outcome, appeal.merged_into) == ("merged", c.names["target"])


async def _answer(c: Case) -> None:
    await c.prompt_then(PromptKind.ANSWER, "Meituan")
    assert not (await c.appeal()).awaiting_courier


def _rated(outcome: str, state: str = "closed") -> Check:
    async def check(c: Case) -> None:
        appeal = await c.appeal()
        assert (appeal.state, appeal.outcome) == (state, outcome)

    return check


async def _reopen(c: Case) -> None:
    await c.prompt_then(PromptKind.RATE_UNSATISFIED, "Only half was paid")
    appeal = await c.appeal()
    assert (appeal.state, appeal.reopens) == ("handling", 1)


async def _escalated(c: Case) -> None:
    await c.prompt_then(PromptKind.ESCALATE_UNSOLVED, "Only half was paid")
    appeal = await c.appeal()
    assert (appeal.state, appeal.reopens) == ("assessing", 2)


async def _withdraw_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("appeal.withdraw_confirm", number=c.n)


async def _followup_solved(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("followup.thanks")
    assert await c.count(f"SELECT count(*) FROM timers WHERE appeal_id = {c.n}") == 0


async def _followup_reopened(c: Case) -> None:
    assert await c.count(f"SELECT count(*) FROM appeal_links WHERE parent_id = {c.n} AND kind = 'followup'") == 1


def _draft_step(step: str | None) -> Check:
    async def check(c: Case) -> None:
        draft = await c.bot.services.storage.dialogs.draft(COURIER)
        assert (draft.step if draft else None) == step

    return check


async def _draft_station(c: Case) -> None:
    draft = await c.bot.services.storage.dialogs.draft(c.person)
    assert (draft.step, draft.station) == ("contact", STATION.id)


async def _filed(c: Case) -> None:
    assert await c.count(f"SELECT count(*) FROM appeals WHERE courier_id = {COURIER}") == 1
    assert await c.bot.services.storage.dialogs.draft(COURIER) is None


async def _answered_before_filing(c: Case) -> None:
    assert await c.count("SELECT count(*) FROM direct_answers WHERE answer_id = 'wage-arrears'") == 1
    assert await c.count("SELECT count(*) FROM appeals") == 0
    assert await c.bot.services.storage.dialogs.draft(COURIER) is None


async def _answers_listed(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(c.t("answers.category_title", category="Work protection", count=3))


async def _signed_up(c: Case) -> None:
    signup = await c.bot.services.storage.activities.signup_of(1, c.person)
    assert signup is not None and signup[0].state == "in"
    assert c.t("activities.status_in") in c.bot_texts()[-1]


async def _activity_roster(c: Case) -> None:
    assert c.t("activities.roster_in", count=0) in c.bot_texts()[-1]


async def _survey_results(c: Case) -> None:
    head = c.t("surveys.results_head", title="Couriers' needs survey", count=0)
    assert any(text.startswith(head) for text in c.bot_texts())


async def _survey_begun(c: Case) -> None:
    assert c.bot_texts()[-1].startswith("Couriers' needs survey") and c.t("surveys.anonymous") in c.bot_texts()[-1]


async def _survey_previewed(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(c.t("surveys.preview_head", page=1, pages=10) + "\n\nCouriers' needs survey")


async def _survey_shown(c: Case) -> None:
    """A notice's survey button: a courier begins it; staff and coordinators see the preview."""
    role = (await c.bot.services.storage.people.get(c.person)).role
    await (_survey_begun if role == "courier" else _survey_previewed)(c)


async def _nearest(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(c.t("nearest.title_with", amenity=c.t("amenity.water")))


async def _venue(c: Case) -> None:
    assert c.bot.core.last_message(c.person)["venue"]["title"] == STATION.name


async def _new_appeal_here(c: Case) -> None:
    draft = await c.bot.services.storage.dialogs.draft(c.person)
    assert (draft.step, draft.station, draft.category) == ("category", STATION.id, None)


async def _language(c: Case) -> None:
    assert (await c.bot.services.storage.people.get(c.person)).language == "zh"


async def _hotspot(c: Case) -> None:
    assert await c.count("SELECT count(*) FROM appeals WHERE courier_id IS NULL AND state = 'assessing'") == 1


def _station_active(active: bool) -> Check:
    async def check(c: Case) -> None:
        assert (await c.bot.services.storage.stations.get(STATION.id)).active is active

    return check


async def _close_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("station_pick.close_confirm", name=STATION.name)
    assert (await c.bot.services.storage.stations.get(STATION.id)).active is True


async def _station_card(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(f"{STATION.name} ({STATION.id})")


async def _invited(c: Case) -> None:
    assert await c.count("SELECT count(*) FROM invites WHERE unit_id = 'hr'") == 1


async def _invites_listed(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(c.t("invites15.title")) and "ABCDEFGH" in c.bot_texts()[-1]


async def _revoke_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("invites15.revoke_confirm", code="ABCDEFGH", unit="Station One")
    assert await c.count("SELECT count(*) FROM invites WHERE revoked_at IS NULL") == 1


async def _revoked(c: Case) -> None:
    assert await c.count("SELECT count(*) FROM invites WHERE revoked_at IS NOT NULL") == 1


async def _limits_listed(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(c.t("ratelimit.title", per_minute=100, per_day=1000))


async def _lift_asked(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(c.t("ratelimit.ask_lift", number=c.n, count=1))


def _limits_lifted(lifted: bool) -> Check:
    async def check(c: Case) -> None:
        by = await c.count(f"SELECT filing_unlimited_by FROM people WHERE telegram_id = {COURIER}")
        assert by == (COORDINATOR if lifted else None)

    return check


async def _limits_kept(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("ratelimit.cancelled")


async def _desk_only_in_group(c: Case) -> None:
    assert await c.bot.services.storage.desks.by_unit("hr") is None


async def _mute_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("mute.ask_period", number=c.n)


async def _mute_confirm_asked(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(c.t("mute.ask_confirm", number=c.n, period="1 day", when="")[:-2])
    assert await c.bot.services.storage.people_actions.mute_of(COURIER, c.bot.clock()) is None


async def _muted(c: Case) -> None:
    assert await c.bot.services.storage.people_actions.mute_of(COURIER, c.bot.clock()) is not None


async def _unmuted(c: Case) -> None:
    assert await c.bot.services.storage.people_actions.mute_of(MUTED, c.bot.clock()) is None
    assert c.bot_texts()[-1] == c.t("mute.unmuted", number=c.names["m"])


async def _reply_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("canned.ask_text", limit=500)
    assert (await c.bot.services.storage.dialogs.draft(c.person)).reply_asked


async def _replies_closed(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("canned.closed")


async def _reply_delete_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("canned.delete_confirm", index=1, text="Please bring your wage slips.")
    assert await c.count("SELECT count(*) FROM canned_replies") == 1


async def _reply_deleted(c: Case) -> None:
    assert await c.count("SELECT count(*) FROM canned_replies") == 0


async def _reply_shown(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("canned.shown", index=1, text="Please bring your wage slips.")


async def _reply_sent(c: Case) -> None:
    assert [e.note for e in await c.bot.services.storage.appeals.ledger(c.n)][-1] == "Please bring your wage slips."
    assert (await c.appeal()).awaiting_courier


async def _exported(c: Case) -> None:
    names = [m["document"]["file_name"] for m in c.bot.core.bot_messages(c.person)[-2:] if "document" in m]
    assert [name.rsplit(".", 1)[1] for name in names] == ["csv", "xlsx"]


async def _erase_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("privacy.are_you_sure")


async def _erased(c: Case) -> None:
    assert await c.bot.services.storage.people.get(c.person) is None


async def _kept(c: Case) -> None:
    assert c.t("privacy.kept") in c.bot_texts()


async def _choices(c: Case) -> dict[str, bool] | None:
    return await c.bot.services.storage.outreach.choices(c.person)


async def _hears_all(c: Case) -> None:
    assert await _choices(c) == {"surveys": True, "activities": True, "notices": True}


async def _hears_none(c: Case) -> None:
    assert await _choices(c) == {"surveys": False, "activities": False, "notices": False}
    assert c.t("outreach.no_done") in c.bot_texts()


async def _settings_shown(c: Case) -> None:
    assert c.bot_texts()[-1].startswith(c.t("outreach.settings_title"))


async def _toggled(c: Case) -> None:
    assert (await _choices(c))["surveys"] is True


async def _stopped(c: Case) -> None:
    assert (await _choices(c))["notices"] is False


async def _settings_saved(c: Case) -> None:
    assert any(text.startswith(c.t("outreach.saved")) for text in c.bot_texts())  # the choices stay under it


def _last_answer(c: Case) -> dict[str, Any]:
    return next(params for method, params in reversed(c.bot.core.calls) if method == "answerCallbackQuery")


async def _activity_shown(c: Case) -> None:
    """A notice's button to an activity shows it (handlers/activities.py registers the button)."""
    assert c.bot_texts()[-1].startswith("📌 ")


async def _notice_step(c: Case, step: str | None) -> None:
    draft = await c.bot.services.storage.outreach.draft(c.person)
    assert (draft or {}).get("step") == step, draft


async def _send_cancelled(c: Case, cancelled: bool) -> None:
    send = await c.bot.services.storage.outreach.send(1)
    assert (send.cancelled_at is not None) == cancelled
    rows = await c.bot.services.storage.db.fetchall("SELECT 1 FROM outbox WHERE send_id = 1")
    assert len(rows) == (0 if cancelled else 1)


async def _notice_sent(c: Case) -> None:
    (send,) = await c.bot.services.storage.outreach.sends()
    assert (send.kind, send.audience) == ("notice", 1)
    await _notice_step(c, None)


async def _wish_category_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("wishes.ask_category")


async def _wish_text_asked(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("wishes.ask_text", category="Rain gear", limit=120)
    assert (await c.bot.services.storage.wishes.dialog(c.person)).step == "text"


async def _wish_cancelled(c: Case) -> None:
    assert c.bot_texts()[-1] == c.t("wishes.cancelled")


def _wish_in(state: str) -> Check:
    async def check(c: Case) -> None:
        assert (await c.bot.services.storage.wishes.get(c.names["w"])).state == state

    return check


async def _wish_withdraw_asked(c: Case) -> None:
    """Withdrawing is final: asked first, the wish untouched until confirmed."""
    assert c.bot_texts()[-1].startswith(c.t("wishes2.withdraw_confirm", number=c.names["w"]))
    assert (await c.bot.services.storage.wishes.get(c.names["w"])).state == "posted"


def _wish_asked(step: str) -> Check:
    async def check(c: Case) -> None:
        assert c.bot_texts()[-1] == c.t(f"wishes.ask_{step}", number=c.names["w"], limit=200)
        assert (await c.bot.services.storage.wishes.dialog(c.person)).step == step

    return check


ALLOWED: dict[str, Check] = {
    "open": _open,
    "cnl": _cancel,
    "acc": _accept,
    "sb": _send_back,
    "ask": _ask,
    "note": _note,
    "res": _resolve,
    "ok": _confirmed,
    "ext": _how_long_asked,
    "exd": _extension_requested,
    "exa": _grant_asked,
    "exg": _extension_granted,
    "exr": _extension_refused,
    "coa": _cohandler_unit_asked,
    "cou": _cohandler_added,
    "cos": _part_signed,
    "cof": _part_finished,
    "cow": _allow_asked,
    "con": _co_note,
    "edit": _edit,
    "asg": _choose_unit,
    "asgu": _choose_priority,
    "asgp": _assigned,
    "rea": _choose_unit,
    "reau": _reassigned,
    "rej": _reject,
    "mrg": _merge,
    "ans": _answer,
    "rs": _rated("resolved"),
    "rf": _rated("resolved"),
    "ru": _reopen,
    "rux": _escalated,
    "wd": _withdraw_asked,
    "wdy": _rated("withdrawn"),
    "fuy": _followup_solved,
    "fun": _followup_reopened,
    "dr:cat": _draft_step("description"),
    "dr:back": _draft_step("category"),
    "dr:next": _draft_step("place"),
    "dr:skip": _draft_step("contact"),
    "dr:st": _draft_station,
    "dr:confirm": _filed,
    "dr:cancel": _draft_step(None),
    "dr:solved": _answered_before_filing,
    "dr:anyway": _draft_step("place"),
    "kb:cat": _answers_listed,
    "ac:join": _signed_up,
    "ac:list": _activity_roster,
    "sv:res": _survey_results,
    "sv:go": _survey_begun,
    "sv:pv": _survey_previewed,
    "st:near": _nearest,
    "st:venue": _venue,
    "st:appeal": _new_appeal_here,
    "lg:set": _language,
    "hs:mk": _hotspot,
    "sa:shut": _close_asked,
    "sa:shuty": _station_active(False),
    "sa:show": _station_card,
    "sa:reopen": _station_active(True),
    "iv:mk": _invited,
    "iv:ls": _invites_listed,
    "iv:rv": _revoke_asked,
    "iv:rvy": _revoked,
    "ex:period": _exported,
    "ex:days": _exported,
    "pv:erase": _erase_asked,
    "pv:yes": _erased,
    "pv:no": _kept,
    "lm:list": _limits_listed,
    "lm:ask": _lift_asked,
    "lm:lift": _limits_lifted(True),
    "lm:restore": _limits_lifted(False),
    "lm:no": _limits_kept,
    "mu:ask": _mute_asked,
    "mu:for": _mute_confirm_asked,
    "mu:yes": _muted,
    "mu:un": _unmuted,
    "mu:no": _limits_kept,
    "mu:card": _mute_asked,
    "cr:add": _reply_asked,
    "cr:close": _replies_closed,
    "cr:del": _reply_delete_asked,
    "cr:dely": _reply_deleted,
    "cr": _reply_shown,
    "crs": _reply_sent,
    "dk:link": _desk_only_in_group,
    "dk:unl": _desk_only_in_group,
    "dk:keep": _desk_only_in_group,
    "or:yes": _hears_all,
    "or:no": _hears_none,
    "or:set": _settings_shown,
    "or:tg": _toggled,
    "or:stop": _stopped,
    "or:close": _settings_saved,
    "ol:sv": _survey_shown,
    "ol:act": _activity_shown,
    "nc:skip": lambda c: _notice_step(c, "link"),
    "nc:lang": lambda c: _notice_step(c, "area"),
    "nc:area": lambda c: _notice_step(c, "when"),
    "nc:when": lambda c: _notice_step(c, "confirm"),
    "nc:unsend": lambda c: _send_cancelled(c, False),
    "nc:unsendy": lambda c: _send_cancelled(c, True),
    "nc:keep": lambda c: _send_cancelled(c, False),
    "nc:send": _notice_sent,
    "nc:cancel": lambda c: _notice_step(c, None),
    "wi:new": _wish_category_asked,
    "wi:cat": _wish_text_asked,
    "wi:cnl": _wish_cancelled,
    "wi:approve": _wish_in("approved"),
    "wi:decline": _wish_asked("decline"),
    "wi:claim": _wish_in("claimed"),
    "wi:grant": _wish_asked("grant"),
    "wi:collect": _wish_in("collected"),
    "wi:withdraw": _wish_withdraw_asked,
    "wi:wdy": _wish_in("withdrawn"),
    "wi:keep": _wish_in("posted"),
}


def _allowed_check(data: str) -> Check:
    family, verb = _family_verb(data)
    return ALLOWED[verb] if family == "ap" else ALLOWED.get(f"{family}:{verb}") or ALLOWED[data]


def _commands_allowed(command: str) -> Callable[[Case, list[str]], None]:
    """What an allowed command answers (the bot's new messages' texts)."""
    name = command.split()[0]

    def check(c: Case, replies: list[str]) -> None:
        first = replies[0]
        expected = {
            "/start": c.t("start.greeting", name=f"P{c.person}"),
            "/help": c.t("help.coordinator" if c.person == COORDINATOR else "help.courier"),
            "/language": c.t("language.prompt"),
            "/appeal": c.t("filing.ask_category"),
            "/cancel": c.t("cancel.nothing"),
            "/station": c.t("stations.ask_location"),
            "/privacy": c.t("privacy.title"),
            "/triage": c.t("coord.triage_title"),
            "/open": f"#{c.n}",
            "/invite": "Invitation for the unit: HR Bureau",
            "/invites": c.t("invites15.title"),
            "/join": "Welcome! You are now on the staff of this unit: Station One.",
            "/digest": "Digest, last 7 days",
            "/undelivered": c.t("digest.undelivered_none"),
            "/export": c.t("export.choose"),
            "/stations": "Stations: 1 open, 0 closed.",
            "/people": c.t("people.title"),
            "/lift": c.t("ratelimit.ask_lift", number=c.n, count=1),
            "/mute": c.t("mute.ask_period", number=c.n),
            "/link_unit": c.t("desk.use_in_group"),
            "/unlink_unit": c.t("desk.use_in_group"),
            "/unmute": c.t("mute.unmuted", number=c.names.get("m")),
            "/replies": "has no canned replies yet.",
            "/answers": c.t("answers.overview", count=12),
            "/settings": c.t("outreach.settings_title"),
            "/notice": c.t("outreach.ask_text", limit=1000),
            "/outreach": c.t("outreach.no_sends"),
            "/activities": c.t("activities.coord_title" if c.person == COORDINATOR else "activities.none"),
            "/activity": c.t("activities.ask_title"),
        }
        if name == "/my":
            if c.person == COURIER:
                assert first.startswith(c.t("my.title")) and f"#{c.n}" in first
            else:
                assert first == c.t("my.none")
        elif name == "/surveys":
            if c.person in (HR_STAFF, STATION_STAFF):  # staff preview what couriers answer
                assert first == c.t("survey_staff.list", count=1)
            else:
                assert first == c.t("surveys.list" if c.person == COORDINATOR else "surveys.open_list", count=1) + (
                    "\n" + c.t("surveys.how_to_import") if c.person == COORDINATOR else ""
                )
        elif name == "/wishes":
            if c.person == COORDINATOR:
                assert first == c.t("wishes.none_open")
            elif c.person in (HR_STAFF, STATION_STAFF):
                assert first == c.t("wishes.none_to_claim")
            else:
                assert first.startswith(c.t("wishes.intro"))
        elif name == "/queue":
            if c.person == HR_STAFF:
                assert first.startswith(c.t("staff.queue_title", unit="HR Bureau")) and f"#{c.n}" in first
            else:
                assert first == c.t("staff.queue_empty")
        else:
            assert expected[name] in first, (name, first)

    return check


# ---------------------------------------------------------------------------- the tests


def _cases(table: list[tuple[str, str, tuple[str, ...]]]) -> list[Any]:
    cases = []
    for what, state, verdicts in table:
        assert len(verdicts) == len(KINDS) and set(verdicts) <= {"ok", "no"}, what
        for kind, verdict in zip(KINDS, verdicts, strict=True):
            # An export allowed builds its files in the bot's worker process.
            marks = [pytest.mark.slow] if what.startswith("ex:") and verdict == "ok" else []
            case_id = f"{what.replace('{n}', 'N')}-{kind}-{verdict}"
            cases.append(pytest.param(what, state, kind, verdict == "ok", id=case_id, marks=marks))
    return cases


async def _arrive(bot: Bot, kind: str) -> tuple[int, list[BaseException]]:
    """The person, with a bot message in their chat to press a button on, and a record of errors.

    A stranger is unknown to the database but may still have old bot messages (someone whose
    data was erased, or a database started afresh): one is sent straight through the Bot API.
    """
    person = PERSON[kind]
    if kind == "stranger":
        bot.user(STRANGER, f"P{STRANGER}")
        await bot.app.bot.send_message(STRANGER, "An old message")
    errors: list[BaseException] = []

    async def record(update: object, context) -> None:
        errors.append(context.error)

    bot.app.add_error_handler(record)
    return person, errors


@pytest.mark.parametrize(("data", "state", "kind", "allowed"), _cases(BUTTONS))
async def test_button(tmp_path, data, state, kind, allowed) -> None:
    """A press is allowed and works, or is refused with an alert and changes nothing."""
    async with running_bot(tmp_path / "matrix.sqlite3") as bot:
        names = await scene(bot, state)
        person, errors = await _arrive(bot, kind)
        case = Case(bot, person, names)
        if data.startswith("ap:") and data.endswith(":cnl") and kind != "stranger":
            await bot.services.storage.dialogs.set_prompt(person, Prompt(PromptKind.NOTE, names["n"], {}), bot.clock())
        path = bot.services.storage.db.path
        before = snapshot(path)
        message = bot.core.bot_messages(person)[-1]
        query = bot.core.press_button(person, message["message_id"], data.format(**names))
        await bot.deliver()
        answer = bot.core.answered_callback(query)
        assert answer is not None, "every press is answered"
        if allowed:
            assert not answer["show_alert"], answer
            await _allowed_check(data)(case)
        else:
            # A dialog's button with no dialog open is stale, not forbidden: a quiet toast, not an alert.
            alert = _family_verb(data)[0] != "dr"
            assert answer == {"text": case.t(refusal(data, kind, state)), "show_alert": alert}
            assert snapshot(path, ignore_person=STRANGER if kind == "stranger" else None) == before
        assert errors == []
        assert await check_database(bot.services.storage.db) == []


@pytest.mark.parametrize(("command", "state", "kind", "allowed"), _cases(COMMANDS))
async def test_command(tmp_path, command, state, kind, allowed) -> None:
    """A command is answered as its user expects, or refused with a reply that changes nothing."""
    async with running_bot(tmp_path / "matrix.sqlite3") as bot:
        names = await scene(bot, state)
        person, errors = await _arrive(bot, kind)
        case = Case(bot, person, names)
        path = bot.services.storage.db.path
        before = snapshot(path)
        replies = [m.get("text") or m.get("caption") or "" for m in await bot.say(person, command.format(**names))]
        assert replies, "every command is answered"
        if allowed:
            _commands_allowed(command)(case, replies)
        else:
            assert replies == [case.t(command_refusal(command, kind))]
            assert snapshot(path, ignore_person=STRANGER if kind == "stranger" else None) == before
        assert errors == []
        assert await check_database(bot.services.storage.db) == []


# Whoever filed an appeal is only its courier (domain/lifecycle.py roles_of). The courier who filed
# the appeal of each case is then made staff of its unit (HR), or a coordinator: what that role
# would allow on any other appeal is refused with the reason; what a courier may do still works.
#   filer_staff        the courier, now HR staff
#   filer_coordinator  the courier, now a coordinator
SELF_KINDS = {"filer_staff": ("staff", "hr"), "filer_coordinator": ("coordinator", None)}
SELF_BUTTONS: list[tuple[str, str, tuple[str, str]]] = [
    ("ap:{n}:acc", "handling", ("no", "no")),
    ("ap:{n}:sb", "handling", ("no", "no")),
    ("ap:{n}:ask", "accepted", ("no", "no")),
    ("ap:{n}:note", "accepted", ("no", "no")),
    ("ap:{n}:res", "accepted", ("no", "no")),
    ("ap:{n}:ok:res.{v}", "confirming", ("no", "no")),
    ("ap:{n}:ext", "accepted", ("no", "no")),
    ("ap:{n}:exd:2", "accepted", ("no", "no")),
    ("ap:{n}:exa", "extension", ("no", "no")),
    ("ap:{n}:exg:2.{v}", "extension", ("no", "no")),
    ("ap:{n}:exr", "extension", ("no", "no")),
    ("ap:{n}:asg", "assessing", ("no", "no")),
    ("ap:{n}:asgu:st1", "assessing", ("no", "no")),
    ("ap:{n}:asgp:st1.urgent", "assessing", ("no", "no")),
    ("ap:{n}:rej", "assessing", ("no", "no")),
    ("ap:{n}:mrg", "assessing", ("no", "no")),
    ("ap:{n}:rea", "handling", ("no", "no")),
    ("ap:{n}:reau:st1", "handling", ("no", "no")),
    ("ap:{n}:coa", "accepted", ("no", "no")),
    ("ap:{n}:cou:st1.{v}", "accepted", ("no", "no")),
    ("ap:{n}:cow", "cohandled", ("no", "no")),
    # As the appeal's courier they still answer, rate and withdraw.
    ("ap:{n}:open", "handling", ("ok", "ok")),
    ("ap:{n}:ans", "awaiting", ("ok", "ok")),
    ("ap:{n}:rs", "feedback", ("ok", "ok")),
    ("ap:{n}:wd", "handling", ("ok", "ok")),
]


def _self_refusal(data: str, kind: str) -> str:
    """Refused as the filer where their new role could otherwise act; else as any courier is."""
    verb = _family_verb(data)[1]
    staff_may = {"acc", "sb", "ask", "note", "res", "ok", "ext", "exd"}
    coordinator_may = {
        "asg",
        "asgu",
        "asgp",
        "rej",
        "mrg",
        "rea",
        "reau",
        "note",
        "exa",
        "exg",
        "exr",
        "coa",
        "cou",
        "cow",
    }
    return (
        "selfhandling.refused"
        if verb in (staff_may if kind == "filer_staff" else coordinator_may)
        else "appeal.not_permitted"
    )


def _self_cases() -> list[Any]:
    return [
        pytest.param(data, state, kind, verdict == "ok", id=f"{data.replace('{n}', 'N')}-{kind}-{verdict}")
        for data, state, verdicts in SELF_BUTTONS
        for kind, verdict in zip(SELF_KINDS, verdicts, strict=True)
    ]


@pytest.mark.parametrize(("data", "state", "kind", "allowed"), _self_cases())
async def test_filer_with_a_role(tmp_path, data, state, kind, allowed) -> None:
    """The filer, now staff of its unit or a coordinator, is refused what only that role would allow,
    with an alert that says so, and nothing changes; their courier's buttons still work."""
    async with running_bot(tmp_path / "self.sqlite3") as bot:
        names = await scene(bot, state)
        role, unit = SELF_KINDS[kind]
        await bot.services.storage.people.add(COURIER, role, unit, now=bot.clock())
        await bot.tick()  # the coordinators hear that it is with its filer's unit
        person, errors = await _arrive(bot, "courier")
        case = Case(bot, person, names)
        path = bot.services.storage.db.path
        before = snapshot(path)
        message = bot.core.bot_messages(person)[-1]
        query = bot.core.press_button(person, message["message_id"], data.format(**names))
        await bot.deliver()
        answer = bot.core.answered_callback(query)
        if allowed:
            assert not answer["show_alert"], answer
            await _allowed_check(data)(case)
        else:
            assert answer == {"text": case.t(_self_refusal(data, kind)), "show_alert": True}
            assert snapshot(path) == before
        assert errors == []
        assert await check_database(bot.services.storage.db) == []


async def test_the_tables_name_every_command_and_button(tmp_path) -> None:
    """A new command or button verb must get a row here before it ships."""
    async with running_bot(tmp_path / "commands.sqlite3") as bot:
        registered = {
            command
            for handlers in bot.app.handlers.values()
            for handler in handlers
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        }
    assert registered == {c.split()[0].lstrip("/") for c, _, _ in COMMANDS}
    appeal_verbs = {_family_verb(d)[1] for d, _, _ in BUTTONS if d.startswith("ap:")}
    assert appeal_verbs == set(BY_VERB) | EXTRA_APPEAL_VERBS
    assert {_family_verb(d)[1] for d, _, _ in BUTTONS if d.startswith("dr:")} == DRAFT_VERBS
    families = {callbacks.decode(d.format(n=1, v=1, m=2, r=1, s=1, w=1)).kind for d, _, _ in BUTTONS}
    assert families == set(callbacks.Family) - {callbacks.Family.PAGE}  # list pages: tests/handlers/test_list_pages.py


# Callback data no button of the bot carries, and the alert each must get whoever presses it.
FORGED = [
    ("lang:fr", "press.invalid"),
    ("sa:zap:s1", "press.invalid"),
    ("ex:period:never", "press.invalid"),
    ("ex:days:20261130.20261101", "press.invalid"),
    ("ex:days:2026.11", "press.invalid"),
    ("pv:zap", "press.invalid"),
    ("st:zap:s1", "press.invalid"),
    ("st:near:lava", "press.invalid"),
    ("ap:{n}:zzz", "press.invalid"),
    ("ap:{n}:asgp:nowhere.urgent", "appeal.bad_unknown_unit"),
    ("ap:{n}:reau:hr", "appeal.bad_same_unit"),
    ("ap:99999:open", "appeal.not_found"),
    ("dr:zap", "press.invalid"),
    ("ap:{n}:ok:zz.1", "press.invalid"),
    ("hs:mk:st.nowhere.work", "digest.hotspot_gone"),
    ("mu:yes:{n}.2w", "press.invalid"),
    ("mu:for:{n}", "press.invalid"),
    ("or:stop:wishes", "press.invalid"),
    ("nc:lang:fr", "outreach.stale"),
    ("not-a-button", "press.invalid"),
    ("ap:1:" + "x" * 70, "press.invalid"),
]


@pytest.mark.parametrize(("data", "key"), FORGED, ids=[d.replace("{n}", "N")[:30] for d, _ in FORGED])
async def test_forged_data_is_refused_with_an_alert(tmp_path, data, key) -> None:
    """Made-up callback data, even from the coordinator who may do most things, is refused and changes nothing."""
    async with running_bot(tmp_path / "forged.sqlite3") as bot:
        names = await scene(bot, "assessing" if "asgp" in data else "handling")
        person, errors = await _arrive(bot, "coordinator")
        path = bot.services.storage.db.path
        before = snapshot(path)
        message = bot.core.bot_messages(person)[-1]
        query = bot.core.press_button(person, message["message_id"], data.format(**names))
        await bot.deliver()
        assert bot.core.answered_callback(query) == {"text": bot.services.text("en", key), "show_alert": True}
        assert snapshot(path) == before
        assert errors == []
