"""Each lifecycle event, declared once: where it may happen, what it needs, what it changes, who hears.

Everything else that knows about an event reads its `EventRule` here: the lifecycle table and
`after()` (domain/lifecycle.py), the timers (domain/deadlines.py), the rates (domain/rates.py), the
note checks and the stored row (storage/appeals.py), the reports' SQL (storage/reports.py,
storage/ledger.py), the buttons on a card (handlers/cards.py) and the typed-text dialogs
(storage/dialogs.py's PromptKind, handlers/text_prompts.py).

To add an event: a member of `Event` and its `EventRule` in `_DECLARED`; its texts in both catalogs
(notice.<event>.<audience> for each audience told, history.<event>, stale.<event>, and for a button
its label, appeal.done_<event> and, if it asks for text, appeal.prompt_<event>); and for a button a
verb of the same name in handlers/callbacks.py's AppealVerb (callback data must stay short).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from domain.names import Audience, Guard, Outcome, Rating, Role, State, Timer
from domain.texts import MIN_NOTE, MIN_OUTCOME


class Event(StrEnum):
    """Something a person or the system does to an appeal."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ASSIGN = "assign"
    REASSIGN = "reassign"
    REJECT = "reject"
    MERGE = "merge"
    ACCEPT = "accept"
    SEND_BACK = "send_back"
    ASK = "ask"
    ANSWER = "answer"
    NOTE = "note"
    RESOLVE = "resolve"
    RATE_SATISFIED = "rate_satisfied"
    RATE_FAIRLY_SATISFIED = "rate_fairly_satisfied"
    RATE_UNSATISFIED = "rate_unsatisfied"
    AUTO_CLOSE = "auto_close"
    REQUEST_EXTENSION = "request_extension"  # 延期申请: the unit asks for more working time
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    # "Not solved" once the unit's redos (重办) are used up: a coordinator decides what happens next.
    ESCALATE_UNSOLVED = "escalate_unsolved"
    # Co-handling (协办): a coordinator adds a unit beside the lead (主办); it signs for its part (签收) and
    # says when its part is done, with what it did; a coordinator may let the lead resolve without it.
    ADD_COHANDLER = "add_cohandler"
    SIGN_PART = "sign_part"
    FINISH_PART = "finish_part"
    ALLOW_RESOLVE = "allow_resolve"
    CO_NOTE = "co_note"  # a co-handling unit's note to the lead: internal, the courier is not told


@dataclass(frozen=True)
class Step:
    """One row of the lifecycle table: from `state` to `to`, by whom, on which conditions, ending how."""

    state: State
    to: State
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    outcome: Outcome | None = None  # set when `to` is CLOSED


def step(
    state: State, to: State, roles: set[Role], guards: tuple[Guard, ...] = (), outcome: Outcome | None = None
) -> Step:
    """A table row (roles as a plain set)."""
    return Step(state, to, frozenset(roles), guards, outcome)


@dataclass(frozen=True)
class NoteRule:
    """The event's note (reason, question, answer, result) must not be empty."""

    weight: int = 0  # how much real text it must hold (domain/texts.py's word_weight); 0: any text
    files_enough: bool = False  # a photo, voice note or document alone will do instead


@dataclass(frozen=True)
class Button:
    """The button on an appeal's card that offers the event (its verb: AppealVerb of the event's name)."""

    label: str  # catalog key
    needs_text: bool = False  # the bot asks for a reason, question, answer or result first


@dataclass(frozen=True)
class EventRule:
    """Everything the code knows about one event."""

    event: Event
    steps: tuple[Step, ...]  # its rows of the lifecycle table
    note: NoteRule | None = None  # None: a note is optional
    # The facts it changes (None: left as they were).
    accepted: bool | None = None  # the unit has signed for the appeal (签收)
    awaiting_courier: bool | None = None  # the unit waits for the courier's answer
    counts_send_back: bool = False  # one more send-back (see lifecycle.MAX_SEND_BACKS)
    # One more reopening, a counted redo (重办): the handling deadline it arms is the redo length
    # (deadlines.redo, Spans.redo), not a whole new handling span.
    reopens: bool = False
    takes_unit: bool = False  # the appeal goes to the unit it names (an active one)
    another_unit: bool = False  # ... which must not be the unit it is with
    opens_send_back_window: bool = False  # the unit may send it back until its send-back window ends
    merges: bool = False  # the appeal joins the one it names, its followers with it (domain/merges.py)
    # An extension request waits for a coordinator (True), or was answered (False); it lapses when the
    # appeal leaves the unit (lifecycle.after).
    extension_pending: bool | None = None
    asks_extension: bool = False  # the working days it asks for are stored (the `extensions` table)
    grants_extension: bool = False  # the handling deadline moves by the working days granted
    # Co-handling parts (协办, the `cohandlers` table): a unit joins beside the lead with its own part, signs
    # for it, finishes it; or a coordinator lets the lead resolve while parts are open.
    adds_part: bool = False
    signs_part: bool = False
    finishes_part: bool = False
    waives_parts: bool = False
    # Its deadlines, besides closing, which clears them all (domain/deadlines.py).
    arms: tuple[Timer, ...] = ()
    clears: tuple[Timer, ...] = ()
    pauses: tuple[Timer, ...] = ()
    resumes: tuple[Timer, ...] = ()
    on_time_by: Timer | None = None  # the ledger marks it on time if this timer had not run out
    tells: tuple[Audience, ...] = ()  # who is told, in this order (the actor never)
    rating: Rating | None = None  # a courier's rating, as the satisfaction rate counts it
    button: Button | None = None


S, R, G, T, A = State, Role, Guard, Timer, Audience
_COURIER = {R.COURIER}
_STAFF = {R.STAFF}
_COORD = {R.COORDINATOR}
_COHANDLER = {R.COHANDLER}
# Until a unit resolves it, its courier may take an appeal back.
_WITHDRAWABLE = (S.COLLECTING, S.ASSESSING, S.HANDLING)

# In the order their buttons appear on a card.
_DECLARED = (
    EventRule(
        Event.SUBMIT,
        # A coordinator files a proactive appeal (from a hot spot) with no courier behind it.
        (step(S.COLLECTING, S.ASSESSING, {R.COURIER, R.COORDINATOR}),),
        arms=(T.TRIAGE,),
        clears=(T.ACCEPT, T.HANDLE),
        tells=(A.COORDINATORS,),
    ),
    EventRule(
        Event.ACCEPT,
        (step(S.HANDLING, S.HANDLING, _STAFF, (G.NOT_ACCEPTED,)),),
        accepted=True,
        clears=(T.ACCEPT,),
        on_time_by=T.ACCEPT,
        tells=(A.COURIER, A.FOLLOWERS),
        button=Button("button.accept"),
    ),
    EventRule(
        Event.SEND_BACK,
        (step(S.HANDLING, S.ASSESSING, _STAFF, (G.NOT_ACCEPTED, G.SEND_BACK_ALLOWED)),),
        note=NoteRule(MIN_OUTCOME),  # the coordinator must route it again from this reason alone
        accepted=False,
        awaiting_courier=False,
        counts_send_back=True,
        arms=(T.TRIAGE,),
        clears=(T.ACCEPT, T.HANDLE),
        tells=(A.COORDINATORS, A.COURIER),
        button=Button("button.send_back", needs_text=True),
    ),
    EventRule(
        Event.ASK,
        (step(S.HANDLING, S.HANDLING, _STAFF, (G.ACCEPTED, G.NOT_AWAITING_COURIER)),),
        note=NoteRule(MIN_NOTE),
        awaiting_courier=True,
        pauses=(T.HANDLE,),
        tells=(A.COURIER,),
        button=Button("button.ask", needs_text=True),
    ),
    EventRule(
        Event.NOTE,
        (step(S.HANDLING, S.HANDLING, {R.STAFF, R.COORDINATOR}, (G.ACCEPTED,)),),
        note=NoteRule(),
        tells=(A.COURIER,),
        button=Button("button.note", needs_text=True),
    ),
    EventRule(
        Event.RESOLVE,
        # Only the lead resolves, once the co-handling parts are done or a coordinator allows it.
        (step(S.HANDLING, S.FEEDBACK, _STAFF, (G.ACCEPTED, G.PARTS_DONE)),),
        note=NoteRule(MIN_OUTCOME),
        awaiting_courier=False,
        arms=(T.FEEDBACK,),
        clears=(T.ACCEPT, T.HANDLE),
        on_time_by=T.HANDLE,
        tells=(A.COURIER, A.FOLLOWERS, A.COHANDLERS),
        button=Button("button.resolve", needs_text=True),
    ),
    EventRule(
        Event.REQUEST_EXTENSION,
        # While it waits for the courier's answer its deadline is paused: no time is running out.
        (step(S.HANDLING, S.HANDLING, _STAFF, (G.ACCEPTED, G.NOT_AWAITING_COURIER, G.NO_EXTENSION_PENDING)),),
        note=NoteRule(MIN_NOTE),
        extension_pending=True,
        asks_extension=True,
        tells=(A.COORDINATORS,),
        button=Button("button.request_extension", needs_text=True),
    ),
    EventRule(
        Event.APPROVE_EXTENSION,
        (step(S.HANDLING, S.HANDLING, _COORD, (G.EXTENSION_PENDING,)),),
        extension_pending=False,
        grants_extension=True,
        tells=(A.UNIT, A.COURIER),
        button=Button("button.approve_extension"),
    ),
    EventRule(
        Event.REFUSE_EXTENSION,
        (step(S.HANDLING, S.HANDLING, _COORD, (G.EXTENSION_PENDING,)),),
        note=NoteRule(MIN_NOTE),
        extension_pending=False,
        tells=(A.UNIT,),
        button=Button("button.refuse_extension", needs_text=True),
    ),
    EventRule(
        Event.ASSIGN,
        (step(S.ASSESSING, S.HANDLING, {R.COORDINATOR, R.SYSTEM}),),
        accepted=False,
        awaiting_courier=False,
        takes_unit=True,
        opens_send_back_window=True,
        arms=(T.ACCEPT, T.HANDLE),
        clears=(T.TRIAGE,),
        tells=(A.UNIT, A.COURIER),
        button=Button("button.assign"),
    ),
    EventRule(
        Event.REASSIGN,
        (step(S.HANDLING, S.HANDLING, _COORD),),
        accepted=False,
        awaiting_courier=False,
        takes_unit=True,
        another_unit=True,
        opens_send_back_window=True,
        arms=(T.ACCEPT, T.HANDLE),
        clears=(T.TRIAGE,),
        tells=(A.UNIT, A.PREVIOUS_UNIT, A.COURIER),
        button=Button("button.reassign"),
    ),
    EventRule(
        Event.REJECT,
        (step(S.ASSESSING, S.CLOSED, _COORD, outcome=Outcome.REJECTED),),
        note=NoteRule(MIN_OUTCOME),
        tells=(A.COURIER, A.FOLLOWERS),
        button=Button("button.reject", needs_text=True),
    ),
    EventRule(
        Event.MERGE,
        (step(S.ASSESSING, S.CLOSED, _COORD, outcome=Outcome.MERGED),),
        merges=True,
        tells=(A.COURIER, A.FOLLOWERS),
        button=Button("button.merge", needs_text=True),
    ),
    EventRule(
        Event.ANSWER,
        (step(S.HANDLING, S.HANDLING, _COURIER, (G.AWAITING_COURIER,)),),
        note=NoteRule(files_enough=True),
        awaiting_courier=False,
        resumes=(T.HANDLE,),
        tells=(A.UNIT,),
        button=Button("button.reply", needs_text=True),
    ),
    EventRule(
        Event.RATE_SATISFIED,
        (step(S.FEEDBACK, S.CLOSED, _COURIER, outcome=Outcome.RESOLVED),),
        tells=(A.UNIT,),
        rating=Rating.SATISFIED,
        button=Button("button.satisfied"),
    ),
    EventRule(
        Event.RATE_FAIRLY_SATISFIED,
        (step(S.FEEDBACK, S.CLOSED, _COURIER, outcome=Outcome.RESOLVED),),
        tells=(A.UNIT,),
        rating=Rating.FAIRLY_SATISFIED,
        button=Button("button.fairly_satisfied"),
    ),
    EventRule(
        Event.RATE_UNSATISFIED,
        (step(S.FEEDBACK, S.HANDLING, _COURIER, (G.REDOS_LEFT,)),),
        note=NoteRule(MIN_NOTE),  # the unit takes it up again from what is still wrong
        # Reopened as a redo (重办) for the same unit, which already accepted it once.
        awaiting_courier=False,
        reopens=True,
        arms=(T.HANDLE,),
        clears=(T.FEEDBACK,),
        tells=(A.UNIT, A.FOLLOWERS),
        rating=Rating.UNSATISFIED,
        button=Button("button.not_solved", needs_text=True),
    ),
    EventRule(
        Event.ESCALATE_UNSOLVED,
        # The same "Not solved" button: only one of the two is ever permitted (their guards).
        (step(S.FEEDBACK, S.ASSESSING, _COURIER, (G.NO_REDOS_LEFT,)),),
        note=NoteRule(MIN_NOTE),  # the coordinator decides from what is still wrong
        accepted=False,
        awaiting_courier=False,
        arms=(T.TRIAGE,),
        clears=(T.FEEDBACK,),
        tells=(A.COORDINATORS, A.FOLLOWERS),
        rating=Rating.UNSATISFIED,
        button=Button("button.not_solved", needs_text=True),
    ),
    EventRule(
        Event.WITHDRAW,
        tuple(step(state, S.CLOSED, _COURIER, outcome=Outcome.WITHDRAWN) for state in _WITHDRAWABLE),
        tells=(A.UNIT, A.FOLLOWERS, A.COHANDLERS),
        button=Button("button.withdraw"),
    ),
    EventRule(
        Event.AUTO_CLOSE,
        (step(S.FEEDBACK, S.CLOSED, {R.SYSTEM}, outcome=Outcome.AUTO_CLOSED),),
        tells=(A.COURIER, A.UNIT, A.FOLLOWERS),
    ),
    EventRule(
        Event.ADD_COHANDLER,
        # The unit it names (args.unit): active, neither the lead nor a co-handler already.
        (step(S.HANDLING, S.HANDLING, _COORD),),
        adds_part=True,
        tells=(A.COHANDLER_ADDED, A.UNIT),
        button=Button("button.add_cohandler"),
    ),
    EventRule(
        Event.SIGN_PART,
        # Checked with the arguments: the presser's own unit has a part not yet signed.
        (step(S.HANDLING, S.HANDLING, _COHANDLER, (G.PART_TO_SIGN,)),),
        signs_part=True,
        tells=(A.UNIT,),
        button=Button("button.sign_part"),
    ),
    EventRule(
        Event.CO_NOTE,
        (step(S.HANDLING, S.HANDLING, _COHANDLER),),
        note=NoteRule(),
        tells=(A.UNIT,),
        button=Button("button.co_note", needs_text=True),
    ),
    EventRule(
        Event.FINISH_PART,
        # Checked with the arguments: the presser's own unit signed for its part and has not finished it.
        (step(S.HANDLING, S.HANDLING, _COHANDLER, (G.PART_SIGNED,)),),
        note=NoteRule(MIN_OUTCOME),  # what the unit did: the lead writes the result from it
        finishes_part=True,
        tells=(A.UNIT, A.COORDINATORS),  # internal: the courier hears the lead's result, not each part
        button=Button("button.finish_part", needs_text=True),
    ),
    EventRule(
        Event.ALLOW_RESOLVE,
        (step(S.HANDLING, S.HANDLING, _COORD, (G.PARTS_OPEN,)),),
        waives_parts=True,
        tells=(A.UNIT,),
        button=Button("button.allow_resolve"),
    ),
)

RULES: dict[Event, EventRule] = {rule.event: rule for rule in _DECLARED}


def events_where(test: Callable[[EventRule], bool]) -> tuple[Event, ...]:
    """The events whose declaration passes `test`, in the declared order."""
    return tuple(r.event for r in _DECLARED if test(r))


# How each way of closing counts (domain/rates.py). These did not ask anything of a unit: the
# resolution rate leaves them out.
NOT_ASKED_OUTCOMES = frozenset({Outcome.WITHDRAWN, Outcome.MERGED, Outcome.REJECTED})
# These were handled to the end: the resolution rate counts them solved, the card still names the
# unit, and the courier is later asked "still solved?".
SOLVED_OUTCOMES = frozenset({Outcome.RESOLVED, Outcome.AUTO_CLOSED})
