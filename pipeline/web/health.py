"""`GET /`: whether the service's dependencies answer, for load balancers and ops.

The checks run in parallel, each with a timeout of its own, and the answer
waits for them at most DEADLINE seconds: a dependency that hangs makes the
check fail fast instead of making the health check itself time out.
Errors are cut short and scrubbed: a health answer is public.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from pathlib import Path
from urllib.parse import urlsplit

import falcon
import psycopg
import redis

import pipeline
from pipeline.settings import Settings
from pipeline.storage import make_s3_client

TIMEOUT = 1.0
# libpq counts connect_timeout in whole seconds, at least 2.
PG_CONNECT_TIMEOUT = 2
DEADLINE = 2.5
# user:password@ in a URL, even a malformed one that urlsplit cannot read.
_CREDENTIALS_IN_URL = re.compile(r"[^\s/@\"']*:[^\s/@\"']*@")
_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)\S+", re.IGNORECASE)


def short_error(error: BaseException, secrets: list[str]) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = _PASSWORD_PARAM.sub(r"\1***", _CREDENTIALS_IN_URL.sub("***@", text))
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return f"{type(error).__name__}: {text}"[:200] if text else type(error).__name__


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class Checks:
    """The dependencies of one deployment, with clients that give up quickly."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.redis = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
        self._s3 = None

    @property
    def s3(self):
        if self._s3 is None:
            # One attempt with short timeouts: health must answer fast, not retry.
            self._s3 = make_s3_client(self.settings, timeout=TIMEOUT, attempts=0)
        return self._s3

    def all(self) -> dict:
        checks = {"redis": self.check_redis, "postgres": self.check_postgres}
        if self.settings.storage == "s3":
            checks["s3"] = self.check_s3
        else:
            checks["storage"] = self.check_local_storage
        return checks

    def check_redis(self) -> None:
        self.redis.ping()

    def check_postgres(self) -> None:
        with psycopg.connect(self.settings.database_url, connect_timeout=PG_CONNECT_TIMEOUT) as conn:
            conn.execute("SELECT 1").fetchone()

    def check_s3(self) -> None:
        self.s3.head_bucket(Bucket=self.settings.s3_bucket)

    def check_local_storage(self) -> None:
        # The folder is created on first write: its nearest existing parent must be writable.
        path = Path(self.settings.local_storage_dir).resolve()
        while not path.exists():
            path = path.parent
        if not os.access(path, os.W_OK):
            raise PermissionError(f"{path} is not writable")

    def secrets(self) -> list[str]:
        s = self.settings
        passwords = [_url_password(s.redis_url), _url_password(s.database_url)]
        return passwords + [s.s3_secret_access_key.get_secret_value(), s.api_token.get_secret_value(), s.queue_password.get_secret_value()]

    def run(self) -> dict[str, dict]:
        def timed(check):
            start = time.monotonic()
            try:
                check()
                return {"status": "ok", "ms": round((time.monotonic() - start) * 1000, 1)}
            except Exception as error:
                return {"status": "down", "ms": round((time.monotonic() - start) * 1000, 1), "error": short_error(error, self.secrets())}

        checks = self.all()
        pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
        futures = {name: pool.submit(timed, check) for name, check in checks.items()}
        wait_for(futures.values(), timeout=DEADLINE)
        # Do not wait for a hung check: its own timeout ends its thread later.
        pool.shutdown(wait=False, cancel_futures=True)
        return {
            name: future.result() if future.done() else {"status": "down", "ms": DEADLINE * 1000, "error": "timed out"}
            for name, future in futures.items()
        }


class HealthResource:
    def __init__(self, settings: Settings):
        self.checks = Checks(settings)

    def on_get(self, req, resp):
        results = self.checks.run()
        down = sorted(name for name, result in results.items() if result["status"] != "ok")
        resp.media = {"status": "down" if down else "ok", "version": pipeline.__version__, "checks": results}
        if down:
            resp.media["down"] = down
            resp.status = falcon.HTTP_503
