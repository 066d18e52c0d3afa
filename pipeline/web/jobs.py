"""The queue's API: start a campaign's generation, follow a job, list a campaign's jobs."""

from __future__ import annotations

import json
import re
from datetime import datetime

import falcon

from pipeline.errors import JobNotFound
from pipeline.jobs import Job, now
from pipeline.services import Services

from .auth import require_token

DOWNLOAD_URL_SECONDS = 3600
MAX_BODY_BYTES = 64 * 1024
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def bad_request(description: str) -> falcon.HTTPBadRequest:
    return falcon.HTTPBadRequest(title="Invalid request", description=description)


def as_uuid(value, name: str) -> str:
    # Lower case: the upstream's ids are, and the job store's keys are case-sensitive.
    # A strict pattern (fullmatch: "$" would let a trailing newline in) also keeps ':' and '*' out of Redis keys.
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise bad_request(f"{name} must be a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6.")
    return value.lower()


def read_json_object(req: falcon.Request) -> dict:
    media_type = (req.content_type or "application/json").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise falcon.HTTPUnsupportedMediaType(title="Unsupported media type", description="The body must be JSON (application/json).")
    if req.content_length is not None and req.content_length > MAX_BODY_BYTES:
        raise falcon.HTTPContentTooLarge(title="Body too large", description=f"The body must be at most {MAX_BODY_BYTES} bytes.")
    raw = req.bounded_stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise falcon.HTTPContentTooLarge(title="Body too large", description=f"The body must be at most {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        raise bad_request("The body is empty; send a JSON object.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # bad UTF-8, bad JSON, too many digits, too deep
        raise bad_request(f"The body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise bad_request(f"The body must be a JSON object, not {type(body).__name__}.")
    return body


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_view(job: Job, req: falcon.Request, services: Services) -> dict:
    end = job.finished_at or (now() if job.state == "running" else None)
    view = {
        "id": job.id,
        "campaignId": job.campaign_id,
        "establishmentId": job.establishment_id,
        "state": job.state,
        "stage": job.stage,
        "progress": {"done": job.letters_done, "total": job.letters_total},
        "timings": {
            "createdAt": _iso(job.created_at),
            "startedAt": _iso(job.started_at),
            "finishedAt": _iso(job.finished_at),
            "durationSeconds": round((end - job.started_at).total_seconds(), 3) if job.started_at and end else None,
        },
        "warnings": job.warnings,
        "retryOf": job.retry_of,
        "statusUrl": f"{req.forwarded_prefix}/jobs/{job.id}",
    }
    if job.state == "succeeded" and job.archive_key:
        view["archiveKey"] = job.archive_key
        view["archiveName"] = job.archive_name
        presign = getattr(services.storage, "presigned_url", None)
        if presign is not None:
            view["downloadUrl"] = presign(job.archive_key, expires_in=DOWNLOAD_URL_SECONDS)
        else:
            view["archivePath"] = services.storage.describe(job.archive_key)
    if job.state in ("failed", "cancelled"):
        view["error"] = job.error
    return view


@falcon.before(require_token)
class JobsResource:
    def __init__(self, services: Services, enqueue):
        # actors.enqueue, passed in: importing `actors` creates the broker, which create_app does in its own time.
        self.enqueue = enqueue
        self.services = services
        self.settings = services.settings

    def on_post(self, req, resp):
        body = read_json_object(req)
        campaign_id = as_uuid(body.get("campaignId"), "campaignId")
        establishment_id = as_uuid(body.get("establishmentId"), "establishmentId")
        regenerate = body.get("regenerate", False)
        if not isinstance(regenerate, bool):
            raise bad_request("regenerate must be true or false.")
        job, created = self.enqueue(campaign_id, establishment_id, regenerate=regenerate)
        view = job_view(job, req, self.services)
        resp.media = {**view, "created": created}
        if created:
            resp.status = falcon.HTTP_202
            resp.location = view["statusUrl"]


@falcon.before(require_token)
class JobResource:
    def __init__(self, services: Services):
        self.services = services
        self.settings = services.settings

    def on_get(self, req, resp, job_id):
        job_id = as_uuid(job_id, "job id")
        try:
            job = self.services.jobs.get(job_id)
        except JobNotFound:
            raise falcon.HTTPNotFound(title="Unknown job", description=f"There is no job {job_id} (or it has expired).") from None
        resp.media = job_view(job, req, self.services)


@falcon.before(require_token)
class CampaignJobsResource:
    def __init__(self, services: Services):
        self.services = services
        self.settings = services.settings

    def on_get(self, req, resp, campaign_id):
        campaign_id = as_uuid(campaign_id, "campaign id")
        jobs = self.services.jobs.jobs_of_campaign(campaign_id)
        resp.media = {"campaignId": campaign_id, "jobs": [job_view(job, req, self.services) for job in jobs]}
