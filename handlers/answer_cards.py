"""The card of answers offered while a courier files (知识库): the answers, This answers it, File my appeal anyway."""

from __future__ import annotations

from handlers import callbacks
from handlers.keyboards import Keyboard, button, inline
from handlers.services import Services
from storage.answers import Answer


def card_text(services: Services, lang: str, answers: list[Answer]) -> str:
    """The answers offered before filing, numbered when there are several (their caps keep it under 4,096)."""
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    lines = [t("answers_filing.intro")]
    for index, answer in enumerate(answers, 1):
        title = (
            t("answers_filing.numbered", number=index, title=answer.title(lang))
            if len(answers) > 1
            else answer.title(lang)
        )
        lines += ["", title, answer.text(lang)]
    lines += ["", t("answers_filing.choose")]
    return "\n".join(lines)


def card_buttons(services: Services, lang: str, answers: list[Answer], started: int) -> Keyboard:
    """This answers it (one for each answer), File my appeal anyway, Back and Cancel."""
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    several = len(answers) > 1
    rows = [
        [
            button(
                t("answers_filing.button_solved_n", number=index) if several else t("answers_filing.button_solved"),
                callbacks.draft("solved", f"{answer.id}.{started}"),
            )
        ]
        for index, answer in enumerate(answers, 1)
    ]
    rows.append([button(t("answers_filing.button_file_anyway"), callbacks.draft("anyway"))])
    rows.append(
        [button(t("button.back"), callbacks.draft("back")), button(t("button.cancel"), callbacks.draft("cancel"))]
    )
    return inline(rows)


def answer_text(services: Services, lang: str, answer: Answer) -> str:
    """One answer in full, in the reader's language."""
    return f"{answer.title(lang)}\n{answer.text(lang)}"
