"""Webhook mode: Telegram posts updates to us; each is acknowledged only after it was handled and stored.

python-telegram-bot's own webhook server answers 200 as soon as an update is queued, so a
crash before handling loses it. Here the answer waits for the update to be handled, and a handler
failure answers 500 so that Telegram delivers the update again (redeliveries of handled updates
are dropped by the handled-updates ledger).

Telegram posts over several connections at once, so updates arrive side by side. Each goes through
the Application's update processor (bot/ordering.py), as polled updates do: one person's updates,
and presses about one appeal, are handled in turn, in the order they came.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import signal
from datetime import datetime

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import Config
from bot.ops import add_ops_routes
from bot.ordering import order_keys

log = logging.getLogger(__name__)

ORPHAN_CHECK_S = 1.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
APPLICATION = web.AppKey("application", Application)
SECRET = web.AppKey("secret", str)


async def _receive(request: web.Request) -> web.Response:
    application, secret = request.app[APPLICATION], request.app[SECRET]
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return web.Response(status=403, text="wrong or missing secret token")
    update = _update(await request.read(), application)
    if update is None:
        return web.Response(status=400, text="not an update")
    # Not process_update alone: that would run beside the same person's other updates.
    await application.update_processor.process_update(update, _in_turn(application, update))
    failed = application.bot_data.failed_updates
    if update.update_id in failed:
        failed.discard(update.update_id)
        return web.Response(status=500, text="not handled; deliver it again")
    return web.Response(status=200)


async def _in_turn(application: Application, update: Update) -> None:
    """Handle `update` holding its ordering keys against other workers on the database, until its record is written."""
    storage = application.bot_data.services.storage
    failed = application.bot_data.failed_updates
    update_id = update.update_id  # only the number is ever logged, never the update
    try:
        async with storage.turn(order_keys(update)):
            await application.process_update(update)
            if update_id not in failed:
                # After a 200 Telegram never sends the update again, and a redelivery another worker
                # takes waits for these keys: the record must be on disk by then.
                await storage.updates.persist()
    except Exception as error:  # noqa: BLE001 - the database went away: not handled, so delivered again
        log.warning("update %s was not handled: %s", update_id, type(error).__name__)
        failed.add(update_id)


def _update(body: bytes, application: Application) -> Update | None:
    """The update a body holds, or None if it is not a Telegram update object (Telegram would never send it)."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not _is_int(data.get("update_id")):
            return None
        update = Update.de_json(data, application.bot)
        return update if update is not None and _well_formed(update) else None
    # Whatever a malformed body makes the parser raise (deep nesting: RecursionError), it is the body's fault.
    except Exception:  # noqa: BLE001
        return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _well_formed(update: Update) -> bool:
    """Whether the fields the handlers rely on are there with Telegram's types (de_json checks none of them)."""
    user, chat, message, query = (
        update.effective_user,
        update.effective_chat,
        update.effective_message,
        update.callback_query,
    )
    if (user is not None and not _is_int(user.id)) or (chat is not None and not _is_int(chat.id)):
        return False
    if message is not None and not (
        _is_int(message.message_id)
        and message.chat is not None
        and isinstance(message.date, datetime)
        and _is_str_or_none(message.text)
        and _is_str_or_none(message.caption)
    ):
        return False
    return query is None or (isinstance(query.id, str) and query.from_user is not None and _is_str_or_none(query.data))


def _is_str_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)


def webhook_app(application: Application, secret: str, path: str) -> web.Application:
    """The aiohttp app that receives Telegram's posts at /`path`, and serves /healthz and /metrics."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[APPLICATION] = application
    app[SECRET] = secret
    app.router.add_post(f"/{path.strip('/')}", _receive)
    add_ops_routes(app, application)
    return app


async def _when_orphaned(stop: asyncio.Event) -> None:
    """Stop a worker whose supervisor is gone (killed, say), rather than serve on with no one to start it again."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(ORPHAN_CHECK_S)
    log.warning("the supervisor is gone; stopping")
    stop.set()


async def run_webhook(application: Application, config: Config, worker: int | None = None) -> None:
    """Serve the webhook until SIGINT or SIGTERM, with the bot's services running.

    `worker` is this process's number among several (bot/workers.py) that share the port: the
    kernel hands each new connection to one of them. Worker 0 tells Telegram where the webhook is.
    """
    hook = config.webhook
    if hook.url is None or hook.secret_token is None:
        raise ValueError("webhook mode needs webhook.url and webhook.secret_token (or TELEGRAM_WEBHOOK_SECRET)")
    secret = hook.secret_token.get_secret_value()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    orphaned = asyncio.create_task(_when_orphaned(stop)) if worker is not None else None
    runner = web.AppRunner(webhook_app(application, secret, hook.path), access_log=None)
    await application.initialize()
    try:
        await application.post_init(application)
        await application.start()
        await runner.setup()
        await web.TCPSite(runner, hook.listen, hook.port, reuse_port=worker is not None).start()
        if not worker:
            await application.bot.set_webhook(
                url=f"{hook.url.rstrip('/')}/{hook.path.strip('/')}",
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
            )
        log.info(
            "webhook listening on %s:%d%s", hook.listen, hook.port, "" if worker is None else f" (worker {worker})"
        )
        await stop.wait()
    finally:
        if orphaned is not None:
            orphaned.cancel()
        await runner.cleanup()
        with contextlib.suppress(RuntimeError):
            await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)
