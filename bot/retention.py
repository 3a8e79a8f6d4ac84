"""The daily retention run: anonymise what is older than `privacy.retention_days`."""

from __future__ import annotations

import logging
from datetime import time

from telegram.ext import Application

from handlers.services import BotContext, Services
from storage.privacy import Expired

log = logging.getLogger(__name__)

RETENTION_JOB = "retention"


async def run_retention(services: Services, retention_days: int) -> Expired:
    """Anonymise everything past the retention at the services' clock; tests call this with their clock."""
    expired = await services.storage.privacy.anonymise_expired(services.clock(), retention_days)
    # Counts only: never names, numbers or texts in the log.
    log.info(
        "retention: %d appeals anonymised; %d couriers, %d locations, %d drafts, %d notices deleted",
        expired.appeals,
        expired.people,
        expired.locations,
        expired.drafts,
        expired.notices,
    )
    return expired


def schedule_retention(application: Application, services: Services, retention_days: int, at: time) -> None:
    """Run the retention once a day at `at` (an aware local time) with the JobQueue."""

    async def job(context: BotContext) -> None:
        await run_retention(services, retention_days)

    if application.job_queue is not None:
        application.job_queue.run_daily(job, time=at, name=RETENTION_JOB)
