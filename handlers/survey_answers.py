"""A courier's side of a survey: the open surveys to answer, then one question at a time, kept to continue later.

The views here are also what a coordinator's preview shows (handlers/surveys.py): a page as a courier sees it.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update

from domain.phones import personal_number
from domain.surveys_file import Question, Survey
from handlers import callbacks
from handlers.callbacks import Family, Press, SurveyVerb
from handlers.common import Who, edit_or_reply, main_menu, refuse, reply
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.services import BotContext, Services
from handlers.telegram_text import shorten
from storage.surveys import Progress, StoredSurvey

MAX_TYPED = 1000  # a free-text answer
SHOWN_TEXT = 300  # a typed answer shown back

Data = Callable[[str, str], str]  # (verb, arg) -> callback data


def press_data(verb: str, arg: str) -> str:
    """A survey button's callback data."""
    return callbacks.encode(Family.SURVEY, verb, arg)


def is_coordinator(me: Who) -> bool:
    """Whether the person manages surveys (coordinators) rather than answers them."""
    return me.person.role == "coordinator"


def answers_surveys(me: Who) -> bool:
    """Whether the person is one surveys ask: couriers; staff and coordinators see them as a preview."""
    return me.person.role == "courier"


# ---- what a courier sees (and a coordinator's preview, the same) -------------------------------


def notice(services: Services, lang: str, survey: Survey) -> str:
    """The line that says, before the first question, whether answers are anonymous."""
    return services.text(lang, "surveys.anonymous" if survey.anonymous else "surveys.named")


def intro_view(services: Services, lang: str, stored: StoredSurvey, data: Data) -> tuple[str, Keyboard]:
    """A survey's first page: title, intro, how many questions, whether anonymous; Start and Not now."""
    survey = stored.survey
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    parts = [survey.title(lang)]
    if survey.intro(lang):
        parts.append(survey.intro(lang))
    parts.append(t("surveys.size", count=len(survey.questions)))
    parts.append(notice(services, lang, survey))
    rows = [[button(t("surveys.button_start"), data(SurveyVerb.START, str(stored.id)))]]
    rows.append([button(t("surveys.button_later"), data(SurveyVerb.LATER, str(stored.id)))])
    return "\n\n".join(parts), inline(rows)


def _hint(services: Services, lang: str, question: Question) -> str:
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    if question.kind == "scale":
        low, high = question.ends(lang)
        hint = t("surveys.hint_scale_ends", low=low, high=high) if low and high else t("surveys.hint_scale")
    else:
        hint = t(f"surveys.hint_{question.kind}", limit=MAX_TYPED)
    if question.optional:
        hint += t("surveys.optional")
    return hint


def question_view(
    services: Services, lang: str, stored: StoredSurvey, step: int, chosen: list[int], data: Data
) -> tuple[str, Keyboard]:
    """Question `step` (0-based) with its buttons; `chosen`: a multiple choice's options ticked so far."""
    survey = stored.survey
    question = survey.questions[step]
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    head = t("surveys.question_head", title=survey.title(lang), number=step + 1, total=len(survey.questions))
    text = f"{head}\n\n{question.text(lang)}\n\n{_hint(services, lang, question)}"
    at = f"{stored.id}.{step}"
    rows: list[list[Button]] = []
    if question.kind == "scale":
        rows.append([button(str(v), data(SurveyVerb.PICK, f"{at}.{v}")) for v in range(1, 6)])
    elif question.kind in ("single", "multiple"):
        for index, option in enumerate(question.options(lang)):
            label = ("☑ " if index in chosen else "☐ ") + option if question.kind == "multiple" else option
            rows.append([button(label, data(SurveyVerb.PICK, f"{at}.{index}"))])
        if question.kind == "multiple":
            rows.append([button(t("surveys.button_done"), data(SurveyVerb.DONE, at))])
    last = []
    if question.optional:
        last.append(button(t("surveys.button_skip"), data(SurveyVerb.SKIP, at)))
    if step > 0:
        last.append(button(t("button.back"), data(SurveyVerb.BACK, at)))
    last.append(button(t("surveys.button_later"), data(SurveyVerb.LATER, str(stored.id))))
    rows.append(last)
    return text, inline(rows)


def end_view(services: Services, lang: str, stored: StoredSurvey, data: Data) -> tuple[str, Keyboard]:
    """After the last question: send the answers (final), go back, or later."""
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    at = f"{stored.id}.{len(stored.survey.questions)}"
    rows = [
        [button(t("surveys.button_send"), data(SurveyVerb.SEND, str(stored.id)))],
        [
            button(t("button.back"), data(SurveyVerb.BACK, at)),
            button(t("surveys.button_later"), data(SurveyVerb.LATER, str(stored.id))),
        ],
    ]
    return t("surveys.end", title=stored.survey.title(lang)), inline(rows)


def step_view(services: Services, lang: str, stored: StoredSurvey, progress: Progress) -> tuple[str, Keyboard]:
    """Where a courier is: a question, or the page that sends the answers."""
    if progress.step >= len(stored.survey.questions):
        return end_view(services, lang, stored, press_data)
    chosen = progress.answers.get(str(progress.step))
    return question_view(services, lang, stored, progress.step, chosen if isinstance(chosen, list) else [], press_data)


# ---- couriers: the list, then one question at a time ------------------------------------------


async def courier_list(update: Update, context: BotContext, me: Who) -> None:
    """The open surveys this person can answer or continue, a button each."""
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    found = await services.storage.surveys.open_for(me.person.telegram_id)
    if not found:
        done = await services.storage.surveys.answered_open(me.person.telegram_id)
        if len(done) == 1:
            text = t("surveys2.answered_one", title=done[0].survey.title(me.lang))
        else:
            text = t("surveys2.answered_all", count=len(done)) if done else t("surveys.none_open")
        await reply(update, text, reply_markup=await main_menu(services, me))
        return
    rows = []
    for stored, progress in found:
        title = stored.survey.title(me.lang)
        label = (
            t("surveys.button_continue", title=title, done=progress.step, total=len(stored.survey.questions))
            if progress is not None
            else title
        )
        rows.append([button(shorten(label, 60), press_data(SurveyVerb.BEGIN, str(stored.id)))])
    await reply(update, t("surveys.open_list", count=len(found)), reply_markup=inline(rows))


def parse_numbers(arg: str, parts: int) -> list[int] | None:
    """The numbers of a button's arg ("3.1.2"), or None if forged out of shape."""
    fields = arg.split(".")
    if len(fields) != parts or not all(f.isdecimal() and f.isascii() and len(f) <= 9 for f in fields):
        return None
    return [int(f) for f in fields]


async def _answerable(update: Update, context: BotContext, me: Who, survey_id: int) -> StoredSurvey | None:
    """The open survey the press is about, if this person may answer it now; else the press is refused."""
    services = context.services
    if not answers_surveys(me):
        await refuse(update, context, me.lang, "surveys.couriers_only")
        return None
    stored = await services.storage.surveys.get(survey_id)
    if stored is None or stored.state != "open":
        await refuse(update, context, me.lang, "surveys.not_open")
        return None
    if await services.storage.surveys.answered(survey_id, me.person.telegram_id):
        await refuse(update, context, me.lang, "surveys.already")
        return None
    return stored


async def _show(
    update: Update, context: BotContext, me: Who, stored: StoredSurvey, progress: Progress, *, new: bool
) -> None:
    text, markup = step_view(context.services, me.lang, stored, progress)
    if new:
        await reply(update, text, reply_markup=markup)
    else:
        await edit_or_reply(update, text, markup)


def _moved(stored: StoredSurvey, progress: Progress, step: int, answers: dict) -> Progress:
    """The progress at `step`, waiting for typed text when that is a text question."""
    questions = stored.survey.questions
    awaiting = step < len(questions) and questions[step].kind == "text"
    return Progress(stored.id, step, answers, awaiting)


async def _save_and_show(
    update: Update, context: BotContext, me: Who, stored: StoredSurvey, progress: Progress, *, new: bool = False
) -> None:
    services = context.services
    await services.storage.surveys.save_progress(me.person.telegram_id, progress, services.clock())
    await _show(update, context, me, stored, progress, new=new)


async def on_answer_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Begin, Start, an option, Done, Skip, Back, Later, Send: a courier's presses."""
    services = context.services
    query = update.callback_query
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    verb = press.verb
    with_step = verb in (SurveyVerb.DONE, SurveyVerb.SKIP, SurveyVerb.BACK)
    numbers = parse_numbers(press.arg, 3 if verb == SurveyVerb.PICK else 2 if with_step else 1)
    if numbers is None:
        await refuse(update, context, me.lang, "press.invalid")
        return
    stored = await _answerable(update, context, me, numbers[0])
    if stored is None:
        return
    questions = stored.survey.questions
    progress = await services.storage.surveys.progress(stored.id, me.person.telegram_id)
    if verb == SurveyVerb.BEGIN:
        await query.answer()
        if progress is None:
            text, markup = intro_view(services, me.lang, stored, press_data)
            await reply(update, text, reply_markup=markup)
        else:
            # Continuing: waiting for typed text again if it stopped at a text question.
            await _save_and_show(
                update, context, me, stored, _moved(stored, progress, progress.step, progress.answers), new=True
            )
        return
    if verb == SurveyVerb.LATER:
        if progress is not None:
            await services.storage.surveys.save_progress(
                me.person.telegram_id, Progress(stored.id, progress.step, progress.answers, False), services.clock()
            )
        await query.answer()
        await edit_or_reply(update, t("surveys.later", title=stored.survey.title(me.lang)))
        return
    if verb == SurveyVerb.START:
        if progress is not None:  # a second tap on Start: where they are
            await query.answer()
            await _show(update, context, me, stored, progress, new=False)
            return
        await query.answer()
        await _save_and_show(update, context, me, stored, _moved(stored, Progress(stored.id, 0), 0, {}))
        return
    if progress is None:
        await refuse(update, context, me.lang, "surveys.stale")
        return
    if verb == SurveyVerb.SEND:
        if progress.step < len(questions):
            await refuse(update, context, me.lang, "surveys.stale")
            return
        done = await services.storage.surveys.finish(stored, me.person.telegram_id, progress.answers, services.clock())
        if not done:
            await refuse(update, context, me.lang, "surveys.already")
            return
        await query.answer()
        await edit_or_reply(update, t("surveys.thanks", title=stored.survey.title(me.lang)))
        return
    step = numbers[1]
    if step != progress.step or step > len(questions) or (verb != SurveyVerb.BACK and step >= len(questions)):
        await refuse(update, context, me.lang, "surveys.stale")
        return
    answers = dict(progress.answers)
    if verb == SurveyVerb.BACK:
        if step == 0:
            await refuse(update, context, me.lang, "press.invalid")
            return
        await query.answer()
        await _save_and_show(update, context, me, stored, _moved(stored, progress, step - 1, answers))
        return
    question = questions[step]
    key = str(step)
    if verb == SurveyVerb.SKIP:
        if not question.optional:
            await refuse(update, context, me.lang, "press.invalid")
            return
        answers[key] = None
    elif verb == SurveyVerb.DONE:
        chosen = answers.get(key)
        if question.kind != "multiple":
            await refuse(update, context, me.lang, "press.invalid")
            return
        if not chosen:
            if not question.optional:
                await refuse(update, context, me.lang, "surveys.choose_one")
                return
            answers[key] = None
    else:  # PICK
        choice = numbers[2]
        count = 5 if question.kind == "scale" else len(question.options_zh)
        if question.kind == "text" or not (1 <= choice <= 5 if question.kind == "scale" else 0 <= choice < count):
            await refuse(update, context, me.lang, "press.invalid")
            return
        if question.kind == "multiple":
            chosen = answers.get(key)
            ticked = set(chosen if isinstance(chosen, list) else [])
            ticked ^= {choice}
            answers[key] = sorted(ticked)
            await query.answer()
            await _save_and_show(update, context, me, stored, Progress(stored.id, step, answers, False))
            return
        answers[key] = [choice]
    await query.answer()
    await _save_and_show(update, context, me, stored, _moved(stored, progress, step + 1, answers))


async def typed_answer(update: Update, context: BotContext, me: Who, text: str) -> bool:
    """A courier's typed text, if a survey's text question waits for it: kept as the answer, and the next
    question shown; False if no survey waits (the text goes where it would have gone)."""
    services = context.services
    progress = await services.storage.surveys.awaiting_text(me.person.telegram_id)
    if progress is None:
        return False
    stored = await services.storage.surveys.get(progress.survey_id)
    questions = stored.survey.questions if stored else ()
    if (
        stored is None
        or stored.state != "open"
        or progress.step >= len(questions)
        or questions[progress.step].kind != "text"
    ):
        await services.storage.surveys.save_progress(
            me.person.telegram_id,
            Progress(progress.survey_id, progress.step, progress.answers, False),
            services.clock(),
        )
        return False
    text = text.strip()
    if len(text) > MAX_TYPED:
        await reply(update, services.text(me.lang, "surveys.too_long", length=len(text), limit=MAX_TYPED))
        return True
    if stored.survey.anonymous and personal_number(text) is not None:
        # Anonymous means nothing in the answers points at the person, their own words included.
        await reply(update, services.text(me.lang, "surveys.no_personal_numbers"))
        return True
    answers = {**progress.answers, str(progress.step): text}
    await reply(update, services.text(me.lang, "surveys.noted", text=shorten(text, SHOWN_TEXT)))
    await _save_and_show(update, context, me, stored, _moved(stored, progress, progress.step + 1, answers), new=True)
    return True
