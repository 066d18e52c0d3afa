"""The parts a stage talks to (storage, campaign source, job store), built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from .jobs import JobStore, MemoryJobStore, RedisJobStore
from .settings import Settings, get_settings
from .sources import CampaignSource, make_source
from .storage import Storage, make_storage


@dataclass
class Services:
    settings: Settings
    storage: Storage
    source: CampaignSource
    jobs: JobStore


def build_services(settings: Settings) -> Services:
    if settings.dramatiq_broker == "stub":
        # The stub broker runs in one process: its jobs need no Redis either.
        jobs: JobStore = MemoryJobStore()
    else:
        import redis

        jobs = RedisJobStore(redis.Redis.from_url(settings.redis_url), settings.queue_prefix, settings.job_ttl_days)
    return Services(settings, make_storage(settings), make_source(settings), jobs)


_current: Services | None = None


def get_services() -> Services:
    global _current
    if _current is None:
        _current = build_services(get_settings())
    return _current


def use_services(services: Services | None) -> None:
    """Replace the process's services (tests, the embedded run)."""
    global _current
    _current = services
