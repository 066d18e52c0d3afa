"""`GET /`: real Redis, a fresh PostgreSQL database and moto's S3 when up; a fast 503 naming the culprit when not."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import pytest
from falcon.testing import TestClient

import pipeline
from pipeline.settings import Settings
from pipeline.web.app import create_app
from pipeline.web.health import Checks, short_error

from .pg import SERVER_URL, fresh_database
from .servers import REDIS_URL, free_port, s3_endpoint, s3_settings


def health(services, settings: Settings):
    services.settings = settings
    client = TestClient(create_app(services, dashboard=False))
    start = time.monotonic()
    response = client.simulate_get("/")
    return response, time.monotonic() - start


@contextmanager
def silent_server():
    """Accepts TCP connections (in the kernel's backlog) and never answers: a hung dependency."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def test_health_is_ok_with_real_redis_postgres_and_s3(services):
    with s3_endpoint() as env, fresh_database(migrated=False) as database_url:
        response, _ = health(services, s3_settings(env, redis_url=REDIS_URL, database_url=database_url))
    assert response.status_code == 200, response.text
    body = response.json
    assert body["status"] == "ok" and body["version"] == pipeline.__version__
    assert set(body["checks"]) == {"redis", "postgres", "s3"}
    for check in body["checks"].values():
        assert check["status"] == "ok" and check["ms"] >= 0


def test_health_names_redis_when_it_is_down_and_answers_fast(services, tmp_path):
    settings = Settings(storage="local", local_storage_dir=tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0", database_url=SERVER_URL)
    response, elapsed = health(services, settings)
    assert elapsed < 3
    assert response.status_code == 503
    body = response.json
    assert body["status"] == "down" and body["down"] == ["redis"]
    assert body["checks"]["redis"]["status"] == "down" and body["checks"]["redis"]["error"]
    assert body["checks"]["postgres"]["status"] == "ok" and body["checks"]["storage"]["status"] == "ok"


def test_health_names_s3_when_the_bucket_is_missing(services):
    with s3_endpoint() as env:
        settings = s3_settings({**env, "S3_BUCKET": "no-such-bucket"}, redis_url=REDIS_URL, database_url=SERVER_URL)
        response, _ = health(services, settings)
    assert response.status_code == 503 and response.json["down"] == ["s3"]


def test_health_answers_within_3_seconds_when_every_dependency_hangs(services):
    with silent_server() as port:
        settings = s3_settings(
            {"S3_ENDPOINT": f"http://127.0.0.1:{port}", "S3_REGION": "eu-west-3", "S3_BUCKET": "b-1", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s"},
            redis_url=f"redis://127.0.0.1:{port}/0",
            database_url=f"postgresql://postgres@127.0.0.1:{port}/test",
        )
        response, elapsed = health(services, settings)
    assert elapsed < 3, f"health took {elapsed:.1f} s"
    assert response.status_code == 503
    assert response.json["down"] == ["postgres", "redis", "s3"]


def test_a_check_that_never_returns_is_reported_as_timed_out(services, tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(Checks, "check_postgres", lambda self: release.wait(30))
    try:
        response, elapsed = health(services, Settings(storage="local", local_storage_dir=tmp_path, redis_url=REDIS_URL))
    finally:
        release.set()
    assert elapsed < 3
    assert response.status_code == 503 and response.json["down"] == ["postgres"]
    assert response.json["checks"]["postgres"]["error"] == "timed out"


def test_health_errors_never_show_passwords(services, tmp_path):
    closed = free_port()
    settings = Settings(
        storage="local",
        local_storage_dir=tmp_path,
        redis_url=f"redis://:redis-pass-123@127.0.0.1:{closed}/0",
        database_url=f"postgresql://postgres:pg-pass-456@127.0.0.1:{closed}/test",
    )
    response, _ = health(services, settings)
    assert response.status_code == 503 and response.json["down"] == ["postgres", "redis"]
    assert "pass-" not in response.text


@pytest.mark.parametrize(
    "message, known_secrets",
    [
        ("could not connect to postgresql://u:hunter2@db:5432/x", []),
        ('missing "=" after "postgresql//u:hunter2@db/x" in connection info string', []),
        ("bad conninfo: host=db password=hunter2 user=u", []),
        ("token hunter2 rejected", ["hunter2"]),
    ],
)
def test_short_error_scrubs_credentials(message, known_secrets):
    text = short_error(ValueError(message + "\nsecond line"), known_secrets)
    assert "hunter2" not in text and "second line" not in text and text.startswith("ValueError: ")


def test_health_turns_503_when_a_running_redis_is_stopped(services):
    """As ops would see it: Redis up, then stopped under the running app."""
    import shutil
    import subprocess

    from .servers import stop_process, wait_until

    port = free_port()
    redis_server = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        with s3_endpoint() as env:
            services.settings = s3_settings(env, redis_url=f"redis://127.0.0.1:{port}/0", database_url=SERVER_URL)
            client = TestClient(create_app(services, dashboard=False))
            wait_until(lambda: client.simulate_get("/").status_code == 200, timeout=10, what="health 200 with redis up")
            stop_process(redis_server)
            start = time.monotonic()
            response = client.simulate_get("/")
            assert time.monotonic() - start < 3
            assert response.status_code == 503 and response.json["down"] == ["redis"]
    finally:
        stop_process(redis_server)
