"""Real servers for integration tests: an S3 endpoint (moto's standalone server), worker processes.

moto's ThreadedMotoServer is a real HTTP S3 endpoint on a free port; the
product talks to it through boto3 like to any S3-compatible storage.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def s3_endpoint():
    """Yields the environment (S3_*) of a fresh S3 endpoint with its bucket created."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {
        "S3_ENDPOINT": f"http://127.0.0.1:{port}",
        "S3_REGION": "eu-west-3",
        "S3_BUCKET": f"campaign-mail-{uuid.uuid4().hex[:8]}",
        "S3_ACCESS_KEY_ID": "test-access-key",
        "S3_SECRET_ACCESS_KEY": "test-secret-key",
    }
    client = boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT"],
        region_name=env["S3_REGION"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=env["S3_BUCKET"], CreateBucketConfiguration={"LocationConstraint": env["S3_REGION"]})
    try:
        yield env
    finally:
        server.stop()


def s3_settings(env: dict[str, str], **more):
    """Settings of the product pointed at an endpoint from s3_endpoint()."""
    from pipeline.settings import Settings

    return Settings(
        storage="s3",
        s3_endpoint=env["S3_ENDPOINT"],
        s3_region=env["S3_REGION"],
        s3_bucket=env["S3_BUCKET"],
        s3_access_key_id=env["S3_ACCESS_KEY_ID"],
        s3_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
        **more,
    )


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def redis_namespace() -> dict[str, str]:
    """A key prefix of its own so that tests sharing one Redis do not see each other's jobs."""
    return {"REDIS_URL": REDIS_URL, "QUEUE_PREFIX": f"campaign-mail-test-{uuid.uuid4().hex[:8]}"}


def flush_namespace(env: dict[str, str]) -> None:
    """Remove every key a test run left under its prefix (queues and job states)."""
    client = redis.Redis.from_url(env["REDIS_URL"])
    for key in client.scan_iter(f"{env['QUEUE_PREFIX']}*"):
        client.delete(key)


def process_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DRAMATIQ_BROKER", "STORAGE", "CAMPAIGN_SOURCE", "MIN_BACKOFF_MS", "MAX_BACKOFF_MS")}
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT)
    return env


@contextmanager
def worker_processes(env: dict[str, str], processes: int = 2, threads: int = 2, queues: tuple[str, ...] = ()):
    """`dramatiq actors` as a separate process, as a deployment runs it."""
    command = [sys.executable, "-m", "dramatiq", "actors", "-p", str(processes), "-t", str(threads)]
    if queues:
        command += ["-Q", *queues]
    log = open(ROOT / "build" / f"worker-{uuid.uuid4().hex[:6]}.log", "w") if (ROOT / "build").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        stop_process(proc)
        if log is not subprocess.DEVNULL:
            log.close()


def wait_until(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not met after {timeout} s")
