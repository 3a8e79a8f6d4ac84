"""A survey's results as coordinators read them: counts and shares per option, a chart, and the files.

Pure functions of the counted results (storage/surveys.py Results): the text in the bot and the table that
goes out as CSV and Excel through the ledger export's writers (handlers/ledger_files.py). The chart is
handlers/survey_chart.py.
"""

from __future__ import annotations

from domain.surveys_file import Survey
from handlers.i18n import Catalog
from handlers.ledger_files import Value, to_csv, to_xlsx
from storage.surveys import Results


def share(count: int, of: int) -> float:
    """`count` as a percentage of `of`, to one decimal (0 when nobody answered)."""
    return round(100 * count / of, 1) if of else 0.0


def share_text(value: float) -> str:
    """A share as people write it: 12.5%, 100%."""
    return f"{value:.1f}".removesuffix(".0") + "%"


def option_labels(survey: Survey, index: int, lang: str) -> tuple[str, ...]:
    """What each count of a question is about: its options, or 1 to 5 with what the ends mean."""
    question = survey.questions[index]
    if question.kind != "scale":
        return question.options(lang)
    low, high = question.ends(lang)
    labels = list(question.options(lang))
    if low:
        labels[0] = f"1 {low}"
    if high:
        labels[-1] = f"5 {high}"
    return tuple(labels)


def summary_text(catalog: Catalog, lang: str, survey: Survey, results: Results) -> str:
    """The results in the bot: each question, each option's count and share, a scale's average, texts counted."""
    t = lambda key, **kw: catalog.text(lang, key, **kw)  # noqa: E731
    lines = [t("surveys.results_head", title=survey.title(lang), count=results.responses)]
    for index, question in enumerate(survey.questions):
        answered = results.answered[index]
        lines += ["", t("surveys.results_question", number=index + 1, text=question.text(lang), count=answered)]
        if question.kind == "text":
            lines.append(t("surveys.results_texts", count=len(results.texts[index])))
            continue
        for label, count in zip(option_labels(survey, index, lang), results.counts[index], strict=True):
            lines.append(
                t("surveys.results_option", option=label, count=count, share=share_text(share(count, answered)))
            )
        if question.kind == "scale" and answered:
            total = sum(value * count for value, count in enumerate(results.counts[index], 1))
            lines.append(t("surveys.results_average", average=f"{total / answered:.1f}"))
    return "\n".join(lines)


def table(catalog: Catalog, lang: str, survey: Survey, results: Results) -> tuple[list[str], list[list[Value]]]:
    """The results as one table: a row per option (count and share), then a row per free text."""
    t = lambda key: catalog.text(lang, key)  # noqa: E731
    headers = [t(f"surveys.col_{c}") for c in ("number", "question", "answer", "count", "share")]
    rows: list[list[Value]] = []
    for index, question in enumerate(survey.questions):
        if question.kind == "text":
            rows += [[index + 1, question.text(lang), text, None, None] for text in results.texts[index]]
            continue
        answered = results.answered[index]
        for label, count in zip(option_labels(survey, index, lang), results.counts[index], strict=True):
            rows.append([index + 1, question.text(lang), label, count, share(count, answered)])
    return headers, rows


def build_files(catalog: Catalog, lang: str, survey: Survey, results: Results) -> tuple[bytes, bytes]:
    """The results as CSV and as Excel (text never a formula: domain/cells.py)."""
    headers, rows = table(catalog, lang, survey, results)
    return to_csv(headers, rows), to_xlsx(headers, rows, catalog.text(lang, "surveys.sheet"))
