"""A generation's identity and state, kept in Redis and readable by id.

States: queued -> running (with the current stage) -> succeeded (archive key)
or failed (reason); ops may cancel a job that has not ended (cancelled). Progress is counted per render chunk, so a chunk that is
delivered twice is not counted twice. A memory store serves the embedded run,
which must need no server.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone
from typing import Literal, Protocol

from pydantic import BaseModel, Field
from redis import exceptions as redis_errors

from .errors import JobNotFound

State = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINAL_STATES = ("succeeded", "failed", "cancelled")


def now() -> datetime:
    return datetime.now(timezone.utc)


class Job(BaseModel):
    id: str
    campaign_id: str
    establishment_id: str
    state: State = "queued"
    stage: str | None = None
    created_at: datetime = Field(default_factory=now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    letters_total: int | None = None
    letters_done: int = 0
    chunks_total: int | None = None
    archive_name: str | None = None
    archive_key: str | None = None
    error: str | None = None
    retry_of: str | None = None
    failed_message: str | None = None  # the dead-lettered message that failed the job
    warnings: list[str] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


def reusable(latest: Job | None, regenerate: bool) -> bool:
    """Whether a new request for a campaign should get its latest job instead of a new one.

    A queued or running job is always shared (two clicks are one generation);
    a succeeded one unless a new generation is asked for explicitly; a failed
    one never.
    """
    if latest is None or latest.state in ("failed", "cancelled"):
        return False
    return latest.state in ("queued", "running") or not regenerate


class JobStore(Protocol):
    def create(self, campaign_id: str, establishment_id: str) -> Job: ...
    def create_or_get(self, campaign_id: str, establishment_id: str, regenerate: bool = False) -> tuple[Job, bool]:
        """The campaign's current job, or a new one; True when created."""
    def get(self, job_id: str) -> Job: ...
    def update(self, job_id: str, **fields) -> None: ...
    def chunk_done(self, job_id: str, chunk: int, letters: int) -> None: ...
    def warn(self, job_id: str, warning: str) -> None: ...
    def once(self, job_id: str, step: str) -> bool:
        """True the first time a step of a job is claimed, False afterwards."""
    def done_once(self, job_id: str, step: str) -> bool:
        """Whether a step was already recorded as done."""
    def jobs_of_campaign(self, campaign_id: str) -> list[Job]: ...
    def cancel(self, job_id: str, reason: str) -> bool:
        """Mark a job that has not ended cancelled; False when it had already ended."""


_SCALARS = [name for name in Job.model_fields if name not in ("id", "warnings", "letters_done")]


def _encode(fields: dict) -> dict[str, str]:
    out = {}
    for name, value in fields.items():
        if name not in _SCALARS:
            raise ValueError(f"not a job field: {name}")
        out[name] = json.dumps(value.isoformat() if isinstance(value, datetime) else value)
    return out


class RedisJobStore:
    def __init__(self, client, prefix: str = "campaign-mail", ttl_days: int = 30):
        self.redis = client
        self.prefix = prefix
        self.ttl = ttl_days * 86400

    def _key(self, job_id: str, part: str = "") -> str:
        return f"{self.prefix}:job:{job_id}{':' + part if part else ''}"

    def create(self, campaign_id, establishment_id):
        job = Job(id=str(uuid.uuid4()), campaign_id=campaign_id, establishment_id=establishment_id)
        fields = job.model_dump(include=set(_SCALARS))
        pipe = self.redis.pipeline()
        pipe.hset(self._key(job.id), mapping=_encode(fields))
        pipe.expire(self._key(job.id), self.ttl)
        index = f"{self.prefix}:campaign:{campaign_id}:jobs"
        pipe.zadd(index, {job.id: job.created_at.timestamp()})
        pipe.expire(index, self.ttl)
        pipe.execute()
        return job

    def create_or_get(self, campaign_id, establishment_id, regenerate=False):
        # A short lock per campaign makes the look-up and the creation one step
        # for every web process and CLI sharing this Redis.
        with self.redis.lock(f"{self.prefix}:campaign:{campaign_id}:lock", timeout=10, blocking_timeout=10):
            latest = self.latest(campaign_id)
            if reusable(latest, regenerate):
                return latest, False
            return self.create(campaign_id, establishment_id), True

    def latest(self, campaign_id: str) -> Job | None:
        for job_id in self.redis.zrevrange(f"{self.prefix}:campaign:{campaign_id}:jobs", 0, 0):
            try:
                return self.get(job_id.decode())
            except JobNotFound:
                return None
        return None

    def get(self, job_id):
        pipe = self.redis.pipeline()
        pipe.hgetall(self._key(job_id))
        pipe.hvals(self._key(job_id, "chunks"))
        pipe.lrange(self._key(job_id, "warnings"), 0, -1)
        raw, chunks, warnings = pipe.execute()
        if not raw:
            raise JobNotFound(f"no job {job_id}")
        data = {k.decode(): json.loads(v) for k, v in raw.items()}
        return Job(id=job_id, letters_done=sum(int(c) for c in chunks), warnings=[w.decode() for w in warnings], **data)

    def update(self, job_id, **fields):
        if not self.redis.exists(self._key(job_id)):
            raise JobNotFound(f"no job {job_id}")
        self.redis.hset(self._key(job_id), mapping=_encode(fields))

    def cancel(self, job_id, reason):
        key = self._key(job_id)
        # WATCH makes the check and the change one step against a worker finishing the job.
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    if self.get(job_id).finished:
                        return False
                    pipe.multi()
                    pipe.hset(key, mapping=_encode({"state": "cancelled", "error": reason, "finished_at": now()}))
                    pipe.execute()
                    return True
                except redis_errors.WatchError:
                    continue

    def chunk_done(self, job_id, chunk, letters):
        key = self._key(job_id, "chunks")
        pipe = self.redis.pipeline()
        pipe.hset(key, str(chunk), letters)
        pipe.expire(key, self.ttl)
        pipe.execute()

    def warn(self, job_id, warning):
        key = self._key(job_id, "warnings")
        # A redelivered stage repeats its warnings: keep each one once.
        if warning.encode() not in self.redis.lrange(key, 0, -1):
            pipe = self.redis.pipeline()
            pipe.rpush(key, warning)
            pipe.expire(key, self.ttl)
            pipe.execute()

    def once(self, job_id, step):
        return bool(self.redis.set(self._key(job_id, f"once:{step}"), 1, nx=True, ex=self.ttl))

    def done_once(self, job_id, step):
        return bool(self.redis.exists(self._key(job_id, f"once:{step}")))

    def jobs_of_campaign(self, campaign_id):
        ids = self.redis.zrevrange(f"{self.prefix}:campaign:{campaign_id}:jobs", 0, -1)
        jobs = []
        for job_id in ids:
            try:
                jobs.append(self.get(job_id.decode()))
            except JobNotFound:
                continue
        return jobs


class MemoryJobStore:
    def __init__(self):
        self.jobs: dict[str, Job] = {}
        self.chunks: dict[str, dict[int, int]] = {}
        self.claimed: set[tuple[str, str]] = set()
        self.lock = threading.Lock()

    def create(self, campaign_id, establishment_id):
        job = Job(id=str(uuid.uuid4()), campaign_id=campaign_id, establishment_id=establishment_id)
        with self.lock:
            self.jobs[job.id] = job
        return job.model_copy(deep=True)

    def create_or_get(self, campaign_id, establishment_id, regenerate=False):
        jobs = self.jobs_of_campaign(campaign_id)
        latest = jobs[0] if jobs else None
        if reusable(latest, regenerate):
            return latest, False
        return self.create(campaign_id, establishment_id), True

    def get(self, job_id):
        with self.lock:
            if job_id not in self.jobs:
                raise JobNotFound(f"no job {job_id}")
            job = self.jobs[job_id].model_copy(deep=True)
            job.letters_done = sum(self.chunks.get(job_id, {}).values())
            return job

    def update(self, job_id, **fields):
        _encode(fields)  # same validation of names as Redis
        with self.lock:
            if job_id not in self.jobs:
                raise JobNotFound(f"no job {job_id}")
            self.jobs[job_id] = self.jobs[job_id].model_copy(update=fields)

    def cancel(self, job_id, reason):
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise JobNotFound(f"no job {job_id}")
            if job.finished:
                return False
            self.jobs[job_id] = job.model_copy(update={"state": "cancelled", "error": reason, "finished_at": now()})
            return True

    def chunk_done(self, job_id, chunk, letters):
        with self.lock:
            self.chunks.setdefault(job_id, {})[chunk] = letters

    def warn(self, job_id, warning):
        with self.lock:
            job = self.jobs[job_id]
            if warning not in job.warnings:
                job.warnings.append(warning)

    def once(self, job_id, step):
        with self.lock:
            if (job_id, step) in self.claimed:
                return False
            self.claimed.add((job_id, step))
            return True

    def done_once(self, job_id, step):
        return (job_id, step) in self.claimed

    def jobs_of_campaign(self, campaign_id):
        with self.lock:
            ids = [j.id for j in sorted(self.jobs.values(), key=lambda j: j.created_at, reverse=True) if j.campaign_id == campaign_id]
        return [self.get(i) for i in ids]
