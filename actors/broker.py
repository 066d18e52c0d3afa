"""The Dramatiq broker and its middleware, configured once per process from the settings.

`DRAMATIQ_BROKER=stub` gives an in-process StubBroker (tests, the embedded
run); otherwise a RedisBroker on REDIS_URL. Sentry, when configured, is
initialised first: its Dramatiq integration patches the broker's constructor.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    GroupCallbacks,
    Middleware,
    Pipelines,
    Prometheus,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from pipeline.logs import configure_logging
from pipeline.observability import init_sentry
from pipeline.settings import Settings, get_settings

from .middleware import JobFailures


class WorkerPrometheus(Prometheus):
    """Prometheus counts only in worker processes.

    Its counters are created at worker boot; the web process (which imports
    the actors, and whose dashboard requeues messages) would otherwise fail in
    after_enqueue on every requeue.
    """

    booted = False

    def after_process_boot(self, broker):
        super().after_process_boot(broker)
        self.booted = True

    def after_enqueue(self, broker, message, delay):
        if self.booted:
            super().after_enqueue(broker, message, delay)


class JsonLogs(Middleware):
    """Worker processes log JSON lines; the web process and the CLI, which import the actors too, keep their own logging."""

    def after_process_boot(self, broker):
        configure_logging("worker")


def middleware(settings: Settings, rate_limiter_backend) -> list:
    stack = [
        AgeLimit(),
        TimeLimit(time_limit=30 * 60 * 1000),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        # "after" hooks run in reverse order: listed before Retries, JobFailures
        # runs after it and knows whether the message failed for good.
        JobFailures(),
        Retries(max_retries=settings.max_retries, min_backoff=settings.min_backoff_ms, max_backoff=settings.max_backoff_ms),
        GroupCallbacks(rate_limiter_backend),
    ]
    if settings.dramatiq_broker == "redis":
        # Metrics are served by the worker on port 9191 (dramatiq_prom_port).
        stack.insert(0, WorkerPrometheus())
        stack.insert(0, JsonLogs())
    return stack


def setup_broker(settings: Settings) -> dramatiq.Broker:
    init_sentry(settings, "worker")
    if settings.dramatiq_broker == "stub":
        broker = StubBroker(middleware=middleware(settings, StubBackend()))
        broker.emit_after("process_boot")
    else:
        backend = RedisBackend(url=settings.redis_url)
        # Queues live under QUEUE_PREFIX, beside the job states, so that two
        # deployments (or test runs) can share one Redis without meeting.
        broker = RedisBroker(url=settings.redis_url, namespace=settings.queue_prefix, middleware=middleware(settings, backend))
    dramatiq.set_broker(broker)
    return broker


broker = setup_broker(get_settings())
