"""The knowledge base (知识库) in the bot: the card of answers offered before filing, /answers, and answer files.

/answers            coordinators and staff: how many answers each category has, with a button per category
/answers CATEGORY   that category's answers (a page at a time, "More" for the next)
/answers ID         one answer in full, in both languages
a .toml file, or a .json file named answers*.json, sent by a coordinator: imported like
                    `python -m bot answers import` (checked whole; nothing imported when any answer is wrong)

The filing dialog (handlers/filing_steps.py) shows the card; every press re-reads the presser's role.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from domain.answers_file import MAX_FILE_BYTES, AnswerFileError, FileLimitError, format_of, read_answers
from handlers import callbacks, inbox, surveys
from handlers.callbacks import AnswersVerb, Family, Press
from handlers.common import Who, refuse, reply, who
from handlers.keyboards import Keyboard, button, inline
from handlers.services import BotContext, Services
from handlers.station_admin import problems_text
from handlers.telegram_text import split
from handlers.worker import in_worker

PAGE = 25  # answers listed in one message of /answers CATEGORY
READERS = ("coordinator", "staff")


# ---- /answers ---------------------------------------------------------------------------------


def _reader(me: Who) -> bool:
    return me.person.role == "coordinator" or (me.person.role == "staff" and me.person.unit_id is not None)


def _category_name(services: Services, lang: str, category_id: str) -> str:
    category = services.category(category_id)
    return category.name(lang) if category else category_id


async def _overview(update: Update, context: BotContext, me: Who) -> None:
    services = context.services
    answers = await services.storage.answers.all()
    counts: dict[str, list[int]] = {}
    for answer in answers:
        counts.setdefault(answer.category, [0, 0])[0 if answer.active else 1] += 1
    t = lambda key, **kw: services.text(me.lang, key, **kw)  # noqa: E731
    if not answers:
        await reply(
            update, t("answers.none") + ("\n" + t("answers.how_to_import") if me.person.role == "coordinator" else "")
        )
        return
    lines = [t("answers.overview", count=sum(1 for a in answers if a.active))]
    rows = []
    for category_id, (active, withdrawn) in sorted(counts.items()):
        name = _category_name(services, me.lang, category_id)
        line = t("answers.category_line", category=name, count=active)
        if withdrawn:
            line += t("answers.withdrawn_count", count=withdrawn)
        lines.append(line)
        rows.append([button(name, callbacks.encode(Family.ANSWERS, AnswersVerb.CATEGORY, f"{category_id}.0"))])
    if me.person.role == "coordinator":
        lines.append(t("answers.how_to_import"))
    await reply(update, "\n".join(lines), reply_markup=inline(rows))


async def _category_page(services: Services, lang: str, category_id: str, page: int) -> tuple[str, Keyboard | None]:
    """One page of a category's answers, and a More button when there are more."""
    answers = [a for a in await services.storage.answers.all() if a.category == category_id]
    t = lambda key, **kw: services.text(lang, key, **kw)  # noqa: E731
    shown = answers[page * PAGE : (page + 1) * PAGE]
    name = _category_name(services, lang, category_id)
    lines = [t("answers.category_title", category=name, count=len(answers))]
    for answer in shown:
        state = "" if answer.active else t("answers.withdrawn")
        lines.append(t("answers.line", id=answer.id, title=answer.title(lang)) + state)
    if not shown:
        lines.append(t("answers.category_empty"))
    else:
        lines.append(t("answers.show_one"))
    markup = None
    if (page + 1) * PAGE < len(answers):
        more = callbacks.encode(Family.ANSWERS, AnswersVerb.CATEGORY, f"{category_id}.{page + 1}")
        markup = inline([[button(t("answers.button_more", count=len(answers) - (page + 1) * PAGE), more)]])
    return "\n".join(lines), markup


async def show_answers(update: Update, context: BotContext) -> None:
    """/answers: the knowledge base for coordinators and staff, by category; one answer by its id."""
    me = await who(update, context)
    services = context.services
    if not _reader(me):
        await reply(update, services.text(me.lang, "answers.not_allowed"))
        return
    args = context.args or []
    if not args:
        await _overview(update, context, me)
        return
    query = args[0].strip().lower()[:40]
    if services.category(query):
        text, markup = await _category_page(services, me.lang, query, 0)
        await reply(update, text, reply_markup=markup)
        return
    answer = await services.storage.answers.get(query)
    if answer is None:
        await reply(update, services.text(me.lang, "answers.unknown", query=query))
        return
    head = services.text(
        me.lang,
        "answers.one_head",
        id=answer.id,
        category=_category_name(services, me.lang, answer.category),
        keywords="、".join(answer.keywords) if me.lang == "zh" else ", ".join(answer.keywords),
    )
    if not answer.active:
        head += services.text(me.lang, "answers.withdrawn")
    full = "\n\n".join((head, f"{answer.title_zh}\n{answer.text_zh}", f"{answer.title_en}\n{answer.text_en}"))
    for part in split(full):
        await reply(update, part)


async def on_press(update: Update, context: BotContext, me: Who, press: Press) -> None:
    """A category button of /answers, or its More: the role is read again from the database."""
    services = context.services
    if not _reader(me):
        await refuse(update, context, me.lang, "answers.not_allowed")
        return
    category_id, _, page = press.arg.rpartition(".")
    if not services.category(category_id) or not page.isdigit():
        await refuse(update, context, me.lang, "answers.stale")
        return
    await update.callback_query.answer()
    text, markup = await _category_page(services, me.lang, category_id, int(page))
    await reply(update, text, reply_markup=markup)


# ---- answer files ------------------------------------------------------------------------------


class _AnswersJson(filters.MessageFilter):
    """A JSON document named answers*.json (other JSON documents are station files)."""

    def filter(self, message: Message) -> bool:
        name = (message.document.file_name or "").lower() if message.document else ""
        return name.startswith("answers") and name.endswith(".json")


async def on_document(update: Update, context: BotContext) -> None:
    """An answer file: a coordinator's import; anyone else's goes where other messages go."""
    me = await who(update, context)
    if me.person.role != "coordinator":
        await inbox.on_message(update, context)
        return
    services = context.services
    document = update.effective_message.document
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await reply(
            update,
            problems_text(services, me.lang, FileLimitError("bytes", MAX_FILE_BYTES, document.file_size or 0).problems),
        )
        return
    fmt = format_of(document.file_name or "") or "toml"
    data = bytes(await (await document.get_file()).download_as_bytearray())
    if await surveys.sent_survey(update, context, me, data, fmt):  # a top-level [survey] table: a survey file
        return
    categories = [c.id for c in services.categories]
    try:
        # Checking thousands of answers is CPU work: in the worker process, so others' replies go on meanwhile.
        records = await in_worker(read_answers, data, fmt, categories)
    except AnswerFileError as error:
        await reply(update, problems_text(services, me.lang, error.problems))
        return
    imported = await services.storage.answers.import_records(records)
    await reply(update, services.text(me.lang, "answers.imported", added=imported.added, updated=imported.updated))


def answers_handlers() -> list[BaseHandler]:
    """/answers, and answer files sent as documents (before the station files' handler, which takes other JSON)."""
    private = filters.ChatType.PRIVATE
    files = filters.Document.FileExtension("toml") | _AnswersJson()
    return [
        CommandHandler("answers", show_answers, filters=private),
        MessageHandler(private & files, on_document),
    ]
