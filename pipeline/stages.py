"""The generation's stages, as plain functions of (services, job id, ...).

Each stage reads its inputs from storage and writes its outputs under the
job's work prefix, with keys that depend only on the job: running a stage
twice rewrites the same keys, so a redelivered message does no harm. Only the
notice to the campaign's owner is guarded to happen once.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from .archive import merge_pdfs, write_zip
from .errors import PermanentError
from .images import load_images
from .jobs import Job, now
from .letters import LetterTemplate, render_letters as lay_out_letters
from .models import CampaignBundle
from .naming import archive_name, pdf_name, xlsx_name, zip_name
from .services import Services
from .spreadsheet import build_spreadsheet as write_spreadsheet
from .storage import ZIP_CONTENT_TYPE, ObjectMissing

log = logging.getLogger(__name__)

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def work_key(services: Services, job_id: str, name: str) -> str:
    return f"{services.settings.work_prefix}{job_id}/{name}"


def chunk_key(services: Services, job_id: str, chunk: int) -> str:
    return work_key(services, job_id, f"letters/{chunk:05d}.pdf")


def load_bundle(services: Services, job_id: str) -> CampaignBundle:
    try:
        data = services.storage.get_bytes(work_key(services, job_id, "campaign.json"))
    except ObjectMissing:
        raise PermanentError(f"job {job_id}: the fetched campaign is missing from storage") from None
    return CampaignBundle.model_validate_json(data)


def chunks(letters: int, size: int) -> list[tuple[int, int]]:
    """Slices [start, stop) of the letters, one per render message."""
    return [(start, min(start + size, letters)) for start in range(0, letters, size)]


class JobOver(Exception):
    """The job succeeded or was cancelled (a late redelivery): nothing to do."""


def active_job(services: Services, job_id: str) -> Job:
    job = services.jobs.get(job_id)
    # A failed job's other messages still do their work: when ops requeue the
    # message that failed, the group completes only if its siblings produced
    # their files (a skipped sibling would count as done without them).
    if job.state in ("succeeded", "cancelled"):
        raise JobOver(f"job {job_id} is already {job.state}")
    return job


def fetch(services: Services, job_id: str) -> list[tuple[int, int]]:
    """Load the campaign from its source, store it for the next stages; returns the render slices."""
    job = active_job(services, job_id)
    # A failed job stays failed: only the requeue of its failed message revives it (actors/middleware.py).
    state = "failed" if job.state == "failed" else "running"
    services.jobs.update(job_id, state=state, stage="fetch", started_at=job.started_at or now())
    bundle = services.source.fetch(job.campaign_id, job.establishment_id)
    if bundle.campaign.id != job.campaign_id:
        raise PermanentError(f"the source answered campaign {bundle.campaign.id} for {job.campaign_id}")
    letters = len(bundle.letter_housings())
    if letters == 0:
        raise PermanentError(f"campaign {job.campaign_id} has no housing with an owner: no letter to write")
    services.storage.put_bytes(work_key(services, job_id, "campaign.json"), bundle.model_dump_json(by_alias=True).encode(), "application/json")
    slices = chunks(letters, services.settings.render_chunk_size)
    # The name is fixed once per job so that a rerun publishes the same key.
    name = job.archive_name or archive_name(bundle.campaign.title, job.created_at)
    services.jobs.update(job_id, letters_total=letters, chunks_total=len(slices), archive_name=name, stage="render")
    return slices


def render_letters(services: Services, job_id: str, chunk: int, start: int, stop: int) -> str:
    """Render letters [start, stop) of the campaign into one chunk PDF; returns its key."""
    active_job(services, job_id)
    bundle = load_bundle(services, job_id)
    images = load_images(services.storage, bundle)
    template = LetterTemplate.build(bundle, images.images)
    housings = bundle.letter_housings()[start:stop]
    key = chunk_key(services, job_id, chunk)
    with tempfile.TemporaryDirectory(prefix="campaign-mail-") as tmp:
        path = Path(tmp) / "letters.pdf"
        # Progress within the chunk; counted per chunk, so a redelivery never counts twice.
        lay_out_letters(template, housings, path, on_progress=lambda done: services.jobs.chunk_done(job_id, chunk, done))
        services.storage.put_file(key, path, PDF)
    # Every chunk meets the same images and variables: the store keeps each warning once.
    for warning in images.warnings + template.warnings:
        services.jobs.warn(job_id, warning)
    services.jobs.chunk_done(job_id, chunk, len(housings))
    return key


def build_spreadsheet(services: Services, job_id: str) -> str:
    active_job(services, job_id)
    bundle = load_bundle(services, job_id)
    key = work_key(services, job_id, "recipients.xlsx")
    with tempfile.TemporaryDirectory(prefix="campaign-mail-") as tmp:
        path = Path(tmp) / "recipients.xlsx"
        write_spreadsheet(bundle, path)
        services.storage.put_file(key, path, XLSX)
    return key


def archive(services: Services, job_id: str) -> str:
    """Merge the chunk PDFs and zip them with the spreadsheet; returns the work key of the ZIP."""
    job = active_job(services, job_id)
    services.jobs.update(job_id, stage="archive")
    with tempfile.TemporaryDirectory(prefix="campaign-mail-") as tmp:
        tmp = Path(tmp)
        parts = []
        for chunk in range(job.chunks_total or 0):
            part = tmp / f"{chunk:05d}.pdf"
            try:
                services.storage.download(chunk_key(services, job_id, chunk), part)
            except ObjectMissing:
                raise PermanentError(f"job {job_id}: letters of chunk {chunk} are missing from storage") from None
            parts.append(part)
        letters_pdf = tmp / "letters.pdf"
        merge_pdfs(parts, letters_pdf)
        for part in parts:
            part.unlink()
        xlsx = tmp / "recipients.xlsx"
        services.storage.download(work_key(services, job_id, "recipients.xlsx"), xlsx)
        zipped = tmp / "archive.zip"
        write_zip(zipped, {pdf_name(job.archive_name): letters_pdf, xlsx_name(job.archive_name): xlsx})
        key = work_key(services, job_id, "archive.zip")
        services.storage.put_file(key, zipped, ZIP_CONTENT_TYPE)
    return key


def upload(services: Services, job_id: str) -> str:
    """Publish the ZIP under its reference name; returns the public key."""
    job = active_job(services, job_id)
    services.jobs.update(job_id, stage="upload")
    key = services.settings.output_prefix + zip_name(job.archive_name)
    if job.archive_key == key and services.storage.exists(key):
        return key
    services.storage.publish(work_key(services, job_id, "archive.zip"), key)
    services.jobs.update(job_id, archive_key=key)
    return key


def notify(services: Services, job_id: str) -> Job:
    """Tell the campaign's owner where the ZIP is (once), close the job and clean its work files."""
    job = active_job(services, job_id)
    if job.archive_key is None:
        raise PermanentError(f"job {job_id}: nothing was uploaded")
    services.jobs.update(job_id, stage="notify")
    if not services.jobs.done_once(job_id, "notify"):
        bundle = load_bundle(services, job_id)
        services.source.record_file(bundle, job.archive_key)
        services.jobs.once(job_id, "notify")
    services.jobs.update(job_id, state="succeeded", stage=None, finished_at=now())
    services.storage.delete_prefix(work_key(services, job_id, ""))
    return services.jobs.get(job_id)
