"""The use cases (storage/usecases.py) on a real database, and the rule that handlers change appeals only through them."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

from domain.commands import ActOnAppeal, AnswerFollowUp, EventArgs, FileAppeal, NewAppeal
from domain.filing_limits import FilingLimited, FilingLimits
from domain.lifecycle import Event, StaleEvent, State
from domain.routing import Rule
from storage import usecases
from storage.dialogs import Draft, Step
from tests.storage.conftest import COORDINATOR, COURIER, MONDAY_10, STAFF

ROOT = Path(__file__).resolve().parents[2]
STARTED = 1_700_000_000


async def _draft_at_review(storage) -> FileAppeal:
    """The courier's draft at its review step, and the command that files it."""
    await storage.dialogs.save_draft(COURIER, Draft(step=Step.REVIEW, started=STARTED, category="work"), MONDAY_10)
    new = NewAppeal(courier_id=COURIER, category="work", description="Unpaid wages for October", language="en")
    return FileAppeal(new, STARTED)


async def test_filing_routes_by_the_first_matching_rule_and_files_a_draft_once(storage) -> None:
    """A rule for the category sends it to its unit; a second Confirm of the same draft files nothing."""
    command = await _draft_at_review(storage)
    routing = [Rule("facilities", "hr"), Rule("work", "st1")]
    filed = await usecases.file_appeal(storage, command, routing=routing, limits=None, now=MONDAY_10)
    assert (filed.appeal.state, filed.appeal.unit_id) == (State.HANDLING, "st1")
    assert await storage.dialogs.draft(COURIER) is None
    assert await usecases.file_appeal(storage, command, routing=routing, limits=None, now=MONDAY_10) is None


async def test_filing_without_a_rule_waits_for_triage_and_a_refused_filing_keeps_the_draft(storage) -> None:
    """No rule: a coordinator routes it. Over the limits: FilingLimited, nothing filed, the draft still there."""
    await storage.appeals.submit(
        NewAppeal(courier_id=COURIER, category="work", description="Wages", language="en"), None, MONDAY_10
    )
    command = await _draft_at_review(storage)
    with pytest.raises(FilingLimited):
        await usecases.file_appeal(storage, command, routing=[], limits=FilingLimits(1, 20), now=MONDAY_10)
    assert len(await storage.appeals.of_courier(COURIER)) == 1
    assert (await storage.dialogs.draft(COURIER)).step is Step.REVIEW
    filed = await usecases.file_appeal(storage, command, routing=[], limits=FilingLimits(3, 20), now=MONDAY_10)
    assert (filed.appeal.state, filed.appeal.unit_id) == (State.ASSESSING, None)


async def test_acting_at_an_old_version_changes_nothing(storage) -> None:
    """The version the appeal was shown at travels in the command: a double tap acts once."""
    filed = await storage.appeals.submit(
        NewAppeal(courier_id=COURIER, category="work", description="Wages", language="en"), None, MONDAY_10
    )
    shown = filed.appeal.version
    assign = ActOnAppeal(filed.appeal.id, Event.ASSIGN, COORDINATOR, EventArgs(unit="st1"), expected_version=shown)
    assert (await usecases.act(storage, assign, MONDAY_10)).appeal.unit_id == "st1"
    with pytest.raises(StaleEvent):
        await usecases.act(storage, assign, MONDAY_10)
    assert len(await storage.appeals.ledger(filed.appeal.id)) == 2  # submit, assign


async def test_a_follow_up_answer_is_recorded_once_and_not_solved_reopens(storage) -> None:
    """ "Still solved?": not solved files a linked appeal with the same unit; a second answer finds nothing to answer."""
    filed = await storage.appeals.submit(
        NewAppeal(courier_id=COURIER, category="work", description="Wages", language="en"), "st1", MONDAY_10
    )
    number = filed.appeal.id
    for event, actor, args in (
        (Event.ACCEPT, STAFF, EventArgs()),
        (Event.RESOLVE, STAFF, EventArgs(note="Paid in full on Friday")),
        (Event.RATE_SATISFIED, COURIER, EventArgs()),
    ):
        await usecases.act(storage, ActOnAppeal(number, event, actor, args), MONDAY_10 + timedelta(hours=1))
    answer = AnswerFollowUp(number, COURIER, solved=False, description="Not paid after all")
    answered = await usecases.answer_follow_up(storage, answer, MONDAY_10 + timedelta(days=7))
    assert answered is not None and answered.reopened is not None
    assert (answered.reopened.unit_id, answered.reopened.description) == ("st1", "Not paid after all")
    assert await usecases.answer_follow_up(storage, answer, MONDAY_10 + timedelta(days=7)) is None


# Appeals' methods that change an appeal: handlers reach them only through storage/usecases.py.
_WRITES = {
    "apply",
    "apply_in",
    "submit",
    "submit_in",
    "submit_draft",
    "open_hotspot",
    "answer_followup",
    "add_to_answer",
    "add_words_to_answer",
}


def test_handlers_change_appeals_only_through_the_use_cases() -> None:
    """No handler calls a write of the appeals repository; the use cases and commands import no Telegram or handler."""
    for path in sorted((ROOT / "handlers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in _WRITES and isinstance(node.value, ast.Attribute):
                assert node.value.attr != "appeals", f"{path.name}:{node.lineno} writes an appeal past the use cases"
    for module, banned in (
        ("storage/usecases.py", ("telegram", "handlers", "bot")),
        ("domain/commands.py", ("storage", "handlers", "bot", "telegram")),
    ):
        tree = ast.parse((ROOT / module).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert not {m for m in imported if m and m.split(".")[0] in banned}, module


# A call with more positional arguments than this is a list to get in the wrong order.
MAX_POSITIONAL = 4


def test_no_storage_function_takes_a_long_list_of_positional_arguments() -> None:
    """Storage functions take a typed command or keyword arguments past the first few (docs/design.md §2.7)."""
    long_lists = []
    for path in sorted(Path("storage").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                positional = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
                if len(positional) > MAX_POSITIONAL:
                    long_lists.append(f"{path}:{node.lineno} {node.name}({', '.join(positional)})")
    assert long_lists == []
