"""Each event is declared once (domain/events.py), and every table that restates part of it is derived.

tests/domain/test_lifecycle.py holds the lifecycle's independent specification; these tests hold
that what the code derives from the declarations says what the declarations say.
"""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain import rates
from domain.calendar import WorkingCalendar
from domain.deadlines import Arm, Clear, Pause, Resume, Spans, timer_changes
from domain.durations import WorkSpan, parse_span
from domain.events import _DECLARED, RULES, SOLVED_OUTCOMES, Event
from domain.lifecycle import TABLE, Facts, after
from domain.names import DEADLINES, Outcome, State, Timer
from domain.notices import template
from handlers.callbacks import AppealVerb
from handlers.cards import ACTIONS
from handlers.i18n import Catalog
from storage.appeals import words_enough

ROOT = Path(__file__).resolve().parents[2]


def test_every_event_is_declared_exactly_once() -> None:
    declared = [rule.event for rule in _DECLARED]
    assert sorted(declared) == sorted(Event)
    assert set(RULES) == set(Event)


def test_the_table_is_the_declared_steps() -> None:
    rows = {(s.state, r.event): (s.to, s.roles, s.guards, s.outcome) for r in _DECLARED for s in r.steps}
    assert len(rows) == sum(len(r.steps) for r in _DECLARED), "two steps of one event from the same state"
    assert {key: (t.to, t.roles, t.guards, t.outcome) for key, t in TABLE.items()} == rows


def test_closing_steps_and_only_they_have_an_outcome() -> None:
    for rule in _DECLARED:
        for step in rule.steps:
            assert (step.to is State.CLOSED) == (step.outcome is not None), (rule.event, step)


@pytest.mark.parametrize("transition", list(TABLE.values()), ids=lambda t: f"{t.state}-{t.event}")
def test_after_changes_the_declared_facts(transition) -> None:
    rule = RULES[transition.event]
    for accepted in (False, True):
        for awaiting in (False, True):
            before = Facts(transition.state, accepted=accepted, awaiting_courier=awaiting, send_backs=1)
            now = after(before, transition)
            assert now.state is transition.to
            assert now.accepted is (accepted if rule.accepted is None else rule.accepted)
            assert now.awaiting_courier is (awaiting if rule.awaiting_courier is None else rule.awaiting_courier)
            assert now.send_backs == 1 + rule.counts_send_back


_TZ = ZoneInfo("Asia/Shanghai")
_NOW = datetime(2026, 12, 7, 10, 0, tzinfo=_TZ)


def _spans() -> Spans:
    return Spans(*(parse_span(f"{n}h") for n in range(1, 7)))


@pytest.mark.parametrize("transition", list(TABLE.values()), ids=lambda t: f"{t.state}-{t.event}")
def test_timer_changes_are_the_declared_ones(transition) -> None:
    rule = RULES[transition.event]
    changes = timer_changes(transition, _spans(), WorkingCalendar(tz=_TZ), _NOW)
    if transition.to is State.CLOSED:
        expected = {Clear(t) for t in DEADLINES}
        assert {c for c in changes if not isinstance(c, Arm)} == expected
        armed = {c.timer for c in changes if isinstance(c, Arm)}
        assert armed == ({Timer.FOLLOWUP} if transition.outcome in SOLVED_OUTCOMES else set())
        return
    assert {c.timer for c in changes if isinstance(c, Clear)} == set(rule.clears)
    assert {c.timer for c in changes if isinstance(c, Arm)} == set(rule.arms)
    assert {c.timer for c in changes if isinstance(c, Pause)} == set(rule.pauses)
    assert {c.timer for c in changes if isinstance(c, Resume)} == set(rule.resumes)


def test_a_timer_is_changed_one_way_per_event() -> None:
    for rule in _DECLARED:
        named = [*rule.arms, *rule.clears, *rule.pauses, *rule.resumes]
        assert len(named) == len(set(named)), rule.event


def test_every_timer_has_a_span() -> None:
    spans = _spans()
    for timer in Timer:
        assert isinstance(spans.of(timer), WorkSpan)


@pytest.mark.parametrize("event", list(Event))
def test_note_rules_read_the_declaration(event: Event) -> None:
    note = RULES[event].note
    thin = "ok"
    assert words_enough(event, thin) is (note is None or note.weight <= 2)
    assert words_enough(event, "the wages were paid in full today")


def test_the_buttons_are_the_declared_ones_in_order() -> None:
    declared = [(r.event, r.button.label, r.button.needs_text) for r in _DECLARED if r.button is not None]
    assert [(a.event, a.label, a.needs_text) for a in ACTIONS] == declared
    for action in ACTIONS:
        assert action.verb is AppealVerb[action.event.name]


def test_every_event_has_its_texts() -> None:
    """What a newcomer adding an event must write in both catalogs, each key named when it is missing."""
    from handlers.text_prompts import STEPS

    catalog = Catalog.load()
    for lang, messages in catalog.messages.items():
        for rule in _DECLARED:
            event = rule.event
            needed = [template(event, audience) for audience in rule.tells]
            needed += [f"history.{event}", f"stale.{event}"]
            if rule.button is not None:
                needed += [rule.button.label, f"appeal.done_{event}"]
            missing = [key for key in needed if key not in messages]
            assert missing == [], (lang, event)
        for step in STEPS.values():
            assert step.ask in messages, lang


def test_the_rates_count_what_the_declarations_say() -> None:
    assert set(rates.RATINGS) == {e for e, r in RULES.items() if r.rating is not None}
    assert rates.SENT_TO_UNIT == (Event.ASSIGN, Event.REASSIGN)
    assert rates.ACCEPTED is Event.ACCEPT
    assert set(rates.RATED_SATISFIED) | set(rates.RATED_FAIRLY_SATISFIED) == {
        Event.RATE_SATISFIED,
        Event.RATE_FAIRLY_SATISFIED,
    }
    assert rates.SOLVED == {Outcome.RESOLVED, Outcome.AUTO_CLOSED}
    assert rates.NOT_ASKED == {Outcome.WITHDRAWN, Outcome.MERGED, Outcome.REJECTED}


# ------------------------------------------------------------------ names only through their enums

_NAMES = {v.value for enum in (State, Event, Outcome) for v in enum}
_SCANNED = ("domain", "storage", "handlers", "bot")
# Where the names are defined, and the migrations (both backends'), which are frozen as shipped.
_EXEMPT = {"domain/names.py", "domain/events.py", "storage/migrations.py", "storage/postgres_migrations.py"}


def _sources() -> list[Path]:
    return [
        path
        for folder in _SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in _EXEMPT
    ]


def _strings_compared(tree: ast.AST):
    """String constants an expression compares against (== / != / in / not in), one by one."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                items = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                for item in items:
                    if isinstance(item, ast.Constant) and isinstance(item.value, str):
                        yield item


def test_state_event_and_outcome_names_appear_only_through_their_enums() -> None:
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [f"{where}:{node.lineno}: '{name}' in SQL" for name in _NAMES if f"'{name}'" in node.value]
        found += [
            f"{where}:{n.lineno}: compared with {n.value!r}" for n in _strings_compared(tree) if n.value in _NAMES
        ]
    assert found == []


def test_typed_text_dialogs_are_the_buttons_that_ask_for_text() -> None:
    from handlers.text_prompts import STEPS
    from storage.dialogs import PromptKind

    asking = {r.event for r in _DECLARED if r.button is not None and r.button.needs_text}
    assert {kind.event for kind in PromptKind} == asking
    assert set(STEPS) == set(PromptKind)
    for kind, step in STEPS.items():
        note = RULES[kind.event].note
        assert step.files is (note is not None and note.files_enough), kind
