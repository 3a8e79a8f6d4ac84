"""A survey's and an activity's announcement to couriers: an outreach message of its own kind (title, a short
description, and the button that opens the survey or the activity), drawn when the outbox sends it.

An announcement whose survey has closed, or whose activity has begun or is gone, is given up unsent.
"""

from __future__ import annotations

from typing import Any

from handlers.activities import card
from handlers.outreach import OutreachMessage, link_button, register_renderer
from handlers.outreach_audience import register_subject
from handlers.services import Services
from handlers.telegram_text import shorten
from storage.activities import Activity
from storage.surveys import StoredSurvey

INTRO_SHOWN = 300  # a survey's introduction in its announcement; the survey shows it whole


async def _open_survey(services: Services, ref: str) -> StoredSurvey | None:
    stored = await services.storage.surveys.get(int(ref)) if ref.isdigit() else None
    return stored if stored is not None and stored.state == "open" else None


async def _coming_activity(services: Services, ref: str) -> Activity | None:
    activity = await services.storage.activities.get(int(ref)) if ref.isdigit() else None
    return activity if activity is not None and activity.starts_at > services.clock() else None


async def render_survey(services: Services, params: dict[str, Any], lang: str) -> OutreachMessage | None:
    """A new survey as couriers see it announced: its title, introduction and size, and Open the survey."""
    stored = await _open_survey(services, str(params["ref"]))
    if stored is None:
        return None
    survey = stored.survey
    parts = [services.text(lang, "sending.survey_head", title=survey.title(lang))]
    if survey.intro(lang):
        parts.append(shorten(survey.intro(lang), INTRO_SHOWN))
    parts.append(services.text(lang, "surveys.size", count=len(survey.questions)))
    return OutreachMessage("\n\n".join(parts), None, [[link_button(services, lang, "survey", str(stored.id))]])


async def render_activity(services: Services, params: dict[str, Any], lang: str) -> OutreachMessage | None:
    """A new activity as couriers see it announced: its card (what, when, where, places) and See the activity."""
    activity = await _coming_activity(services, str(params["ref"]))
    if activity is None:
        return None
    text = services.text(lang, "sending.activity_head", card=await card(services, activity, lang))
    return OutreachMessage(text, None, [[link_button(services, lang, "activity", str(activity.id))]])


async def survey_title(services: Services, ref: str, lang: str) -> str | None:
    """An open survey's title (only an open one is announced)."""
    stored = await _open_survey(services, ref)
    return stored.survey.title(lang) if stored is not None else None


async def activity_title(services: Services, ref: str, lang: str) -> str | None:
    """A coming activity's title (one that has begun is not announced)."""
    activity = await _coming_activity(services, ref)
    return activity.title if activity is not None else None


register_renderer("survey", render_survey)
register_renderer("activity", render_activity)
register_subject("survey", survey_title)
register_subject("activity", activity_title)
