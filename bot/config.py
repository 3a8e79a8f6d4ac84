"""The bot's configuration: TOML validated by pydantic, with a few values from the environment."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.calendar import OfficialDays, WorkingCalendar, official_days
from domain.canned_replies import MAX_REPLIES, MAX_REPLY, clean
from domain.deadlines import Priority, Spans
from domain.durations import WorkSpan, parse_span
from domain.filing_limits import FilingLimits
from domain.ladder import LadderPolicy
from domain.routing import Area, Rule
from storage.locations import Location, parse_location

CONFIG_ENV = "APPEALS_BOT_CONFIG"
DATABASE_ENV = "APPEALS_BOT_DATABASE"
DATABASE_URL_ENV = "APPEALS_BOT_DATABASE_URL"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "TELEGRAM_BASE_URL"
BASE_FILE_URL_ENV = "TELEGRAM_BASE_FILE_URL"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"

Language = Literal["zh", "en"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _span(value: Any) -> WorkSpan:
    if isinstance(value, WorkSpan):
        return value
    if not isinstance(value, str):
        raise ValueError('a deadline is text such as "30m", "4h", "3wd" or "eod"')
    return parse_span(value)


Span = Annotated[WorkSpan, BeforeValidator(_span), PlainSerializer(str)]


def _identifier(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("use 1-32 lowercase letters, digits, '-' or '_', starting with a letter or digit")
    return value


Identifier = Annotated[str, BeforeValidator(lambda v: _identifier(v) if isinstance(v, str) else v)]


class Strict(BaseModel):
    """A config section: unknown keys are errors, values are never coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TelegramSection(Strict):
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"


class DatabaseSection(Strict):
    path: str = "appeals.sqlite3"
    # Wins over `path` when set: a file path, sqlite:///path, or postgresql://user:password@host/name.
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str | None) -> str | None:
        if url is not None:
            parse_location(url)
        return url

    def location(self) -> Location:
        """The database to open: `url` if set, else the file at `path`."""
        return parse_location(self.url) if self.url is not None else Location("sqlite", self.path)


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{text!r} is not a time like 09:00")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 1440:
        raise ValueError(f"{text!r} is not a time of day")
    return value


def _time_of_day(text: str) -> str:
    """`text` if it is a time of day from 00:00 to 23:59."""
    if _minutes(text) >= 1440:
        raise ValueError(f"{text!r} is not a time of day")
    return text


TimeOfDay = Annotated[str, AfterValidator(_time_of_day)]


def _local_time(text: str) -> time:
    """The time of day that a TimeOfDay ("09:00") names."""
    return time(*divmod(_minutes(text), 60))


class CalendarSection(Strict):
    work_hours: list[str] = Field(default_factory=lambda: ["09:00-12:00", "13:30-18:00"])
    rest_weekdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: ["sat", "sun"]
    )
    # China's public holidays and make-up working days from the chinese-calendar library;
    # false counts only the weekends and the two lists below.
    official_calendar: bool = True
    # The district's own days off and working days; each wins over the official calendar's.
    holidays: list[date] = Field(default_factory=list)
    makeup_days: list[date] = Field(default_factory=list)

    @field_validator("work_hours")
    @classmethod
    def _periods_parse(cls, value: list[str]) -> list[str]:
        for period in value:
            start, sep, end = period.partition("-")
            if not sep:
                raise ValueError(f"{period!r} is not a period like 09:00-12:00")
            if _minutes(start.strip()) >= _minutes(end.strip()):
                raise ValueError(f"{period!r} ends before it starts")
        if not value:
            raise ValueError("at least one working period is needed")
        return value

    def periods(self) -> tuple[tuple[int, int], ...]:
        """Working periods in minutes since midnight."""
        pairs = (p.partition("-") for p in self.work_hours)
        return tuple(sorted((_minutes(a.strip()), _minutes(b.strip())) for a, _, b in pairs))


class DeadlineOverrides(Strict):
    triage: Span | None = None
    accept: Span | None = None
    handle: Span | None = None
    feedback: Span | None = None
    send_back_window: Span | None = None
    followup: Span | None = None
    redo: Span | None = None


class PriorityDeadlines(Strict):
    normal: DeadlineOverrides = Field(default_factory=DeadlineOverrides)
    urgent: DeadlineOverrides = Field(default_factory=DeadlineOverrides)


class DeadlinesSection(Strict):
    triage: Span = parse_span("4h")
    accept: Span = parse_span("1wd")
    handle: Span = parse_span("3wd")
    feedback: Span = parse_span("3wd")
    send_back_window: Span = parse_span("1wd")
    followup: Span = parse_span("5wd")
    # The handling deadline of a redo (重办): the courier said "Not solved" and the unit takes it up again.
    redo: Span = parse_span("3wd")
    # Extensions (延期) a coordinator may approve per appeal; 0: units cannot ask for more time.
    max_extensions: int = Field(default=1, ge=0, le=5)
    # A co-handling unit (协办) signs for its part (签收) within this, and finishes it within this, from when
    # a coordinator adds it.
    cohandle_accept: Span = parse_span("1wd")
    cohandle_part: Span = parse_span("3wd")
    urgent: DeadlineOverrides = Field(
        default_factory=lambda: DeadlineOverrides(
            triage=parse_span("30m"), accept=parse_span("30m"), handle=parse_span("eod")
        )
    )


def _working_span(value: Any) -> WorkSpan:
    span = _span(value)
    if span.kind == "end_of_day":
        raise ValueError('"eod" is not a length of time here; use minutes, hours or working days')
    return span


WorkingSpan = Annotated[WorkSpan, BeforeValidator(_working_span), PlainSerializer(str)]


class RemindersSection(Strict):
    remind_before: WorkingSpan = parse_span("2h")
    escalate_after: WorkingSpan = parse_span("4h")
    poll_seconds: float = Field(default=5.0, gt=0, le=300)


class Category(Strict):
    id: Identifier
    zh: str = Field(min_length=1, max_length=40)
    en: str = Field(min_length=1, max_length=40)
    # A few examples, shown beside the name when a courier picks a category.
    example_zh: str = Field(default="", max_length=40)
    example_en: str = Field(default="", max_length=80)
    deadlines: PriorityDeadlines = Field(default_factory=PriorityDeadlines)


def _default_categories() -> list[Category]:
    rows = [
        (
            "work",
            "工作保障",
            "Work protection",
            "工资被拖欠、社保、工伤、工时",
            "unpaid wages, insurance, an injury at work, hours",
            None,
        ),
        (
            "life",
            "生活服务",
            "Daily-life services",
            "就餐、休息、充电、子女托管、看病",
            "meals, rest, charging, childcare, health",
            None,
        ),
        (
            "rights",
            "权益维护",
            "Rights protection",
            "与平台或用工单位的纠纷、罚款、法律援助",
            "a dispute with a platform or an employer, a fine, legal aid",
            "13wd",
        ),
        (
            "facilities",
            "站点设施",
            "Station facilities",
            "驿站的饮水、充电、座椅等损坏或缺少",
            "something broken or missing at a rest station",
            None,
        ),
        (
            "suggestion",
            "意见建议",
            "Suggestions",
            "对驿站和服务的意见建议",
            "an idea for the stations or the service",
            None,
        ),
    ]
    return [
        Category(
            id=cid,
            zh=zh,
            en=en,
            example_zh=example_zh,
            example_en=example_en,
            deadlines=PriorityDeadlines(normal=DeadlineOverrides(handle=parse_span(handle)))
            if handle
            else PriorityDeadlines(),
        )
        for cid, zh, en, example_zh, example_en, handle in rows
    ]


def _reply_text(text: str) -> str:
    text = clean(text)
    if not text:
        raise ValueError("a reply cannot be empty")
    if len(text) > MAX_REPLY:
        raise ValueError(f"a reply is at most {MAX_REPLY} characters; this one has {len(text)}")
    return text


# One canned reply: not empty once the spaces around it are gone, and short enough to send as a note.
ReplyText = Annotated[str, AfterValidator(_reply_text)]


class Unit(Strict):
    id: Identifier
    kind: Literal["station", "department"]
    zh: str = Field(min_length=1, max_length=60)
    en: str = Field(min_length=1, max_length=60)
    staff: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list)
    # Canned replies (常用回复) its staff may send as they are or edit, offered by Ask, Note and Resolve.
    replies: list[ReplyText] = Field(default_factory=list, max_length=MAX_REPLIES)

    @field_validator("replies")
    @classmethod
    def _no_repeats(cls, replies: list[str]) -> list[str]:
        repeated = next((r for i, r in enumerate(replies) if r in replies[:i]), None)
        if repeated is not None:
            raise ValueError(f"the reply {repeated[:40]!r} is listed twice")
        return replies


class AreaSection(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(gt=0, le=100_000)


class RoutingRuleSection(Strict):
    category: str = "*"
    station: str | None = None
    area: AreaSection | None = None
    unit: str


class HotspotsSection(Strict):
    min_appeals: int = Field(default=3, ge=2, le=1000)
    radius_m: float = Field(default=500.0, gt=0, le=50_000)


class WebhookSection(Strict):
    url: str | None = None
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    path: str = Field(default="telegram", pattern=r"^[A-Za-z0-9_/-]{1,64}$")
    secret_token: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("the webhook URL must start with https:// (Telegram's requirement)")
        return value

    @field_validator("secret_token")
    @classmethod
    def _secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError(
                f"use 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule; {WEBHOOK_SECRET_ENV} sets it too)"
            )
        return value


class OpsSection(Strict):
    # GET /healthz and GET /metrics: with --webhook on the webhook's own server; when polling, on this
    # port of `listen` if one is given (off by default: two bots on one machine would fight over a fixed port).
    port: int | None = Field(default=None, ge=1, le=65535)
    listen: str = "127.0.0.1"
    # The `worker` label of every metric; by default the process id.
    worker: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    # Log lines as text, or as one JSON object a line (`run --log-format` wins).
    log_format: Literal["text", "json"] = "text"

    def worker_label(self) -> str:
        """The `worker` label: the configured id, else this process's id."""
        return self.worker or str(os.getpid())


class DigestSection(Strict):
    daily: TimeOfDay = "18:00"
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    weekly: TimeOfDay = "09:00"

    def daily_time(self) -> time:
        """The local time of the daily digest."""
        return _local_time(self.daily)

    def weekly_time(self) -> time:
        """The local time of the weekly digest."""
        return _local_time(self.weekly)

    def weekly_weekday(self) -> int:
        """The weekday of the weekly digest, 0 = Monday."""
        return WEEKDAYS.index(self.weekly_day)


class PrivacySection(Strict):
    # Closed appeals, shared locations, drafts and sent notices older than this are anonymised daily.
    retention_days: int = Field(default=730, ge=30, le=36500)
    # Local time of the daily anonymisation run.
    retention_time: TimeOfDay = "03:30"

    def run_time(self) -> time:
        """The local time of the daily retention run."""
        return _local_time(self.retention_time)


class InvitesSection(Strict):
    # Wrong /join codes one person may send in an hour before /join is paused for them.
    wrong_codes_per_hour: int = Field(default=5, ge=1, le=100)


class LimitsSection(Strict):
    # The most appeals one person may file in any minute, and in any 24 hours (coordinators can lift both with /lift).
    filings_per_minute: int = Field(default=3, ge=1, le=100)
    appeals_per_day: int = Field(default=10, ge=1, le=10_000)
    # The day's limit under its old name (issue 16): still read, and check-config says to rename it.
    filings_per_day: int | None = Field(default=None, ge=1, le=10_000)

    @model_validator(mode="after")
    def _day_holds_a_minute(self) -> LimitsSection:
        if self.filings_per_day is not None and "appeals_per_day" in self.model_fields_set:
            raise ValueError("filings_per_day is the old name of appeals_per_day: give only appeals_per_day")
        if self.per_day < self.filings_per_minute:
            raise ValueError("appeals_per_day must be at least filings_per_minute")
        return self

    @property
    def per_day(self) -> int:
        """The day's limit, under whichever name the file gave it."""
        return self.filings_per_day if self.filings_per_day is not None else self.appeals_per_day

    def filing_limits(self) -> FilingLimits:
        """The limits as the domain reads them."""
        return FilingLimits(self.filings_per_minute, self.per_day)


class FeedbackSection(Strict):
    # Redos (重办) a unit gets; after that "Not solved" goes to a coordinator (0: straight away).
    max_redos: int = Field(default=2, ge=0, le=10)


def _quiet_hours(text: str) -> str:
    """`text` if it is two times of day like "21:00-08:00" (it may run past midnight; equal times: never quiet)."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a span of time like 21:00-08:00")
    _time_of_day(start.strip())
    _time_of_day(end.strip())
    return text


class OutreachSection(Strict):
    # District time when outreach (surveys, activities, notices) is not sent; what falls due waits for its end.
    quiet_hours: Annotated[str, AfterValidator(_quiet_hours)] = "21:00-08:00"
    # How near a station (or a unit's stations) a courier must have filed, or last shared a location, to be "near".
    near_m: float = Field(default=3000.0, gt=0, le=100_000)

    def quiet_span(self) -> tuple[int, int]:
        """Quiet hours as minutes after midnight: (start, end)."""
        start, _, end = self.quiet_hours.partition("-")
        return _minutes(start.strip()), _minutes(end.strip())

    @property
    def keeps_quiet(self) -> bool:
        """Whether there are quiet hours at all (equal times, "00:00-00:00", mean never quiet)."""
        start, end = self.quiet_span()
        return start != end

    def is_quiet(self, local: datetime) -> bool:
        """Whether `local` (district time) falls in quiet hours."""
        start, end = self.quiet_span()
        minute = local.hour * 60 + local.minute
        return start <= minute < end if start <= end else minute >= start or minute < end

    def quiet_end(self, local: datetime) -> datetime | None:
        """When the quiet hours `local` falls in end (None if it is not quiet)."""
        if not self.is_quiet(local):
            return None
        end = local.replace(hour=self.quiet_span()[1] // 60, minute=self.quiet_span()[1] % 60, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)


class WishCategory(Strict):
    id: Identifier
    zh: str = Field(min_length=1, max_length=20)
    en: str = Field(min_length=1, max_length=40)


def _default_wish_categories() -> list[WishCategory]:
    return [
        WishCategory(id="rain_gear", zh="雨具", en="Rain gear"),
        WishCategory(id="phone_holder", zh="手机支架", en="Phone holder"),
        WishCategory(id="childrens_books", zh="儿童读物", en="Books for a child"),
        WishCategory(id="warm_clothing", zh="保暖衣物", en="Warm clothing"),
        WishCategory(id="other", zh="其他", en="Other"),
    ]


class WishesSection(Strict):
    # What a courier may wish for (微心愿), as buttons in this order.
    categories: list[WishCategory] = Field(default_factory=_default_wish_categories, min_length=1, max_length=12)
    # Wishes one courier may have open (posted, approved, claimed or granted) at once.
    max_open: int = Field(default=3, ge=1, le=20)


class Config(Strict):
    telegram: TelegramSection = Field(default_factory=TelegramSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    timezone: str = "Asia/Shanghai"
    default_language: Language = "zh"
    calendar: CalendarSection = Field(default_factory=CalendarSection)
    deadlines: DeadlinesSection = Field(default_factory=DeadlinesSection)
    feedback: FeedbackSection = Field(default_factory=FeedbackSection)
    categories: list[Category] = Field(default_factory=_default_categories, min_length=1)
    units: list[Unit] = Field(default_factory=list)
    routing: list[RoutingRuleSection] = Field(default_factory=list)
    coordinators: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list)
    digest: DigestSection = Field(default_factory=DigestSection)
    reminders: RemindersSection = Field(default_factory=RemindersSection)
    hotspots: HotspotsSection = Field(default_factory=HotspotsSection)
    webhook: WebhookSection = Field(default_factory=WebhookSection)
    privacy: PrivacySection = Field(default_factory=PrivacySection)
    invites: InvitesSection = Field(default_factory=InvitesSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    outreach: OutreachSection = Field(default_factory=OutreachSection)
    wishes: WishesSection = Field(default_factory=WishesSection)
    ops: OpsSection = Field(default_factory=OpsSection)

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value

    def zone(self) -> ZoneInfo:
        """The district's time zone."""
        return ZoneInfo(self.timezone)

    def official_days(self) -> OfficialDays | None:
        """China's official holidays and make-up days, unless the district counts only its own lists."""
        return official_days() if self.calendar.official_calendar else None

    def working_calendar(self) -> WorkingCalendar:
        """The working calendar deadlines are counted on: the official one with the district's own days."""
        rest = frozenset(WEEKDAYS.index(day) for day in self.calendar.rest_weekdays)
        holidays, makeup_days = frozenset(self.calendar.holidays), frozenset(self.calendar.makeup_days)
        official = self.official_days()
        if official is not None:
            holidays, makeup_days = official.with_district(holidays, makeup_days)
        return WorkingCalendar(
            tz=self.zone(),
            periods=self.calendar.periods(),
            rest_weekdays=rest,
            holidays=holidays,
            makeup_days=makeup_days,
        )

    def ladder(self) -> LadderPolicy:
        """How far before a deadline to remind and how long after it to escalate."""
        calendar = self.working_calendar()

        def length(span: WorkSpan) -> timedelta:
            if span.kind == "working_days":
                return span.amount * calendar.day_length()
            return timedelta(minutes=span.amount)

        return LadderPolicy(length(self.reminders.remind_before), length(self.reminders.escalate_after))

    def category(self, category_id: str) -> Category | None:
        """The category with this id, if configured."""
        return next((c for c in self.categories if c.id == category_id), None)

    def spans(self, category_id: str, priority: Priority) -> Spans:
        """Deadline lengths for a category and priority: category, then priority, then default."""
        layers: list[DeadlineOverrides] = []
        category = self.category(category_id)
        if category is not None:
            layers.append(getattr(category.deadlines, priority.value))
        if priority is Priority.URGENT:
            layers.append(self.deadlines.urgent)

        def pick(name: str) -> WorkSpan:
            for layer in layers:
                value = getattr(layer, name)
                if value is not None:
                    return value
            return getattr(self.deadlines, name)

        names = ("triage", "accept", "handle", "feedback", "send_back_window", "followup", "redo")
        return Spans(*(pick(n) for n in names))

    def routing_rules(self) -> list[Rule]:
        """The routing rules as the domain reads them."""
        return [
            Rule(
                category=r.category,
                station=r.station,
                area=Area(r.area.lat, r.area.lon, r.area.radius_m) if r.area else None,
                unit=r.unit,
            )
            for r in self.routing
        ]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file: where, and why."""

    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"


class ConfigError(Exception):
    """A config that cannot be used; `problems` lists every reason."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        super().__init__(f"{source}: " + "; ".join(map(str, problems)))
        self.source = source
        self.problems = problems


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def _reference_problems(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    category_ids = [c.id for c in config.categories]
    unit_ids = [u.id for u in config.units]
    for name, ids in (("categories", category_ids), ("units", unit_ids)):
        for index, item_id in enumerate(ids):
            if item_id in ids[:index]:
                problems.append(Problem(f"{name}[{index}].id", f"{item_id!r} is used twice"))
    staff_seen: dict[int, str] = {}
    for u_index, unit in enumerate(config.units):
        for s_index, person in enumerate(unit.staff):
            if person in staff_seen:
                problems.append(
                    Problem(
                        f"units[{u_index}].staff[{s_index}]",
                        f"{person} is already staff of unit {staff_seen[person]!r}",
                    )
                )
            staff_seen.setdefault(person, unit.id)
            if person in config.coordinators:
                problems.append(Problem(f"units[{u_index}].staff[{s_index}]", f"{person} is also a coordinator"))
    for index, rule in enumerate(config.routing):
        if rule.unit not in unit_ids:
            problems.append(Problem(f"routing[{index}].unit", f"no unit has the id {rule.unit!r}"))
        if rule.category != "*" and rule.category not in category_ids:
            problems.append(Problem(f"routing[{index}].category", f"no category has the id {rule.category!r}"))
        if rule.station is not None and rule.area is not None:
            problems.append(Problem(f"routing[{index}]", "give a station or an area, not both"))
    both = set(config.calendar.holidays) & set(config.calendar.makeup_days)
    for day in sorted(both):
        problems.append(Problem("calendar.makeup_days", f"{day} is also listed as a holiday"))
    return problems


# Public holidays run up to nine days in a row (the Spring Festival with its weekends); a longer
# stretch without a working day is a mistake in the list, and every deadline would stand still.
MAX_DAYS_OFF = 14


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _calendar_problems(config: Config) -> list[Problem]:
    """A calendar with no working time to count deadlines in, now or for weeks at a time."""
    cal = config.calendar
    problems: list[Problem] = []
    if len(set(cal.rest_weekdays)) == 7:
        problems.append(
            Problem("calendar.rest_weekdays", "every weekday is a rest day: no deadline could ever fall due")
        )
    periods = cal.periods()
    for (start, end), (next_start, next_end) in pairwise(periods):
        if next_start < end:
            problems.append(
                Problem(
                    "calendar.work_hours",
                    f"{_clock(start)}-{_clock(end)} and {_clock(next_start)}-{_clock(next_end)} overlap",
                )
            )
    if problems:
        return problems
    try:
        calendar = config.working_calendar()
    except ValueError as error:
        return [Problem("calendar", str(error))]
    if cal.holidays:
        day, last = min(cal.holidays) - timedelta(days=7), max(cal.holidays) + timedelta(days=7)
        run_start, longest = None, (0, day, day)
        while day <= last:
            if calendar.is_working_day(day):
                run_start = None
            else:
                run_start = run_start or day
                length = (day - run_start).days + 1
                if length > longest[0]:
                    longest = (length, run_start, day)
            day += timedelta(days=1)
        length, first, final = longest
        if length > MAX_DAYS_OFF:
            problems.append(
                Problem(
                    "calendar.holidays",
                    f"no working day from {first} to {final} ({length} days): deadlines would stand still;"
                    f" at most {MAX_DAYS_OFF} days in a row may be off",
                )
            )
    return problems


def holidays_summary(config: Config) -> str:
    """Where the calendar's holidays come from and through which year the library knows them (check-config)."""
    off, worked = len(config.calendar.holidays), len(config.calendar.makeup_days)
    own = f"{off} day{'s' * (off != 1)} off and {worked} make-up working day{'s' * (worked != 1)}"
    official = config.official_days()
    if official is None:
        return f"{own} from the config only (official_calendar = false)"
    return f"from {official.source}, known through {official.last_year}; the config adds {own}"


def renamed_key_warnings(config: Config) -> list[Problem]:
    """Keys the file gives under an old name that is still read (check-config and `run` warn)."""
    if config.limits.filings_per_day is None:
        return []
    return [
        Problem(
            "limits.filings_per_day",
            f"renamed: write appeals_per_day = {config.limits.filings_per_day} instead (the old name is still read)",
        )
    ]


def calendar_warnings(config: Config, today: date) -> list[Problem]:
    """Years deadlines are counted in now (and next year, in December) that the official calendar does
    not know and the config lists no holidays for: those years count weekends only."""
    official = config.official_days()
    if official is None:
        return []
    years = [today.year, today.year + 1] if today.month == 12 else [today.year]
    listed = {day.year for day in config.calendar.holidays}
    return [
        Problem(
            "calendar",
            f"{official.source} knows China's holidays only through {official.last_year}: in {year} deadlines"
            f" skip weekends only, no public holiday or make-up working day; upgrade chinese-calendar, or list"
            f" {year}'s days in calendar.holidays and calendar.makeup_days",
        )
        for year in years
        if not official.knows(year) and year not in listed
    ]


def _working_length(span: WorkSpan, day_length: timedelta) -> timedelta:
    """The most working time a deadline can give ("eod": up to a whole working day)."""
    if span.kind == "minutes":
        return timedelta(minutes=span.amount)
    return day_length * (span.amount if span.kind == "working_days" else 1)


def _deadline_layers(config: Config) -> list[tuple[str, DeadlinesSection | DeadlineOverrides]]:
    """Every place a deadline can be set, with its key."""
    layers: list[tuple[str, DeadlinesSection | DeadlineOverrides]] = [
        ("deadlines", config.deadlines),
        ("deadlines.urgent", config.deadlines.urgent),
    ]
    for index, category in enumerate(config.categories):
        for priority in ("normal", "urgent"):
            layers.append((f"categories[{index}].deadlines.{priority}", getattr(category.deadlines, priority)))
    return layers


def _deadline_problems(config: Config) -> list[Problem]:
    """Deadlines whose ladder or follow-up could never happen."""
    problems: list[Problem] = []
    calendar = config.working_calendar()
    day_length = calendar.day_length()
    # The longest any deadline with a reminder step can be: a reminder at least that long before it
    # would come before the deadline is even set, and is skipped, for every appeal.
    reminding = [
        _working_length(span, day_length)
        for _key_, layer in _deadline_layers(config)
        for name in ("triage", "accept", "handle", "feedback", "redo")
        if (span := getattr(layer, name)) is not None
    ]
    remind = config.reminders.remind_before
    if reminding and _working_length(remind, day_length) >= max(reminding):
        problems.append(
            Problem(
                "reminders.remind_before",
                f"{remind} is not shorter than any deadline: every reminder would be due before its"
                " deadline is set, so none would ever be sent",
            )
        )
    # A closed appeal is anonymised `retention_days` after closing; the follow-up check comes
    # `followup` after closing, and must find the courier still there.
    retention = timedelta(days=config.privacy.retention_days)
    start = datetime.now(config.zone())
    for key, layer in _deadline_layers(config):
        span = layer.followup
        if span is None:
            continue
        try:
            took = span.due_from(calendar, start) - start
        except ValueError:
            continue  # the calendar's own problem, reported with it
        if took >= retention:
            problems.append(
                Problem(
                    f"{key}.followup",
                    f"{span} is about {took.days} days, not shorter than privacy.retention_days"
                    f" ({config.privacy.retention_days}): the appeal would be anonymised before its"
                    " follow-up could reach the courier",
                )
            )
    return problems


def usability_problems(config: Config) -> list[Problem]:
    """Values each valid alone that together make a core action impossible: no working time to count
    deadlines in, a reminder that can never come, a follow-up after the data is gone."""
    problems = _calendar_problems(config)
    if problems:
        return problems  # deadlines cannot be measured on a broken calendar
    return _deadline_problems(config)


def service_problems(config: Config) -> list[Problem]:
    """What stops a bot with this config from serving couriers: check-config refuses it, `run` warns
    (a bot tried out without units still starts), and commands that only need the database accept it."""
    if not config.units:
        return [Problem("units", "no unit is configured: appeals could be filed but assigned to no one")]
    return []


def _apply_environment(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    telegram = data.setdefault("telegram", {})
    if not isinstance(telegram, dict):
        return
    for env, key in ((TOKEN_ENV, "token"), (BASE_URL_ENV, "base_url"), (BASE_FILE_URL_ENV, "base_file_url")):
        if environ.get(env):
            telegram[key] = environ[env]
    database = data.setdefault("database", {})
    if isinstance(database, dict) and environ.get(DATABASE_ENV):
        database["path"] = environ[DATABASE_ENV]
    if isinstance(database, dict) and environ.get(DATABASE_URL_ENV):
        database["url"] = environ[DATABASE_URL_ENV]
    webhook = data.setdefault("webhook", {})
    if isinstance(webhook, dict) and environ.get(WEBHOOK_SECRET_ENV):
        webhook["secret_token"] = environ[WEBHOOK_SECRET_ENV]


def parse_config(data: dict[str, Any], source: str = "config", environ: Any = None) -> Config:
    """Validate config data (environment values win); raise ConfigError listing every problem."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    _apply_environment(data, os.environ if environ is None else environ)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        problems = [
            Problem(_key(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors(include_url=False)
        ]
        raise ConfigError(source, problems) from None
    problems = _reference_problems(config)
    if not problems:
        problems = usability_problems(config)
    if problems:
        raise ConfigError(source, problems)
    return config


def config_path(explicit: str | None, environ: Any = None) -> Path | None:
    """The config file to read: the argument, else $APPEALS_BOT_CONFIG, else ./config.toml if present."""
    environ = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    default = Path("config.toml")
    return default if default.exists() else None


def load_config(path: Path | None, environ: Any = None) -> Config:
    """Read and validate a config file; with no file, the built-in defaults."""
    if path is None:
        return parse_config({}, "defaults", environ)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(str(path), [Problem("(file)", error.strerror or str(error))]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), [Problem("(syntax)", str(error))]) from None
    return parse_config(data, str(path), environ)
