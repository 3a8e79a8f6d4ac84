"""A press on a unit group's card whose screen goes on in the presser's own chat says so, with a toast in
the group: without it the press seems to do nothing there (handlers/desk.py, common.reply_chat)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class GroupPress:
    """What one group press has done so far: the answers it left empty, and whether it wrote to the presser."""

    unanswered: list[str] = field(default_factory=list)  # callback query ids answered with no words yet
    moved: bool = False  # something went to the presser's own chat


# The group press being handled in this task, if any.
CURRENT: ContextVar[GroupPress | None] = ContextVar("group_press", default=None)


def holds_back(callback_query_id: str, text: str | None, show_alert: bool) -> bool:
    """Whether a wordless answer to a group press waits for the end of the press (then it may say where to go on)."""
    press = CURRENT.get()
    if press is None or text or show_alert:
        return False
    press.unanswered.append(callback_query_id)
    return True


def moved_to_private() -> None:
    """Note that the press being handled wrote to the presser's own chat."""
    press = CURRENT.get()
    if press is not None:
        press.moved = True
