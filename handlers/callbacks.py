"""The one codec for callback data: families and verbs as enums. Clients write callback data, so
decoding trusts nothing: a family or verb that is not in these enums decodes to None.

    ap:<appeal>:<verb>[:<arg>]   a button about one appeal
    ls:<list>:<id>[:<due>]       the next page of a list
    <family>:<verb>[:<arg>]      every other family

Which handler each (family, verb) reaches is one table: handlers/presses.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from storage.appeals import ListPosition

MAX_BYTES = 64  # Telegram's limit on callback_data


class Family(StrEnum):
    """What a button is about: the first field of its callback data."""

    APPEAL = "ap"
    DRAFT = "dr"
    STATION = "st"
    PAGE = "ls"
    HOTSPOT = "hs"
    STATION_ADMIN = "sa"
    EXPORT = "ex"
    PRIVACY = "pv"
    LANGUAGE = "lg"
    INVITE = "iv"
    LIMITS = "lm"
    MUTE = "mu"
    CANNED = "cr"
    DESK = "dk"
    ANSWERS = "kb"
    OUTREACH = "or"  # what a person hears about: asked once, Settings, Stop under a message
    NOTICE = "nc"  # a coordinator's notice dialog (/notice)
    LINK = "ol"  # a notice's button to an activity or a survey: the feature registers its handler
    ACTIVITY = "ac"
    SURVEY = "sv"
    WISH = "wi"


class AppealVerb(StrEnum):
    """Buttons about one appeal: its lifecycle actions, then the steps around them."""

    OPEN = "open"
    ACCEPT = "acc"
    SEND_BACK = "sb"
    ASK = "ask"
    NOTE = "note"
    RESOLVE = "res"
    ASSIGN = "asg"
    REASSIGN = "rea"
    REJECT = "rej"
    MERGE = "mrg"
    ANSWER = "ans"
    RATE_SATISFIED = "rs"
    RATE_FAIRLY_SATISFIED = "rf"
    RATE_UNSATISFIED = "ru"
    ESCALATE_UNSOLVED = "rux"  # "Not solved" once the redos are used up: to a coordinator
    WITHDRAW = "wd"
    REQUEST_EXTENSION = "ext"
    APPROVE_EXTENSION = "exa"
    REFUSE_EXTENSION = "exr"
    EXTENSION_DAYS = "exd"  # arg: the working days the unit asks for; then its reason
    EXTENSION_GRANT = "exg"  # arg: "<working days>.<version>": a coordinator grants that much, once
    ADD_COHANDLER = "coa"  # 协办: which unit to add beside the lead
    SIGN_PART = "cos"
    FINISH_PART = "cof"
    ALLOW_RESOLVE = "cow"
    CO_NOTE = "con"
    COHANDLER_UNIT = "cou"  # arg: "<unit>.<version>": the co-handling unit chosen, added once
    ASSIGN_UNIT = "asgu"  # arg: the unit chosen; then the priority
    ASSIGN_PRIORITY = "asgp"  # arg: "<unit>.<priority>"
    REASSIGN_UNIT = "reau"  # arg: the unit chosen
    WITHDRAW_CONFIRM = "wdy"  # arg: the appeal's version the courier saw
    CONFIRM = "ok"  # arg: "<event verb>.<version>[.<text digest>]": the typed text the bot showed back
    EDIT = "edit"  # write the typed text again
    CANCEL = "cnl"
    FOLLOWUP_SOLVED = "fuy"
    FOLLOWUP_NOT_SOLVED = "fun"
    FILES = "files"  # the appeal's photos, voice notes and documents
    FULL_TEXT = "full"  # all of a shortened card: its words and its whole history, in parts
    CANNED = "cr"  # arg: a canned reply's id: shown, to send as it is or edit (handlers/canned_replies.py)
    CANNED_SEND = "crs"  # arg: the canned reply's id: sent as if typed


class DraftVerb(StrEnum):
    """Buttons of the filing dialog."""

    CATEGORY = "cat"
    BACK = "back"
    NEXT = "next"
    SKIP = "skip"
    STATION = "st"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    # An unfinished draft mentioned after another journey: arg, the draft's start, so an old one never acts.
    CONTINUE = "go"
    DISCARD = "drop"  # arg: "<started>[.new[.<station>]]": discard, and perhaps start a new one
    # Text typed outside any dialog, kept for a tap: file it, or send it as the answer to appeal <arg>.
    FILE_KEPT = "file"
    ANSWER_KEPT = "ans"
    # Answers offered before filing: arg "<answer id>.<started>" for the one that settled it; then file anyway.
    SOLVED = "solved"
    FILE_ANYWAY = "anyway"


class StationVerb(StrEnum):
    """Buttons of the nearest-stations list."""

    NEAR = "near"
    VENUE = "venue"
    APPEAL = "appeal"


class PageVerb(StrEnum):
    """Lists that have a next page."""

    MY = "my"
    QUEUE = "queue"
    TRIAGE = "triage"


class HotspotVerb(StrEnum):
    """The digest's hot spots."""

    MAKE = "mk"


class StationAdminVerb(StrEnum):
    """A coordinator's station buttons."""

    SHOW = "show"
    SHUT = "shut"  # asks first
    SHUT_CONFIRMED = "shuty"
    REOPEN = "reopen"


class ExportVerb(StrEnum):
    """The ledger export's period buttons: a named period, or two dates (a shorter period offered)."""

    PERIOD = "period"
    DAYS = "days"


class PrivacyVerb(StrEnum):
    """Erasing one's own data: ask, confirm, keep."""

    ERASE = "erase"
    YES = "yes"
    NO = "no"


class LanguageVerb(StrEnum):
    """The language buttons."""

    SET = "set"


class InviteVerb(StrEnum):
    """A coordinator's invitation for a unit's new worker."""

    MAKE = "mk"
    LIST = "ls"  # the codes not yet expired (/invites)
    REVOKE = "rv"  # arg: the code, in lower case; asks first
    REVOKE_CONFIRMED = "rvy"  # arg: the code, in lower case


class LimitVerb(StrEnum):
    """A coordinator's filing-limit buttons; arg: the number of the appeal that names the person."""

    LIST = "list"
    ASK = "ask"
    LIFT = "lift"
    RESTORE = "restore"
    CANCEL = "no"


class MuteVerb(StrEnum):
    """A coordinator's mute buttons; arg: the number of the appeal that names the person (and a period)."""

    ASK = "ask"  # the person's mute: the periods to choose from, or unmute if muted
    CARD = "card"  # the same, from an appeal's card: asked in a new message, the card stays
    FOR = "for"  # arg: "<number>.<period>": asks to confirm
    YES = "yes"  # arg: "<number>.<period>"
    UNMUTE = "un"
    CANCEL = "no"


class CannedVerb(StrEnum):
    """A unit's canned replies (/replies): add one, delete one (asked first), close the list."""

    ADD = "add"
    ADD_CANCEL = "addno"
    DELETE = "del"  # arg: the reply's id; asks first
    DELETE_CONFIRMED = "dely"  # arg: the reply's id
    KEEP = "keep"
    CLOSE = "close"


class DeskVerb(StrEnum):
    """A coordinator's buttons in a unit's group: link it to a unit, unlink it (after a confirmation)."""

    LINK = "link"  # arg: the unit's id
    UNLINK = "unl"
    KEEP = "keep"


class AnswersVerb(StrEnum):
    """/answers: a category's answers; arg "<category>.<page>"."""

    CATEGORY = "cat"


class OutreachVerb(StrEnum):
    """What a person hears about (handlers/outreach.py); arg: a topic where one is named."""

    YES = "yes"  # every topic on (the question asked once)
    NO = "no"
    SETTINGS = "set"
    TOGGLE = "tg"  # arg: the topic
    STOP = "stop"  # arg: the topic, under an outreach message
    CLOSE = "close"


class NoticeVerb(StrEnum):
    """A coordinator's notice dialog (handlers/outreach_notices.py)."""

    SKIP = "skip"  # no photo, or no button
    LANGUAGE = "lang"  # arg: zh, en or all
    AREA = "area"  # arg: "all" or a unit's id
    SEND = "send"  # arg: the draft's number, sent once
    CANCEL = "cancel"
    # The steps every send ends with (handlers/outreach_audience.py) and /outreach's scheduled sends.
    WHEN = "when"  # arg: "now" or one of the start times offered (a Unix time)
    LINK = "link"  # arg: "survey.<id>" or "activity.<id>": the notice's button
    ANNOUNCE = "ann"  # arg: "survey.<id>" or "activity.<id>": announce this one of several
    UNSEND = "unsend"  # arg: a scheduled send's id; asks first
    UNSEND_CONFIRMED = "unsendy"  # arg: the send's id
    KEEP = "keep"  # the scheduled send stays
    AGAIN = "again"  # at the confirmation: choose who gets it again (nobody was reached)
    PREVIEW = "preview"  # a button of a preview: does nothing but say so
    NEW = "new"  # /outreach's "Write a notice"


class LinkVerb(StrEnum):
    """A notice's button; arg: the activity's or survey's id. Its handler is registered by the feature."""

    ACTIVITY = "act"
    SURVEY = "sv"


class ActivityVerb(StrEnum):
    """Activities with sign-up (handlers/activities.py); arg: the activity's id unless said otherwise."""

    SHOW = "show"
    JOIN = "join"
    LEAVE = "leave"  # asks first
    LEAVE_CONFIRMED = "leavey"
    NAVIGATE = "nav"  # an activity at an address with coordinates: sent as a venue
    ROSTER = "list"  # a coordinator's list of who signed up and who waits
    ATTENDED = "came"  # arg: "<activity>.<sign-up>"
    ABSENT = "away"  # arg: "<activity>.<sign-up>"
    UNTIL_START = "open"  # the publishing dialog: sign-up stays open until the activity starts
    WHO = "who"  # the publishing dialog: who may sign up; arg "couriers" or "everyone"
    PUBLISH = "pub"  # the publishing dialog's Confirm
    DISCARD = "drop"  # the publishing dialog's Cancel
    LIST = "all"  # back from a card to the list it was opened from; no arg
    PLACE = "at"  # the publishing dialog: a station found by the name typed (arg: its number) or "address"
    SKIP = "skip"  # the publishing dialog: no title in the other language; no arg


class SurveyVerb(StrEnum):
    """Surveys (问卷): a coordinator's tools (arg: the survey's number), a courier's answers (arg: the
    survey's number, the question's, then the option's)."""

    SHOW = "show"
    PREVIEW = "pv"  # arg: "<survey>.<language>.<page>"
    OPEN = "open"  # asks first
    OPEN_CONFIRMED = "openy"
    CLOSE = "close"  # asks first
    CLOSE_CONFIRMED = "closey"
    RESULTS = "res"
    FILES = "files"
    BEGIN = "go"  # from the list: the first page, or where the courier stopped
    START = "start"
    PICK = "pick"  # arg: "<survey>.<question>.<option>" (1-5 on a scale)
    DONE = "done"  # arg: "<survey>.<question>"
    SKIP = "skip"
    BACK = "back"
    LATER = "later"
    SEND = "send"
    SEE = "see"  # staff: from a survey's preview back to the surveys couriers are answering


class WishVerb(StrEnum):
    """Micro-wishes (handlers/wishes.py): posting one, and a step on one (arg: the wish's number)."""

    NEW = "new"
    CATEGORY = "cat"  # arg: the category's id
    BACK = "back"
    CANCEL = "cnl"
    CONFIRM = "ok"  # arg: a digest of the text shown back
    APPROVE = "approve"
    DECLINE = "decline"
    CLAIM = "claim"
    GRANT = "grant"
    COLLECT = "collect"
    WITHDRAW = "withdraw"  # asks first
    WITHDRAW_CONFIRMED = "wdy"
    KEEP = "keep"  # not withdrawn after all; arg: ".l" when asked on a /wishes list


Verb = (
    AppealVerb
    | DraftVerb
    | StationVerb
    | PageVerb
    | HotspotVerb
    | StationAdminVerb
    | ExportVerb
    | PrivacyVerb
    | LanguageVerb
    | InviteVerb
    | LimitVerb
    | MuteVerb
    | CannedVerb
    | DeskVerb
    | AnswersVerb
    | OutreachVerb
    | NoticeVerb
    | LinkVerb
    | ActivityVerb
    | SurveyVerb
    | WishVerb
)

VERBS: dict[Family, type[StrEnum]] = {
    Family.APPEAL: AppealVerb,
    Family.DRAFT: DraftVerb,
    Family.STATION: StationVerb,
    Family.PAGE: PageVerb,
    Family.HOTSPOT: HotspotVerb,
    Family.STATION_ADMIN: StationAdminVerb,
    Family.EXPORT: ExportVerb,
    Family.PRIVACY: PrivacyVerb,
    Family.LANGUAGE: LanguageVerb,
    Family.INVITE: InviteVerb,
    Family.LIMITS: LimitVerb,
    Family.MUTE: MuteVerb,
    Family.CANNED: CannedVerb,
    Family.DESK: DeskVerb,
    Family.ANSWERS: AnswersVerb,
    Family.OUTREACH: OutreachVerb,
    Family.NOTICE: NoticeVerb,
    Family.LINK: LinkVerb,
    Family.ACTIVITY: ActivityVerb,
    Family.SURVEY: SurveyVerb,
    Family.WISH: WishVerb,
}

_ARG = r"[a-z0-9_.-]{1,40}"
_APPEAL = re.compile(rf"^ap:(\d{{1,12}}):([a-z]{{1,8}})(?::({_ARG}))?$")
# The next page of a list: which list, and the last appeal shown (its id, and its deadline if it has one).
_PAGE = re.compile(r"^ls:([a-z]{1,8}):(\d{1,12})(?::(\d{1,12}))?$")
_HOTSPOT = re.compile(r"^hs:([a-z]{1,8}):([a-z0-9_.-]{1,56})$")
_OTHER = re.compile(rf"^([a-z]{{2}}):([a-z]{{1,8}})(?::({_ARG}))?$")
# Language buttons sent before the codec had them ("lang:zh") still work.
_OLD_LANGUAGE = re.compile(r"^lang:([a-z]{2})$")
# Families whose buttons always name something.
_ARG_REQUIRED = {Family.STATION, Family.HOTSPOT, Family.LANGUAGE, Family.LINK, Family.SURVEY}
# Verbs that always name something, in families where others need nothing.
_VERB_ARG_REQUIRED = {
    *((Family.INVITE, v) for v in (InviteVerb.MAKE, InviteVerb.REVOKE, InviteVerb.REVOKE_CONFIRMED)),
    *((Family.MUTE, v) for v in (MuteVerb.ASK, MuteVerb.CARD, MuteVerb.FOR, MuteVerb.YES, MuteVerb.UNMUTE)),
    *((Family.CANNED, v) for v in (CannedVerb.DELETE, CannedVerb.DELETE_CONFIRMED)),
    (Family.DESK, DeskVerb.LINK),
    *((Family.OUTREACH, v) for v in (OutreachVerb.TOGGLE, OutreachVerb.STOP)),
    *(
        (Family.NOTICE, v)
        for v in (
            NoticeVerb.LANGUAGE,
            NoticeVerb.AREA,
            NoticeVerb.SEND,
            NoticeVerb.WHEN,
            NoticeVerb.LINK,
            NoticeVerb.ANNOUNCE,
            NoticeVerb.UNSEND,
            NoticeVerb.UNSEND_CONFIRMED,
        )
    ),
    *(
        (Family.ACTIVITY, v)
        for v in ActivityVerb
        if v
        not in (
            ActivityVerb.PUBLISH,
            ActivityVerb.DISCARD,
            ActivityVerb.UNTIL_START,
            ActivityVerb.LIST,
            ActivityVerb.SKIP,
        )
    ),
    *(
        (Family.WISH, v)
        for v in (
            WishVerb.CATEGORY,
            WishVerb.CONFIRM,
            WishVerb.APPROVE,
            WishVerb.DECLINE,
            WishVerb.CLAIM,
            WishVerb.GRANT,
            WishVerb.COLLECT,
            WishVerb.WITHDRAW,
            WishVerb.WITHDRAW_CONFIRMED,
        )
    ),
}


@dataclass(frozen=True)
class Press:
    """A decoded button press: which family, which verb, about what."""

    kind: Family
    verb: Verb
    appeal_id: int | None = None
    arg: str = ""


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    if decode(data) is None:
        raise ValueError(f"callback data the codec cannot read back: {data!r}")
    return data


def encode(family: Family, verb: str, arg: str = "") -> str:
    """Callback data for a button of `family` (not an appeal's or a list page's: see `appeal`, `page`)."""
    verb = VERBS[family](verb)
    return _checked(f"{family}:{verb}" + (f":{arg}" if arg else ""))


def appeal(appeal_id: int, verb: str, arg: str = "") -> str:
    """Callback data for a button about one appeal."""
    return _checked(f"ap:{appeal_id}:{AppealVerb(verb)}" + (f":{arg}" if arg else ""))


def confirm(appeal_id: int, verb: str, version: int, text_digest: str = "") -> str:
    """Callback data of a confirm button: the action it confirms, the appeal's version it was shown at,
    and a digest of the text it shows back (a later text makes this button stale)."""
    return appeal(
        appeal_id, AppealVerb.CONFIRM, f"{AppealVerb(verb)}.{version}" + (f".{text_digest}" if text_digest else "")
    )


def draft(verb: str, arg: str = "") -> str:
    """Callback data for a button in the filing dialog."""
    return encode(Family.DRAFT, verb, arg)


def station(verb: str, station_id: str) -> str:
    """Callback data for a button about a station."""
    return encode(Family.STATION, verb, station_id)


# The families of coordinators' and people's tools (the fuzzer forges their data).
TOOLS = (
    Family.STATION_ADMIN,
    Family.EXPORT,
    Family.PRIVACY,
    Family.INVITE,
    Family.LIMITS,
    Family.MUTE,
    Family.CANNED,
    Family.DESK,
    Family.OUTREACH,
    Family.NOTICE,
    Family.LINK,
    Family.SURVEY,
    Family.WISH,
)


def language(code: str) -> str:
    """Callback data for choosing a language."""
    return encode(Family.LANGUAGE, LanguageVerb.SET, code)


def page(list_name: str, after: ListPosition) -> str:
    """Callback data for the next page of a list, after the appeal a page ended with."""
    verb = PageVerb(list_name)
    return _checked(f"ls:{verb}:{after.id}" + (f":{after.due}" if after.due is not None else ""))


def hotspot(key: str) -> str:
    """Callback data for turning a hot spot into one appeal."""
    data = f"hs:{HotspotVerb.MAKE}:{key}"
    if not _HOTSPOT.fullmatch(data):
        raise ValueError(f"not a hot spot key: {key!r}")
    return _checked(data)


def _verb(family: Family, verb: str) -> Verb | None:
    try:
        return VERBS[family](verb)  # type: ignore[return-value]
    except ValueError:
        return None


def decode(data: str | None) -> Press | None:
    """The press that `data` encodes, or None for anything malformed, unknown or forged out of shape."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    if m := _APPEAL.fullmatch(data):
        verb = _verb(Family.APPEAL, m[2])
        return Press(Family.APPEAL, verb, int(m[1]), m[3] or "") if verb else None
    if m := _PAGE.fullmatch(data):
        verb = _verb(Family.PAGE, m[1])
        return Press(Family.PAGE, verb, int(m[2]), m[3] or "") if verb else None
    if m := _HOTSPOT.fullmatch(data):
        verb = _verb(Family.HOTSPOT, m[1])
        return Press(Family.HOTSPOT, verb, None, m[2]) if verb else None
    if m := _OLD_LANGUAGE.fullmatch(data):
        return Press(Family.LANGUAGE, LanguageVerb.SET, None, m[1])
    if m := _OTHER.fullmatch(data):
        family = next((f for f in Family if f == m[1]), None)
        if family is None or family in (Family.APPEAL, Family.PAGE, Family.HOTSPOT):
            return None
        verb = _verb(family, m[2])
        if verb is None or ((family in _ARG_REQUIRED or (family, verb) in _VERB_ARG_REQUIRED) and not m[3]):
            return None
        return Press(family, verb, None, m[3] or "")
    return None
