"""The generation's actors: thin wrappers that move job ids and keys between stages.

    fetch_campaign ──> group(render_letters × chunks, build_spreadsheet)
                         └─ on completion ─> archive_letters ─> upload_archive ─> notify_campaign

A group cannot sit inside a pipeline, so fetch_campaign builds the group at
run time (only then is the number of chunks known) and attaches the rest of
the chain as its completion callback. Messages carry job ids and slice
bounds; artefacts travel through storage.
"""

from __future__ import annotations

import logging
from functools import wraps

import dramatiq
from dramatiq import group, pipeline

from pipeline import stages
from pipeline.errors import PermanentError
from pipeline.jobs import now
from pipeline.logs import log_context
from pipeline.services import get_services

from .middleware import job_id_of

log = logging.getLogger(__name__)

CAMPAIGNS_QUEUE = "campaigns"
LETTERS_QUEUE = "letters"


def stage_actor(queue_name: str, **options):
    """An actor that fails at once on a PermanentError and does nothing for an ended job."""

    def decorate(fn):
        @wraps(fn)
        def run(*args, **kwargs):
            # Every log line and Sentry event of the stage carries its job and stage.
            with log_context(job_id=job_id_of(args, kwargs), stage=fn.__name__):
                try:
                    return fn(*args, **kwargs)
                except stages.JobOver as over:
                    log.info("%s skipped: %s", fn.__name__, over)
                    return None

        return dramatiq.actor(run, queue_name=queue_name, throws=(PermanentError,), **options)

    return decorate


@stage_actor(CAMPAIGNS_QUEUE)
def fetch_campaign(job_id: str) -> None:
    services = get_services()
    slices = stages.fetch(services, job_id)
    if services.jobs.done_once(job_id, "fan-out"):
        return  # a redelivery after the fan-out: the chain is already on its way
    finish = pipeline(
        [
            archive_letters.message_with_options(args=(job_id,), pipe_ignore=True),
            upload_archive.message_with_options(args=(job_id,), pipe_ignore=True),
            notify_campaign.message_with_options(args=(job_id,), pipe_ignore=True),
        ]
    )
    children = [render_letters.message(job_id, chunk, start, stop) for chunk, (start, stop) in enumerate(slices)]
    children.append(build_spreadsheet.message(job_id))
    fan_out = group(children)
    fan_out.add_completion_callback(finish.messages[0])
    fan_out.run()
    services.jobs.once(job_id, "fan-out")


@stage_actor(LETTERS_QUEUE)
def render_letters(job_id: str, chunk: int, start: int, stop: int) -> None:
    stages.render_letters(get_services(), job_id, chunk, start, stop)


@stage_actor(CAMPAIGNS_QUEUE)
def build_spreadsheet(job_id: str) -> None:
    stages.build_spreadsheet(get_services(), job_id)


@stage_actor(CAMPAIGNS_QUEUE)
def archive_letters(job_id: str) -> None:
    stages.archive(get_services(), job_id)


@stage_actor(CAMPAIGNS_QUEUE)
def upload_archive(job_id: str) -> None:
    stages.upload(get_services(), job_id)


@stage_actor(CAMPAIGNS_QUEUE)
def notify_campaign(job_id: str) -> None:
    stages.notify(get_services(), job_id)


def enqueue(campaign_id: str, establishment_id: str, regenerate: bool = False):
    """Start a generation of a campaign, unless one is under way (or done, without `regenerate`).

    Returns (job, created): the new job, or the campaign's job that answers instead.
    """
    jobs = get_services().jobs
    job, created = jobs.create_or_get(campaign_id, establishment_id, regenerate)
    if created:
        try:
            fetch_campaign.send(job.id)
        except Exception:
            # Otherwise the job would stay queued forever and answer every later request.
            jobs.update(job.id, state="failed", error="the job could not be queued", finished_at=now())
            raise
    return job, created


def retry(job_id: str):
    """Generate again the campaign of a failed or cancelled job; returns (job, created)."""
    jobs = get_services().jobs
    old = jobs.get(job_id)
    if old.state not in ("failed", "cancelled"):
        raise ValueError(f"job {job_id} is {old.state}: only a failed or cancelled job can be retried")
    job, created = enqueue(old.campaign_id, old.establishment_id, regenerate=True)
    if created:
        jobs.update(job.id, retry_of=old.id)
        job = jobs.get(job.id)
    return job, created
