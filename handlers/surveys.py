"""Surveys (问卷) in the bot: a coordinator's import, preview, opening and results; couriers' answers.

a survey file        a .toml or .json file named survey…, or one whose top level has a `survey` table, sent
                     by a coordinator: checked whole (every problem with its line; nothing imported when
                     any is wrong), like `python -m bot surveys import FILE`
/surveys             coordinators: every survey with its state, a button each (preview, open, close,
                     results, files); everyone else: the open surveys they can answer or continue
buttons              one question at a time: an option, the multiple choice's toggles and Done, 1-5, Skip on
                     optional questions, Back, Later (the progress is kept); a text question takes typed text

Every press re-reads the presser's role, the survey's state and the courier's progress from the
database; a press about a question the courier is no longer at is refused as stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telegram import InputFile, Message, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from domain.phones import personal_number
from domain.surveys_file import (
    MAX_FILE_BYTES,
    FileLimitError,
    Question,
    Survey,
    SurveyFileError,
    format_of,
    is_survey_file,
    read_survey,
)
from handlers import callbacks, outreach_audience
from handlers.callbacks import Family, LinkVerb, Press, SurveyVerb
from handlers.chart import chart_language
from handlers.common import Who, command_and_button, edit_or_reply, main_menu, refuse, reply, who
from handlers.keyboards import Button, Keyboard, button, inline
from handlers.outreach import register_link
from handlers.services import BotContext, Services
from handlers.station_admin import problems_text
from handlers.survey_results import build_files, chart, summary_text
from handlers.telegram_text import shorten, split
from storage.surveys import Progress, StoredSurvey

MAX_TYPED = 1000  # a free-text answer
SHOWN_TEXT = 300  # a typed answer shown back
TEXTS_PER_MESSAGE = 40

Data = Callable[[str, str], str]  # (verb, arg) -> callback data


def _data(verb: str, arg: str) -> str:
    return callbacks.encode(Family.SURVEY, verb, arg)


def _coordinator(me: Who) -> bool:
    return me.person.role == "coordinator"


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
        return end_view(services, lang, stored, _data)
    chosen = progress.answers.get(str(progress.step))
    return question_view(services, lang, stored, progress.step, chosen if isinstance(chosen, list) else [], _data)


# ---- couriers: the list, then one question at a time ------------------------------------------


async def _courier_list(update: Update, context: BotContext, me: Who) -> None:
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    found = await services.storage.surveys.open_for(me.person.telegram_id)
    if not found:
        await reply(update, t("surveys.none_open"), reply_markup=await main_menu(services, me))
        return
    rows = []
    for stored, progress in found:
        title = stored.survey.title(me.lang)
        label = (
            t("surveys.button_continue", title=title, done=progress.step, total=len(stored.survey.questions))
            if progress is not None
            else title
        )
        rows.append([button(shorten(label, 60), _data(SurveyVerb.BEGIN, str(stored.id)))])
    await reply(update, t("surveys.open_list", count=len(found)), reply_markup=inline(rows))


async def surveys(update: Update, context: BotContext) -> None:
    """/surveys and the menu's Surveys: coordinators manage them; everyone else answers the open ones."""
    me = await who(update, context)
    if _coordinator(me):
        await _coordinator_list(update, context, me)
    else:
        await _courier_list(update, context, me)


def _parse(arg: str, parts: int) -> list[int] | None:
    """The numbers of a button's arg ("3.1.2"), or None if forged out of shape."""
    fields = arg.split(".")
    if len(fields) != parts or not all(f.isdecimal() and f.isascii() and len(f) <= 9 for f in fields):
        return None
    return [int(f) for f in fields]


async def _answerable(update: Update, context: BotContext, me: Who, survey_id: int) -> StoredSurvey | None:
    """The open survey the press is about, if this person may answer it now; else the press is refused."""
    services = context.services
    if _coordinator(me):
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


async def _on_answer_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Begin, Start, an option, Done, Skip, Back, Later, Send: a courier's presses."""
    services = context.services
    query = update.callback_query
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    verb = press.verb
    with_step = verb in (SurveyVerb.DONE, SurveyVerb.SKIP, SurveyVerb.BACK)
    numbers = _parse(press.arg, 3 if verb == SurveyVerb.PICK else 2 if with_step else 1)
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
            text, markup = intro_view(services, me.lang, stored, _data)
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


# ---- coordinators: import, the list, a survey's card, preview, open, close, results ---------------


def _state_text(services: Services, lang: str, stored: StoredSurvey) -> str:
    return services.text(lang, f"surveys.state_{stored.state}")


async def _card(services: Services, lang: str, stored: StoredSurvey) -> tuple[str, Keyboard]:
    """A survey as a coordinator sees it, with the buttons its state allows."""
    survey = stored.survey
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    results = await services.storage.surveys.results(stored)
    text = t(
        "surveys.card",
        title=survey.title(lang),
        id=survey.id,
        count=len(survey.questions),
        kind=t("surveys.kind_anonymous" if survey.anonymous else "surveys.kind_named"),
        state=_state_text(services, lang, stored),
        answers=results.responses,
    )
    sid = str(stored.id)
    rows = [[button(t("surveys.button_preview"), _data(SurveyVerb.PREVIEW, f"{sid}.{lang}.0"))]]
    if stored.state == "draft":
        rows.append([button(t("surveys.button_open"), _data(SurveyVerb.OPEN, sid))])
    else:
        rows.append(
            [
                button(t("surveys.button_results"), _data(SurveyVerb.RESULTS, sid)),
                button(t("surveys.button_files"), _data(SurveyVerb.FILES, sid)),
            ]
        )
    if stored.state == "open":
        rows.append([button(t("surveys.button_close"), _data(SurveyVerb.CLOSE, sid))])
    return text, inline(rows)


async def _coordinator_list(update: Update, context: BotContext, me: Who) -> None:
    services = context.services
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    found = await services.storage.surveys.all()
    if not found:
        await reply(update, t("surveys.none_yet") + "\n" + t("surveys.how_to_import"))
        return
    rows = [
        [
            button(
                shorten(f"{s.survey.title(me.lang)} · {_state_text(services, me.lang, s)}", 60),
                _data(SurveyVerb.SHOW, str(s.id)),
            )
        ]
        for s in found[:20]
    ]
    await reply(
        update, t("surveys.list", count=len(found)) + "\n" + t("surveys.how_to_import"), reply_markup=inline(rows)
    )


def _preview(services: Services, lang: str, stored: StoredSurvey, step: int) -> tuple[str, Keyboard]:
    """Page `step` of the preview (0: the first page, then each question, then the last), as a courier sees
    it under a line that says it is a preview; every answer button turns the page."""
    questions = stored.survey.questions
    base = f"{stored.id}.{lang}"

    def data(verb: str, arg: str) -> str:
        if verb == SurveyVerb.LATER:
            return _data(SurveyVerb.SHOW, str(stored.id))
        target = step - 1 if verb == SurveyVerb.BACK else step + 1
        return _data(SurveyVerb.PREVIEW, f"{base}.{target}")

    if step == 0:
        text, markup = intro_view(services, lang, stored, data)
    elif step <= len(questions):
        text, markup = question_view(services, lang, stored, step - 1, [], data)
    else:
        text, markup = end_view(services, lang, stored, data)
        markup = inline(
            [
                [button(services.text(lang, "button.back"), _data(SurveyVerb.PREVIEW, f"{base}.{step - 1}"))],
                [button(services.text(lang, "surveys.button_preview_end"), _data(SurveyVerb.SHOW, str(stored.id)))],
            ]
        )
    other = "en" if lang == "zh" else "zh"
    markup["inline_keyboard"].append(
        [
            button(
                services.text(lang, "surveys.button_other_language"),
                _data(SurveyVerb.PREVIEW, f"{stored.id}.{other}.{step}"),
            )
        ]
    )
    head = services.text(lang, "surveys.preview_head", page=step + 1, pages=len(questions) + 2)
    return f"{head}\n\n{text}", markup


async def _results(update: Update, context: BotContext, me: Who, stored: StoredSurvey) -> None:
    services = context.services
    results = await services.storage.surveys.results(stored)
    survey = stored.survey
    for part in split(summary_text(services.catalog, me.lang, survey, results)):
        await reply(update, part)
    if results.responses:

        def draw() -> bytes | None:
            # All on the worker thread: the first chart also loads matplotlib and its font list.
            drawn_in = chart_language(me.lang)  # English where no font draws Chinese
            return chart(survey, results, drawn_in, survey.title(drawn_in))

        photo = await asyncio.to_thread(draw)
        if photo is not None:
            await update.effective_chat.send_photo(
                photo, caption=services.text(me.lang, "surveys.chart_caption", title=survey.title(me.lang))
            )
    for index, texts in enumerate(results.texts):
        if not texts:
            continue
        head = services.text(me.lang, "surveys.texts_head", number=index + 1, count=len(texts))
        for start in range(0, len(texts), TEXTS_PER_MESSAGE):
            lines = [head] if start == 0 else []
            lines += [f"• {text}" for text in texts[start : start + TEXTS_PER_MESSAGE]]
            for part in split("\n".join(lines)):
                await reply(update, part)


async def _files(update: Update, context: BotContext, me: Who, stored: StoredSurvey) -> None:
    services = context.services
    results = await services.storage.surveys.results(stored)
    csv_bytes, xlsx_bytes = await asyncio.to_thread(build_files, services.catalog, me.lang, stored.survey, results)
    caption = services.text(
        me.lang, "surveys.files_caption", title=stored.survey.title(me.lang), count=results.responses
    )
    name = f"survey-{stored.survey.id}"
    chat = update.effective_chat
    await chat.send_document(InputFile(csv_bytes, filename=f"{name}.csv"), caption=caption)
    await chat.send_document(InputFile(xlsx_bytes, filename=f"{name}.xlsx"), caption=caption)


async def _on_coordinator_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Show, preview, open (asked first), close (asked first), results and files: coordinators only."""
    services = context.services
    query = update.callback_query
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    if press.verb == SurveyVerb.PREVIEW:
        sid, _, rest = press.arg.partition(".")
        lang, _, step = rest.partition(".")
        numbers = _parse(f"{sid}.{step}", 2) if lang in ("zh", "en") else None
    else:
        numbers, lang = _parse(press.arg, 1), me.lang
    if numbers is None:
        await refuse(update, context, me.lang, "press.invalid")
        return
    if not _coordinator(me):
        await refuse(update, context, me.lang, "coord.not_coordinator")
        return
    stored = await services.storage.surveys.get(numbers[0])
    if stored is None:
        await refuse(update, context, me.lang, "surveys.unknown")
        return
    title = stored.survey.title(me.lang)
    verb = press.verb
    if verb == SurveyVerb.PREVIEW:
        step = numbers[1]
        if step > len(stored.survey.questions) + 1:
            await refuse(update, context, me.lang, "press.invalid")
            return
        await query.answer()
        text, markup = _preview(services, lang, stored, step)
        await edit_or_reply(update, text, markup)
        return
    if verb in (SurveyVerb.OPEN, SurveyVerb.CLOSE):
        wanted = "draft" if verb == SurveyVerb.OPEN else "open"
        if stored.state != wanted:
            await query.answer()
            text, markup = await _card(services, me.lang, stored)
            await edit_or_reply(update, text, markup)
            return
        await query.answer()
        yes = SurveyVerb.OPEN_CONFIRMED if verb == SurveyVerb.OPEN else SurveyVerb.CLOSE_CONFIRMED
        rows = [
            [
                button(t(f"surveys.button_{verb}_yes"), _data(yes, str(stored.id))),
                button(t("surveys.button_not_yet"), _data(SurveyVerb.SHOW, str(stored.id))),
            ]
        ]
        await edit_or_reply(update, t(f"surveys.{verb}_confirm", title=title), inline(rows))
        return
    if verb in (SurveyVerb.OPEN_CONFIRMED, SurveyVerb.CLOSE_CONFIRMED):
        state = "open" if verb == SurveyVerb.OPEN_CONFIRMED else "closed"
        changed = await services.storage.surveys.set_state(stored.id, state, services.clock())
        # Opening makes the survey available to couriers (/surveys, the menu); then it may be announced.
        await query.answer(t(f"surveys.{state}_done", title=title) if changed else t("stale.already_done_plain"))
        stored = await services.storage.surveys.get(stored.id) or stored
        text, markup = await _card(services, me.lang, stored)
        await edit_or_reply(update, text, markup)
        if changed and state == "open":
            await outreach_audience.offer(update, context, me, "survey", [stored.id])
        return
    if verb == SurveyVerb.RESULTS:
        await query.answer()
        await _results(update, context, me, stored)
        return
    if verb == SurveyVerb.FILES:
        await query.answer()
        await _files(update, context, me, stored)
        return
    await query.answer()  # SHOW
    text, markup = await _card(services, me.lang, stored)
    await edit_or_reply(update, text, markup)


COORDINATOR_VERBS = frozenset(
    {
        SurveyVerb.SHOW,
        SurveyVerb.PREVIEW,
        SurveyVerb.OPEN,
        SurveyVerb.OPEN_CONFIRMED,
        SurveyVerb.CLOSE,
        SurveyVerb.CLOSE_CONFIRMED,
        SurveyVerb.RESULTS,
        SurveyVerb.FILES,
    }
)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """Any survey button: a coordinator's tools or a courier's answers (handlers/presses.py)."""
    if press.verb in COORDINATOR_VERBS:
        await _on_coordinator_press(update, context, me, press)
    else:
        await _on_answer_press(update, context, me, press)


# ---- survey files -------------------------------------------------------------------------------


class _NamedSurvey(filters.MessageFilter):
    """A TOML or JSON document named survey… (other TOML is an answer file, other JSON a station file)."""

    def filter(self, message: Message) -> bool:
        name = (message.document.file_name or "").lower() if message.document else ""
        return name.startswith("survey") and format_of(name) is not None


async def import_file(update: Update, context: BotContext, me: Who, data: bytes, fmt: str) -> None:
    """Check a coordinator's survey file whole; import it and show it with Preview and Open, or list every problem."""
    services = context.services
    try:
        survey = read_survey(data, fmt)  # type: ignore[arg-type]
    except SurveyFileError as error:
        await reply(update, problems_text(services, me.lang, error.problems))
        return
    outcome, survey_id = await services.storage.surveys.import_survey(survey, services.clock())
    stored = await services.storage.surveys.get(survey_id)
    if outcome == "locked":
        await reply(
            update, services.text(me.lang, "surveys.locked", id=survey.id, state=_state_text(services, me.lang, stored))
        )
        return
    key = "surveys.imported" if outcome == "added" else "surveys.replaced"
    text, markup = await _card(services, me.lang, stored)
    await reply(update, services.text(me.lang, key, title=survey.title(me.lang)) + "\n\n" + text, reply_markup=markup)


async def on_document(update: Update, context: BotContext) -> None:
    """A survey file: a coordinator's import; anyone else's goes where other messages go."""
    me = await who(update, context)
    if not _coordinator(me):
        from handlers import inbox  # here: the inbox's free text reaches this module's typed answers

        await inbox.on_message(update, context)
        return
    document = update.effective_message.document
    if (document.file_size or 0) > MAX_FILE_BYTES:
        error = FileLimitError("bytes", MAX_FILE_BYTES, document.file_size or 0)
        await reply(update, problems_text(context.services, me.lang, error.problems))
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    await import_file(update, context, me, data, format_of(document.file_name or "") or "toml")


async def sent_survey(update: Update, context: BotContext, me: Who, data: bytes, fmt: str) -> bool:
    """Whether a coordinator's TOML or JSON file (sent under another name) is a survey file: then imported."""
    if not _coordinator(me) or fmt not in ("toml", "json") or not is_survey_file(data, fmt):  # type: ignore[arg-type]
        return False
    await import_file(update, context, me, data, fmt)
    return True


def survey_handlers(labels: set[str]) -> list[BaseHandler]:
    """/surveys (and the menu's Surveys), and survey files named survey… (before answer and station files)."""
    private = filters.ChatType.PRIVATE
    return [
        *command_and_button("surveys", surveys, labels),
        MessageHandler(private & _NamedSurvey(), on_document),
    ]


async def on_link(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A notice's button to a survey (handlers/outreach.py): its first page, or where the courier stopped."""
    await on_press(update, context, me, Press(Family.SURVEY, SurveyVerb.BEGIN, arg=press.arg))


register_link(LinkVerb.SURVEY, on_link)
