"""Unit tests run the actors on a StubBroker with an in-process worker.

The broker is chosen when `actors` is first imported, so the environment is
set here, before any test module imports it. Integration tests start their
own worker processes with the real settings.
"""

from __future__ import annotations

import os

os.environ["DRAMATIQ_BROKER"] = "stub"
os.environ.setdefault("STORAGE", "local")
os.environ.setdefault("CAMPAIGN_SOURCE", "sample")
# Retries in unit tests wait milliseconds, not seconds.
os.environ["MIN_BACKOFF_MS"] = "10"
os.environ["MAX_BACKOFF_MS"] = "50"

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import dramatiq  # noqa: E402
import pytest  # noqa: E402

from pipeline.jobs import MemoryJobStore  # noqa: E402
from pipeline.services import Services, use_services  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.sources.sample import SampleSource, bundled_sample_path, install_sample_images  # noqa: E402
from pipeline.storage import LocalStorage  # noqa: E402


@pytest.fixture
def sample_bundle() -> dict:
    return json.loads(bundled_sample_path().read_text(encoding="utf-8"))


class RecordingSource:
    """Wraps a source to count its calls; may be told to fail first."""

    def __init__(self, inner, fail_fetch: list[Exception] | None = None):
        self.inner = inner
        self.fetches = 0
        self.recorded: list[tuple[str, str]] = []
        self.fail_fetch = list(fail_fetch or [])

    def fetch(self, campaign_id, establishment_id):
        self.fetches += 1
        if self.fail_fetch:
            raise self.fail_fetch.pop(0)
        return self.inner.fetch(campaign_id, establishment_id)

    def record_file(self, bundle, file_key):
        self.recorded.append((bundle.campaign.id, file_key))


@pytest.fixture
def services(tmp_path) -> Services:
    settings = Settings(
        dramatiq_broker="stub",
        storage="local",
        local_storage_dir=tmp_path / "storage",
        campaign_source="sample",
        render_chunk_size=2,
        min_backoff_ms=10,
        max_backoff_ms=50,
    )
    services = Services(settings, LocalStorage(settings.local_storage_dir), RecordingSource(SampleSource()), MemoryJobStore())
    install_sample_images(services.storage)
    use_services(services)
    yield services
    use_services(None)


@pytest.fixture
def stub_broker():
    import actors

    broker = actors.broker
    broker.flush_all()
    yield broker
    broker.flush_all()


@pytest.fixture
def stub_worker(stub_broker):
    worker = dramatiq.Worker(stub_broker, worker_timeout=100, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()


def storage_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
