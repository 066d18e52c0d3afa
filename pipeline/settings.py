"""Every setting of the service, read from the environment.

Names follow the system this project replaces (REDIS_URL, S3_*, ...). Secrets
are SecretStr so that a repr, a log line or an error never shows them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # Queue
    redis_url: str = "redis://127.0.0.1:6379/0"
    dramatiq_broker: Literal["redis", "stub"] = Field(
        "redis", description="'stub' runs the actors in-process without Redis (tests, embedded run)."
    )
    queue_prefix: str = Field("campaign-mail", description="Prefix of the job-state keys in Redis.")
    job_ttl_days: int = Field(30, ge=1, description="How long a job's state is kept in Redis.")

    # Campaign source
    campaign_source: Literal["api", "postgres", "sample"] = "api"
    api_endpoint: str = "http://127.0.0.1:3001/api"
    auth_secret: SecretStr = SecretStr("")
    api_user_id: str = Field(
        "00000000-0000-0000-0000-000000000000",
        description="userId claim of the service account in the upstream token.",
    )
    api_timeout_seconds: float = 30.0
    database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    sample_campaign_file: Path | None = Field(
        None, description="JSON file of the 'sample' source; the bundled sample when unset."
    )

    # Storage
    storage: Literal["s3", "local"] = "s3"
    local_storage_dir: Path = Path("output")
    s3_endpoint: str | None = None
    s3_region: str = "eu-west-3"
    s3_bucket: str = "campaign-mail"
    s3_access_key_id: SecretStr = SecretStr("")
    s3_secret_access_key: SecretStr = SecretStr("")
    work_prefix: str = Field("jobs/", description="Where intermediate artefacts of a job are kept.")
    output_prefix: str = Field("", description="Prefix of the published ZIP keys (empty: bucket root).")

    # Generation
    render_chunk_size: int = Field(250, ge=1, description="Letters rendered by one message.")
    max_retries: int = Field(4, ge=0)
    min_backoff_ms: int = Field(1000, ge=1)
    max_backoff_ms: int = Field(60_000, ge=1)

    # Web service and ops
    port: int = 8080
    api_token: SecretStr = SecretStr("")
    queue_user: str = "ops"
    queue_password: SecretStr = SecretStr("")
    allow_no_queue_password: bool = Field(False, description="Development only: serve /queues without a password.")
    sentry_dsn: SecretStr = SecretStr("")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
