"""The embedded run: the whole actor chain in one process, on the bundled sample, no server needed.

It uses the same actors and stages as production, on a StubBroker with an
in-process worker, local-folder storage and an in-memory job store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .progress import ProgressBar, wait_for_job
from .settings import get_settings
from .sources.sample import bundled_sample_path, install_sample_images


def run_embedded(output: Path, sample: Path | None = None, timeout: float = 300) -> Path:
    output = Path(output).resolve()
    sample = Path(sample or bundled_sample_path()).resolve()
    os.environ.update(
        DRAMATIQ_BROKER="stub",
        STORAGE="local",
        LOCAL_STORAGE_DIR=str(output),
        CAMPAIGN_SOURCE="sample",
        SAMPLE_CAMPAIGN_FILE=str(sample),
    )
    get_settings.cache_clear()

    from dramatiq import Worker

    import actors
    from pipeline.services import get_services

    bundle = json.loads(sample.read_text(encoding="utf-8"))
    images = install_sample_images(get_services().storage)
    worker = Worker(actors.broker, worker_timeout=100, worker_threads=2)
    worker.start()
    try:
        job, _ = actors.enqueue(bundle["campaign"]["id"], bundle["establishmentId"])
        job = wait_for_job(get_services().jobs, job.id, timeout=timeout, on_change=ProgressBar())
    finally:
        worker.stop()
    if job.state != "succeeded":
        raise RuntimeError(f"the embedded run failed: {job.error}")
    for warning in job.warnings:
        print(f"warning: {warning}")
    for key in images:  # the output folder keeps only the ZIP
        get_services().storage.delete_prefix(key)
    return get_services().storage.path(job.archive_key)
