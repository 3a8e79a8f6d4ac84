"""The bot's Prometheus metrics: updates handled and failed, handler latency, and the database's gauges.

Each Application has a registry of its own (not prometheus_client's global one), so tests can start
many bots in one process. Counters and the latency histogram are kept as updates are handled; the
gauges are read from the database when /metrics is scraped, at most once per FIGURES_MAX_AGE_S.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram import Update

from bot.ordering import OrderedUpdates
from storage.store import Storage

# Scrapes closer together than this share one reading of the database.
FIGURES_MAX_AGE_S = 5.0
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """One worker's metrics, each labelled with `worker`."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.registry = CollectorRegistry()
        labels = ["worker"]

        def gauge(name: str, text: str) -> Gauge:
            return Gauge(name, text, labels, registry=self.registry)

        self._handled = Counter(
            "appeals_bot_updates_handled", "Updates handled, failed ones included", labels, registry=self.registry
        )
        self._failed = Counter(
            "appeals_bot_updates_failed", "Updates whose handling failed (a webhook answers 500)", labels,
            registry=self.registry,
        )  # fmt: skip
        self._latency = Histogram(
            "appeals_bot_update_seconds", "Time handling an update took, from its turn to its end", labels,
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._pending = gauge("appeals_bot_outbox_pending", "Outbox messages waiting to be sent")
        self._dead = gauge("appeals_bot_outbox_dead", "Outbox messages given up as undeliverable (dead letters)")
        self._overdue = gauge("appeals_bot_appeals_overdue", "Appeals past a routing, signing or handling deadline")
        self._lag = gauge("appeals_bot_timer_lag_seconds", "How late the oldest due deadline step is (0: none due)")
        self._beat = gauge("appeals_bot_sender_idle_seconds", "Seconds since the outbox sender's loop last ticked")
        self._read_at: float | None = None
        # A labelled series appears only once it has a child: the counters show 0 from the start, so an
        # alert on their rate has something to read before the first failure.
        for counter in (self._handled, self._failed):
            counter.labels(worker)

    def update_handled(self, seconds: float, failed: bool) -> None:
        """Count an update handled in `seconds`, and whether a handler failed on it."""
        self._handled.labels(self.worker).inc()
        self._latency.labels(self.worker).observe(seconds)
        if failed:
            self._failed.labels(self.worker).inc()

    async def exposition(self, storage: Storage | None, now_utc: Any, sender_idle_s: float | None) -> bytes:
        """The metrics in Prometheus' text format, the database's gauges read afresh if they are old."""
        fresh = self._read_at is not None and time.monotonic() - self._read_at < FIGURES_MAX_AGE_S
        if storage is not None and not fresh:
            figures = await storage.health.figures(now_utc)
            self._pending.labels(self.worker).set(figures.outbox_pending)
            self._dead.labels(self.worker).set(figures.outbox_dead)
            self._overdue.labels(self.worker).set(figures.appeals_overdue)
            self._lag.labels(self.worker).set(figures.timer_lag_s)
            self._read_at = time.monotonic()
        if sender_idle_s is not None:
            self._beat.labels(self.worker).set(sender_idle_s)
        return generate_latest(self.registry)


class MeasuredUpdates(OrderedUpdates):
    """OrderedUpdates that times each update's handling (not its wait for its turn) into `metrics`."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics
        # The Application's bot_data.failed_updates, where bot/errors.py marks an update whose handler
        # failed (once, however many of its handlers did); set once the Application is built.
        self.failed_updates: set[int] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the update's turn as OrderedUpdates does, and time what follows."""
        ran = False

        async def timed() -> None:
            nonlocal ran
            ran = True
            began = time.perf_counter()
            try:
                await coroutine
            finally:
                failed = isinstance(update, Update) and update.update_id in self.failed_updates
                self.metrics.update_handled(time.perf_counter() - began, failed)

        try:
            await super().do_process_update(update, timed())
        finally:
            if not ran and hasattr(coroutine, "close"):
                coroutine.close()  # its turn never came (a shutdown): no "never awaited" warning
