"""Marks a job failed when one of its messages fails for good, and revives it when ops requeue that message.

Dramatiq only dead-letters such a message; a group's completion callback then
never fires. Without this the job would stay "running" forever. The failed
message's id is kept on the job: requeued from the dashboard's failed tab, the
same message runs again, the job is running again, and once it succeeds the
group's barrier lets the rest of the chain go on. The other messages of a
failed job still do their work (pipeline/stages.py active_job), so that its
files are there when the failed message succeeds.
"""

from __future__ import annotations

import logging

from dramatiq.middleware import Middleware

from pipeline.errors import PermanentError
from pipeline.jobs import now
from pipeline.observability import report_job_failure
from pipeline.services import get_services

log = logging.getLogger(__name__)


def failure_reason(actor_name: str, exception: BaseException) -> str:
    if isinstance(exception, PermanentError):
        return str(exception)
    # Unexpected errors: name the stage and the error, cut short.
    return f"{actor_name}: {type(exception).__name__}: {exception}"[:500]


def job_id_of(args, kwargs) -> str | None:
    """Every stage actor takes the job id first."""
    return kwargs.get("job_id") or (args[0] if args else None)


class JobFailures(Middleware):
    def before_process_message(self, broker, message):
        job_id = job_id_of(message.args, message.kwargs)
        if not job_id:
            return
        try:
            jobs = get_services().jobs
            job = jobs.get(job_id)
        except Exception:
            return  # the stage itself reports a missing job
        if job.state == "failed" and job.failed_message == message.message_id:
            jobs.update(job_id, state="running", error=None, finished_at=None, failed_message=None)
            log.warning("job resumed: its failed message was requeued", extra={"job_id": job_id, "stage": message.actor_name})

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None or not message.failed:
            return
        job_id = job_id_of(message.args, message.kwargs)
        if not job_id:
            return
        reason = failure_reason(message.actor_name, exception)
        campaign_id, newly_failed = None, True
        try:
            jobs = get_services().jobs
            job = jobs.get(job_id)
            campaign_id, newly_failed = job.campaign_id, not job.finished
            if newly_failed:
                jobs.update(job_id, state="failed", error=reason, finished_at=now(), failed_message=message.message_id)
        except Exception:
            log.exception("could not mark job %s failed", job_id)
        # A warning, not an error: Sentry's logging integration would make an error a second event.
        log.warning("job failed", extra={"job_id": job_id, "campaign_id": campaign_id, "stage": message.actor_name, "reason": reason})
        if newly_failed:  # once per job, not once per failed chunk
            report_job_failure(job_id, campaign_id, message.actor_name, reason)
