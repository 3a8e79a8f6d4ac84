"""GET /healthz and GET /metrics: on the webhook's server, or on a small local one when polling.

/healthz says the worker is ready when three things hold: the database answers, its schema is the
code's, and the outbox sender's loop has ticked within SENDER_STALE_S. Ready: 200 and a small JSON
body; else 503 with the same body naming what fails. /metrics is Prometheus' text format (bot/metrics.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC

from aiohttp import web
from telegram.ext import Application

from bot.config import OpsSection
from bot.metrics import CONTENT_TYPE
from storage.health import Unreachable

log = logging.getLogger(__name__)

OPS_APPLICATION = web.AppKey("ops_application", Application)
# The sender's loop ticks at least every couple of seconds when idle and once a round when busy;
# only Telegram's flood control (retry_after) holds it longer, and a worker that long silent is not serving.
SENDER_STALE_S = 120.0
# A database that does not answer a one-row read in this long is as good as unreachable.
DATABASE_TIMEOUT_S = 5.0


class OpsServerError(Exception):
    """The port for /healthz and /metrics cannot be listened on (taken, or not allowed)."""


async def health(application: Application) -> tuple[bool, dict[str, str]]:
    """Whether this worker is ready, and each check's verdict ("ok" or why not)."""
    data = application.bot_data
    checks: dict[str, str] = {}
    services = data.services
    if services is None:
        checks["database"] = checks["schema"] = "not open"
    else:
        try:
            schema = await asyncio.wait_for(services.storage.health.schema(), DATABASE_TIMEOUT_S)
        except TimeoutError:
            checks["database"] = checks["schema"] = f"no answer within {DATABASE_TIMEOUT_S:g} s"
        except Unreachable as error:
            checks["database"] = checks["schema"] = f"unreachable: {error}"
        else:
            checks["database"] = "ok"
            if schema.database > schema.code:
                checks["schema"] = f"version {schema.database} is newer than this code's ({schema.code})"
            elif schema.database < schema.code:
                checks["schema"] = f"version {schema.database} is not yet migrated to {schema.code}"
            else:
                checks["schema"] = "ok"
    idle = sender_idle(application)
    if idle is None:
        checks["sender"] = "not running"
    elif idle > SENDER_STALE_S:
        checks["sender"] = f"no loop tick for {idle:.0f} s (bound {SENDER_STALE_S:g} s)"
    else:
        checks["sender"] = "ok"
    return all(v == "ok" for v in checks.values()), checks


def sender_idle(application: Application) -> float | None:
    """Seconds since the outbox sender's loop last ticked; None if the loop is not running."""
    data = application.bot_data
    loop = data.outbox_loop
    if data.sender is None or loop is None or loop.done():
        return None
    return data.sender.idle_seconds()


async def _healthz(request: web.Request) -> web.Response:
    application = request.app[OPS_APPLICATION]
    ready, checks = await health(application)
    body = {"status": "ready" if ready else "not ready", "worker": _worker(application), "checks": checks}
    if not ready:
        body["failing"] = sorted(name for name, verdict in checks.items() if verdict != "ok")
    return web.json_response(body, status=200 if ready else 503, dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def _metrics(request: web.Request) -> web.Response:
    application = request.app[OPS_APPLICATION]
    data = application.bot_data
    services = data.services
    storage = services.storage if services is not None else None
    now = services.clock().astimezone(UTC) if services is not None else None
    try:
        text = await data.metrics.exposition(storage, now, sender_idle(application))
    except Unreachable as error:
        log.warning("metrics: the database could not be read: %s", error)
        return web.Response(status=503, text="the database could not be read\n")
    return web.Response(body=text, headers={"Content-Type": CONTENT_TYPE})


def _worker(application: Application) -> str:
    metrics = application.bot_data.metrics
    return metrics.worker if metrics is not None else ""


def add_ops_routes(app: web.Application, application: Application) -> None:
    """Serve /healthz and /metrics for `application` on `app`."""
    app[OPS_APPLICATION] = application
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)


async def start_ops_server(application: Application, ops: OpsSection) -> web.AppRunner:
    """Serve /healthz and /metrics on ops.listen:ops.port (polling mode); cleanup() the runner to stop."""
    app = web.Application()
    add_ops_routes(app, application)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, ops.listen, ops.port).start()
    except OSError as error:
        await runner.cleanup()
        raise OpsServerError(
            f"cannot serve /healthz and /metrics on {ops.listen}:{ops.port}: {error.strerror}"
        ) from None
    except BaseException:
        await runner.cleanup()
        raise
    log.info("health and metrics on http://%s:%d/healthz and /metrics", ops.listen, ops.port)
    return runner
