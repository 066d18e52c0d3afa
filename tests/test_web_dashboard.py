"""The queue dashboard at /queues: basic auth around it, the project's queues in it, no start without a password."""

from __future__ import annotations

import base64
import logging
import subprocess
import sys

import pytest
import requests
from dramatiq.brokers.redis import RedisBroker
from falcon.testing import TestClient
from pydantic import SecretStr

from pipeline.web.app import create_app

from .servers import ROOT, flush_namespace, free_port, process_env, redis_namespace, stop_process, wait_until

USER, PASSWORD = "ops", "s3cret-pässword"


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def redis_broker():
    """A RedisBroker of its own: unit tests run the actors on the StubBroker, which has no dashboard."""
    env = redis_namespace()
    broker = RedisBroker(url=env["REDIS_URL"], namespace=env["QUEUE_PREFIX"], middleware=[])
    yield broker
    broker.close()
    flush_namespace(env)


@pytest.fixture
def dashboard_services(services):
    services.settings = services.settings.model_copy(update={"queue_user": USER, "queue_password": SecretStr(PASSWORD)})
    return services


@pytest.fixture
def client(dashboard_services, redis_broker) -> TestClient:
    return TestClient(create_app(dashboard_services, broker=redis_broker))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(USER, "wrong"),
        basic("root", PASSWORD),
        basic(USER, PASSWORD + "x"),
        basic(USER, ""),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer " + PASSWORD},
        {"Authorization": "Basic é"},
    ],
    ids=["missing", "wrong password", "wrong user", "longer password", "empty password", "bad base64", "no colon", "bearer", "non-ascii"],
)
@pytest.mark.parametrize("path", ["/queues", "/queues/", "/queues/queues/campaigns", "/queues/delete-message"])
def test_dashboard_without_the_right_credentials_is_401(client, headers, path):
    response = client.simulate_get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="campaign-mail queues"'
    assert response.json["title"] == "Authentication required"
    assert "campaigns" not in response.text


def test_dashboard_with_the_right_credentials_lists_the_project_queues(client):
    response = client.simulate_get("/queues", headers=basic(USER, PASSWORD))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    for queue in ("campaigns", "letters"):
        assert f"/queues/queues/{queue}" in response.text

    queue_page = client.simulate_get("/queues/queues/campaigns", headers=basic(USER, PASSWORD))
    assert queue_page.status_code == 200


def test_the_dashboard_leaves_the_api_to_falcon(client):
    assert client.simulate_get("/openapi.json").status_code == 200
    assert client.simulate_get("/queuesx").status_code == 404


def test_create_app_refuses_to_start_without_a_queue_password(services, monkeypatch):
    services.settings = services.settings.model_copy(update={"queue_password": SecretStr("")})
    with pytest.raises(RuntimeError, match="QUEUE_PASSWORD"):
        create_app(services)


def test_without_a_dashboard_no_queue_password_is_needed(services, monkeypatch):
    services.settings = services.settings.model_copy(update={"queue_password": SecretStr("")})
    client = TestClient(create_app(services, dashboard=False))
    assert client.simulate_get("/queues").status_code == 404


def test_the_development_flag_opens_the_dashboard_with_a_warning(services, redis_broker, monkeypatch, caplog):
    services.settings = services.settings.model_copy(update={"queue_password": SecretStr(""), "allow_no_queue_password": True})
    with caplog.at_level(logging.WARNING):
        client = TestClient(create_app(services, broker=redis_broker))
    assert any("open to anyone" in r.getMessage() for r in caplog.records)
    assert client.simulate_get("/queues").status_code == 200


def test_with_the_stub_broker_the_dashboard_is_unavailable_but_still_guarded(dashboard_services):
    client = TestClient(create_app(dashboard_services))  # actors.broker is the StubBroker here
    assert client.simulate_get("/queues").status_code == 401
    response = client.simulate_get("/queues", headers=basic(USER, PASSWORD))
    assert response.status_code == 503 and "Redis broker" in response.json["description"]


@pytest.mark.integration
def test_gunicorn_serves_the_api_and_the_dashboard_with_the_real_broker(tmp_path):
    """The deployment's command line, in a process of its own with DRAMATIQ_BROKER=redis.

    Unlike the in-process tests, the queues listed here are declared only by
    the web process importing `actors`.
    """
    namespace = redis_namespace()
    port = free_port()
    env = process_env(
        {
            **namespace,
            "DRAMATIQ_BROKER": "redis",
            "STORAGE": "local",
            "LOCAL_STORAGE_DIR": str(tmp_path),
            "API_TOKEN": "gunicorn-token",
            "QUEUE_USER": USER,
            "QUEUE_PASSWORD": PASSWORD,
            "SENTRY_DSN": "",
        }
    )
    # As the Procfile runs it, on a local port.
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-", "pipeline.web.app:create_app()"]
    log = tmp_path / "gunicorn.log"
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def up():
            if proc.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                return requests.get(base + "/openapi.json", timeout=2).ok
            except (requests.ConnectionError, requests.Timeout):
                # The master listens before its worker has loaded the app: a connection may wait in the backlog.
                return False

        wait_until(up, timeout=30, what="gunicorn")
        created = requests.post(
            base + "/jobs",
            json={"campaignId": "0b5c4a2e-1111-4c4c-8888-000000000001", "establishmentId": "0b5c4a2e-2222-4c4c-8888-000000000002"},
            headers={"Authorization": "Bearer gunicorn-token"},
            timeout=10,
        )
        assert created.status_code == 202, created.text
        assert created.headers["Location"] == f"{base}/jobs/{created.json()['id']}"
        assert requests.get(created.headers["Location"], headers={"Authorization": "Bearer gunicorn-token"}, timeout=10).json()["state"] == "queued"

        assert requests.get(base + "/queues", timeout=10).status_code == 401
        auth = (USER.encode(), PASSWORD.encode())
        page = requests.get(base + "/queues", auth=auth, timeout=10)
        assert page.status_code == 200
        assert "/queues/queues/campaigns" in page.text and "/queues/queues/letters" in page.text
        # The job's first message waits in the campaigns queue of this deployment's namespace.
        queue = requests.get(base + "/queues/queues/campaigns", auth=auth, timeout=10)
        assert queue.status_code == 200 and "fetch_campaign" in queue.text
    finally:
        stop_process(proc)
        flush_namespace(namespace)
