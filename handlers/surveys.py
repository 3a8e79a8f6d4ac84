"""Surveys (问卷) in the bot: a coordinator's import, preview, opening and results; couriers' answers.

a survey file        a .toml or .json file named survey…, or one whose top level has a `survey` table, sent
                     by a coordinator: checked whole (every problem with its line; nothing imported when
                     any is wrong), like `python -m bot surveys import FILE`
/surveys             coordinators: every survey with its state, a button each (preview, open, close,
                     results, files); everyone else: the open surveys they can answer or continue
buttons              one question at a time: an option, the multiple choice's toggles and Done, 1-5, Skip on
                     optional questions, Back, Later (the progress is kept); a text question takes typed text

A courier's answering (the list, the questions, typed answers) is handlers/survey_answers.py; the results'
text, chart and files are handlers/survey_results.py.

Every press re-reads the presser's role, the survey's state and the courier's progress from the
database; a press about a question the courier is no longer at is refused as stale.
"""

from __future__ import annotations

import asyncio

from telegram import InputFile, Message, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from domain.surveys_file import (
    MAX_FILE_BYTES,
    FileLimitError,
    SurveyFileError,
    format_of,
    is_survey_file,
    read_survey,
)
from handlers import outreach_audience
from handlers.callbacks import Family, LinkVerb, Press, SurveyVerb
from handlers.chart import chart_language
from handlers.common import Who, command_and_button, edit_or_reply, refuse, reply, who
from handlers.keyboards import Keyboard, button, inline
from handlers.outreach import register_link
from handlers.services import BotContext, Services
from handlers.station_admin import problems_text
from handlers.survey_answers import (
    answers_surveys,
    courier_list,
    end_view,
    intro_view,
    is_coordinator,
    on_answer_press,
    parse_numbers,
    press_data,
    question_view,
)
from handlers.survey_answers import typed_answer as typed_answer  # handlers/free_text.py calls surveys.typed_answer
from handlers.survey_chart import ChartWords, results_charts
from handlers.survey_results import build_files, summary_text
from handlers.telegram_text import shorten, split
from storage.surveys import StoredSurvey

TEXTS_PER_MESSAGE = 40


async def surveys(update: Update, context: BotContext) -> None:
    """/surveys and the menu's Surveys: coordinators manage them; everyone else answers the open ones."""
    me = await who(update, context)
    if is_coordinator(me):
        await _coordinator_list(update, context, me)
    elif answers_surveys(me):
        await courier_list(update, context, me)
    else:
        text, markup = await _staff_list(context.services, me)
        await reply(update, text, reply_markup=markup)


async def _staff_list(services: Services, me: Who) -> tuple[str, Keyboard | None]:
    """Staff's view: the surveys couriers are answering now, each to preview as couriers see it, never to answer."""
    found = [s for s in await services.storage.surveys.all() if s.state == "open"]
    if not found:
        return services.text(me.lang, "survey_staff.none"), None
    rows = [
        [button(shorten(s.survey.title(me.lang), 60), press_data(SurveyVerb.PREVIEW, f"{s.id}.{me.lang}.0"))]
        for s in found[:20]
    ]
    return services.text(me.lang, "survey_staff.list", count=len(found)), inline(rows)


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
    rows = [[button(t("surveys.button_preview"), press_data(SurveyVerb.PREVIEW, f"{sid}.{lang}.0"))]]
    if stored.state == "draft":
        rows.append([button(t("surveys.button_open"), press_data(SurveyVerb.OPEN, sid))])
    else:
        rows.append(
            [
                button(t("surveys.button_results"), press_data(SurveyVerb.RESULTS, sid)),
                button(t("surveys.button_files"), press_data(SurveyVerb.FILES, sid)),
            ]
        )
    if stored.state == "open":
        rows.append([button(t("surveys.button_close"), press_data(SurveyVerb.CLOSE, sid))])
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
                press_data(SurveyVerb.SHOW, str(s.id)),
            )
        ]
        for s in found[:20]
    ]
    await reply(
        update, t("surveys.list", count=len(found)) + "\n" + t("surveys.how_to_import"), reply_markup=inline(rows)
    )


def _preview(
    services: Services, lang: str, stored: StoredSurvey, step: int, *, staff: bool = False
) -> tuple[str, Keyboard]:
    """Page `step` of the preview (0: the first page, then each question, then the last), as a courier sees
    it under a line that says it is a preview; every answer button turns the page. Its end goes back to the
    survey's card (a coordinator's) or to the surveys couriers are answering (staff's)."""
    questions = stored.survey.questions
    base = f"{stored.id}.{lang}"
    end = press_data(SurveyVerb.SEE if staff else SurveyVerb.SHOW, str(stored.id))

    def data(verb: str, arg: str) -> str:
        if verb == SurveyVerb.LATER:
            return end
        target = step - 1 if verb == SurveyVerb.BACK else step + 1
        return press_data(SurveyVerb.PREVIEW, f"{base}.{target}")

    if step == 0:
        text, markup = intro_view(services, lang, stored, data)
    elif step <= len(questions):
        text, markup = question_view(services, lang, stored, step - 1, [], data)
    else:
        text, markup = end_view(services, lang, stored, data)
        markup = inline(
            [
                [button(services.text(lang, "button.back"), press_data(SurveyVerb.PREVIEW, f"{base}.{step - 1}"))],
                [button(services.text(lang, "surveys.button_preview_end"), end)],
            ]
        )
    other = "en" if lang == "zh" else "zh"
    markup["inline_keyboard"].append(
        [
            button(
                services.text(lang, "surveys.button_other_language"),
                press_data(SurveyVerb.PREVIEW, f"{stored.id}.{other}.{step}"),
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

        def draw() -> list[bytes]:
            # All on the worker thread: the first chart also loads matplotlib and its font list.
            drawn_in = chart_language(me.lang)  # English where no font draws Chinese
            words = ChartWords(services.catalog, drawn_in)
            return results_charts(survey, results, drawn_in, survey.title(drawn_in), words)

        photos = await asyncio.to_thread(draw)
        caption = services.text(me.lang, "surveys.chart_caption", title=survey.title(me.lang))
        for number, photo in enumerate(photos, 1):
            counted = (
                services.text(me.lang, "surveys2.numbered", text=caption, number=number, total=len(photos))
                if len(photos) > 1
                else caption
            )
            await update.effective_chat.send_photo(photo, caption=counted)
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
        numbers = parse_numbers(f"{sid}.{step}", 2) if lang in ("zh", "en") else None
    else:
        numbers, lang = parse_numbers(press.arg, 1), me.lang
    if numbers is None:
        await refuse(update, context, me.lang, "press.invalid")
        return
    # Staff may look at what couriers are asked (a preview), and nothing more.
    staff = me.person.role == "staff" and press.verb in (SurveyVerb.PREVIEW, SurveyVerb.SEE)
    if not is_coordinator(me) and not staff:
        await refuse(update, context, me.lang, "coord.not_coordinator")
        return
    stored = await services.storage.surveys.get(numbers[0])
    if stored is None:
        await refuse(update, context, me.lang, "surveys.unknown")
        return
    if staff and stored.state != "open":
        await refuse(update, context, me.lang, "surveys.not_open")
        return
    if press.verb == SurveyVerb.SEE and staff:
        await query.answer()
        text, markup = await _staff_list(services, me)
        await edit_or_reply(update, text, markup)
        return
    title = stored.survey.title(me.lang)
    verb = press.verb
    if verb == SurveyVerb.PREVIEW:
        step = numbers[1]
        if step > len(stored.survey.questions) + 1:
            await refuse(update, context, me.lang, "press.invalid")
            return
        await query.answer()
        text, markup = _preview(services, lang, stored, step, staff=staff)
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
                button(t(f"surveys.button_{verb}_yes"), press_data(yes, str(stored.id))),
                button(t("surveys.button_not_yet"), press_data(SurveyVerb.SHOW, str(stored.id))),
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
        SurveyVerb.SEE,
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
        await on_answer_press(update, context, me, press)


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
    if not is_coordinator(me):
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
    if not is_coordinator(me) or fmt not in ("toml", "json") or not is_survey_file(data, fmt):  # type: ignore[arg-type]
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
    """A notice's button to a survey (handlers/outreach.py): a courier's first page, or where they stopped;
    staff's and coordinators' preview (they are not asked to answer it)."""
    if answers_surveys(me):
        await on_press(update, context, me, Press(Family.SURVEY, SurveyVerb.BEGIN, arg=press.arg))
        return
    services = context.services
    stored = (
        await services.storage.surveys.get(int(press.arg)) if press.arg.isdecimal() and len(press.arg) < 10 else None
    )
    if stored is None or (not is_coordinator(me) and stored.state != "open"):
        await refuse(update, context, me.lang, "surveys.not_open")
        return
    await update.callback_query.answer()
    # A new message: the notice the button sits under stays as it was.
    text, markup = _preview(services, me.lang, stored, 0, staff=not is_coordinator(me))
    await reply(update, text, reply_markup=markup)


register_link(LinkVerb.SURVEY, on_link)
