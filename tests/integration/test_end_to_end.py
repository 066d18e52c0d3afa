"""A seeded campaign through real servers: Redis, PostgreSQL, an S3 endpoint, `dramatiq actors` processes.

What a user would check: the ZIP lands in the bucket, private
(authenticated-read), with one letter per housing that has an owner, each
letter naming its owner at their address, and the recipient list complete.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile

import boto3
import pytest
import redis
import requests
from openpyxl import load_workbook

from pipeline.db.seed import seed
from pipeline.jobs import RedisJobStore
from pipeline.sources.postgres import PostgresSource
from tests.pdf import pdf_pages_text
from tests.pg import fresh_database
from tests.servers import ROOT, flush_namespace, free_port, process_env, redis_namespace, s3_endpoint, wait_until, worker_processes

pytestmark = pytest.mark.integration

AUTHENTICATED_READ = {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Environment of a deployment on real servers, as the README's settings describe it."""
    with fresh_database() as database_url, s3_endpoint() as s3_env:
        env = process_env(
            {
                **s3_env,
                **redis_namespace(),
                "DATABASE_URL": database_url,
                "CAMPAIGN_SOURCE": "postgres",
                "STORAGE": "s3",
                "RENDER_CHUNK_SIZE": "20",
                "dramatiq_prom_port": str(free_port()),
                # Metrics of these workers only, not of every worker this machine ran.
                "dramatiq_prom_db": str(tmp_path_factory.mktemp("prometheus")),
            }
        )
        try:
            yield env
        finally:
            flush_namespace(env)


def s3_client(env):
    return boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT"],
        region_name=env["S3_REGION"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
    )


def test_seeded_campaign_goes_from_enqueue_to_zip_in_the_bucket(deployment):
    seeded = seed(deployment["DATABASE_URL"], 70, seed=7)
    bundle = PostgresSource(deployment["DATABASE_URL"]).fetch(seeded.campaign_id, seeded.establishment_id)
    letters = bundle.letter_housings()
    assert len(letters) == seeded.letter_count < 70  # some housings have no owner

    with worker_processes(deployment, processes=2, threads=2):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "enqueue", seeded.campaign_id, seeded.establishment_id, "--wait", "--timeout", "180"],
            cwd=ROOT, env=deployment, capture_output=True, text=True, timeout=240,
        )
        # The workers' Prometheus metrics count what they did, as ops would scrape them.
        metrics = requests.get(f"http://127.0.0.1:{deployment['dramatiq_prom_port']}/metrics", timeout=10).text
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[####" in done.stderr and f"{len(letters)}/{len(letters)} letters" in done.stderr  # the progress bar
    rendered = re.search(r'dramatiq_messages_total\{actor_name="render_letters",queue_name="letters"\} (\d+)', metrics)
    assert rendered and int(float(rendered.group(1))) == -(-len(letters) // 20)
    location = done.stdout.strip().splitlines()[-1]
    assert location.startswith(f"s3://{deployment['S3_BUCKET']}/") and location.endswith(".zip")
    key = location.split("/", 3)[3]

    jobs = RedisJobStore(redis.Redis.from_url(deployment["REDIS_URL"]), deployment["QUEUE_PREFIX"])
    [job] = jobs.jobs_of_campaign(seeded.campaign_id)
    assert (job.state, job.archive_key, job.letters_done, job.chunks_total) == ("succeeded", key, len(letters), -(-len(letters) // 20))

    s3 = s3_client(deployment)
    head = s3.head_object(Bucket=deployment["S3_BUCKET"], Key=key)
    assert head["ContentType"] == "application/zip" and head["ContentLanguage"] == "fr"
    grants = s3.get_object_acl(Bucket=deployment["S3_BUCKET"], Key=key)["Grants"]
    assert {"Grantee": AUTHENTICATED_READ, "Permission": "READ"} in [
        {"Grantee": {k: g["Grantee"][k] for k in ("Type", "URI") if k in g["Grantee"]}, "Permission": g["Permission"]} for g in grants
    ]
    # Work files are cleaned: only the published archive is left in the bucket.
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=deployment["S3_BUCKET"]).get("Contents", [])] == [key]

    body = s3.get_object(Bucket=deployment["S3_BUCKET"], Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        pdf = archive.read(job.archive_name + ".pdf")
        workbook = load_workbook(io.BytesIO(archive.read(job.archive_name + "-destinataires.xlsx")), read_only=True)

    pages = pdf_pages_text(pdf)
    assert len(pages) == len(letters)
    for page, housing in zip(pages, letters):
        assert housing.owner.full_name in page
        for line in housing.owner.postal_lines():
            assert line in page

    housing_rows = list(workbook["Logements"].iter_rows(min_row=2, values_only=True))
    owner_rows = list(workbook["Propriétaires"].iter_rows(min_row=2, values_only=True))
    assert len(housing_rows) == 70
    assert len(owner_rows) == seeded.owner_count == len(bundle.distinct_owners())
    assert sorted(r[0] for r in owner_rows) == sorted(o.full_name for o in bundle.distinct_owners())
    # The database is told where the archive is, as upstream would be.
    assert PostgresSource(deployment["DATABASE_URL"]).fetch(seeded.campaign_id, seeded.establishment_id).campaign.file == key


def test_missing_campaign_fails_at_once_with_a_reason(deployment):
    with worker_processes(deployment, processes=1, threads=1):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "enqueue", "6f1c1d2e-0000-4000-8000-000000000000",
             "c3f1e8a2-5b7d-4c9e-8f10-2a3b4c5d6e7f", "--wait", "--timeout", "60"],
            cwd=ROOT, env=deployment, capture_output=True, text=True, timeout=120,
        )
    assert done.returncode == 1
    assert "not found" in done.stderr


def cli(env, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_job_manager_lists_shows_cancels_and_retries_jobs_on_redis(deployment):
    seeded = seed(deployment["DATABASE_URL"], 5, seed=3)
    # No worker runs: the job stays queued until it is cancelled.
    queued = cli(deployment, "enqueue", seeded.campaign_id, seeded.establishment_id)
    job_id = queued.stdout.strip()
    assert queued.returncode == 0 and len(job_id) == 36
    assert cli(deployment, "enqueue", seeded.campaign_id, seeded.establishment_id).stdout.strip() == job_id  # no duplicate

    assert cli(deployment, "jobs", "cancel", job_id).returncode == 0
    assert "cancelled" in cli(deployment, "jobs", "list", seeded.campaign_id).stdout
    again = cli(deployment, "jobs", "cancel", job_id)
    assert again.returncode == 1 and "already ended (cancelled)" in again.stderr

    retried = cli(deployment, "jobs", "retry", job_id)
    new_id = retried.stdout.strip()
    assert retried.returncode == 0 and new_id != job_id
    with worker_processes(deployment, processes=1, threads=2):
        jobs = RedisJobStore(redis.Redis.from_url(deployment["REDIS_URL"]), deployment["QUEUE_PREFIX"])
        wait_until(lambda: jobs.get(new_id).finished, timeout=60, what="the retried job to end")
    shown = cli(deployment, "jobs", "show", new_id)
    assert '"state": "succeeded"' in shown.stdout and f'"retry_of": "{job_id}"' in shown.stdout
    listing = cli(deployment, "jobs", "list", seeded.campaign_id).stdout.splitlines()
    assert [line.split()[0] for line in listing] == [new_id, job_id]
    assert cli(deployment, "jobs", "show", "no-such-job").returncode == 2
