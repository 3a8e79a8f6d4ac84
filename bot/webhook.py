"""Webhook mode: Telegram posts updates to us; each is acknowledged only after it was handled and stored.

python-telegram-bot's own webhook server answers 200 as soon as an update is queued, so a
crash before handling loses it. Here the answer waits for `process_update`, and a handler
failure answers 500 so that Telegram delivers the update again (redeliveries of handled updates
are dropped by the handled-updates ledger).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import Config

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
APPLICATION = web.AppKey("application", Application)
SECRET = web.AppKey("secret", str)


async def _receive(request: web.Request) -> web.Response:
    application, secret = request.app[APPLICATION], request.app[SECRET]
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return web.Response(status=403, text="wrong or missing secret token")
    try:
        data = await request.json()
        update = Update.de_json(data, application.bot)
    except (json.JSONDecodeError, ValueError, TypeError, KeyError):
        return web.Response(status=400, text="not an update")
    if update is None:
        return web.Response(status=400, text="not an update")
    await application.process_update(update)
    failed = application.bot_data.failed_updates
    if update.update_id in failed:
        failed.discard(update.update_id)
        return web.Response(status=500, text="not handled; deliver it again")
    # After a 200 Telegram never sends the update again: its record must be on disk by then.
    await application.bot_data.services.storage.updates.persist()
    return web.Response(status=200)


def webhook_app(application: Application, secret: str, path: str) -> web.Application:
    """The aiohttp app that receives Telegram's posts at /`path`."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[APPLICATION] = application
    app[SECRET] = secret
    app.router.add_post(f"/{path.strip('/')}", _receive)
    return app


async def run_webhook(application: Application, config: Config) -> None:
    """Serve the webhook until SIGINT or SIGTERM, with the bot's services running."""
    hook = config.webhook
    if hook.url is None or hook.secret_token is None:
        raise ValueError("webhook mode needs webhook.url and webhook.secret_token (or TELEGRAM_WEBHOOK_SECRET)")
    secret = hook.secret_token.get_secret_value()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(webhook_app(application, secret, hook.path), access_log=None)
    await application.initialize()
    try:
        await application.post_init(application)
        await application.start()
        await runner.setup()
        await web.TCPSite(runner, hook.listen, hook.port).start()
        await application.bot.set_webhook(
            url=f"{hook.url.rstrip('/')}/{hook.path.strip('/')}",
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("webhook listening on %s:%d", hook.listen, hook.port)
        await stop.wait()
    finally:
        await runner.cleanup()
        with contextlib.suppress(RuntimeError):
            await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)
