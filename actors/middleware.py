"""Marks a job failed when one of its messages fails for good.

Dramatiq only dead-letters such a message; a group's completion callback then
never fires. Without this the job would stay "running" forever.
"""

from __future__ import annotations

import logging

from dramatiq.middleware import Middleware

from pipeline.errors import PermanentError
from pipeline.jobs import now
from pipeline.services import get_services

log = logging.getLogger(__name__)


def failure_reason(actor_name: str, exception: BaseException) -> str:
    if isinstance(exception, PermanentError):
        return str(exception)
    # Unexpected errors: name the stage and the error, cut short.
    return f"{actor_name}: {type(exception).__name__}: {exception}"[:500]


class JobFailures(Middleware):
    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None or not message.failed:
            return
        job_id = message.kwargs.get("job_id") or (message.args[0] if message.args else None)
        if not job_id:
            return
        reason = failure_reason(message.actor_name, exception)
        try:
            jobs = get_services().jobs
            if not jobs.get(job_id).finished:
                jobs.update(job_id, state="failed", error=reason, finished_at=now())
        except Exception:
            log.exception("could not mark job %s failed", job_id)
        log.error("job failed", extra={"job_id": job_id, "stage": message.actor_name, "reason": reason})
