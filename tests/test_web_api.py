"""The queue's HTTP API through Falcon's test client: enqueue, status, listing, every kind of bad request.

Job-store tests run against both stores: the memory one of the stub setup and
RedisJobStore on the real Redis under a prefix of their own.
"""

from __future__ import annotations

import logging
import uuid
from typing import get_args
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import requests
import schemathesis
from falcon.testing import TestClient
from hypothesis import HealthCheck, settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from pydantic import SecretStr

from pipeline.jobs import RedisJobStore, State, now
from pipeline.storage import S3Storage
from pipeline.web.app import create_app
from pipeline.web.openapi import document

from .servers import REDIS_URL, ROOT, flush_namespace, free_port, redis_namespace, s3_endpoint, s3_settings

# Hypothesis' caches go beside pytest's (already ignored) rather than into a new folder at the root.
set_hypothesis_home_dir(ROOT / ".pytest_cache" / "hypothesis")

TOKEN = "test-api-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def ids() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())


def with_settings(services, **changes):
    services.settings = services.settings.model_copy(update=changes)
    return services


@pytest.fixture(params=["memory", "redis"])
def api_services(request, services, stub_broker):
    with_settings(services, api_token=SecretStr(TOKEN))
    if request.param == "redis":
        env = redis_namespace()
        services.jobs = RedisJobStore(redis.Redis.from_url(env["REDIS_URL"]), env["QUEUE_PREFIX"])
        request.addfinalizer(lambda: flush_namespace(env))
    return services


@pytest.fixture
def client(api_services) -> TestClient:
    return TestClient(create_app(api_services, dashboard=False))


def post_job(client, campaign_id, establishment_id, **extra):
    return client.simulate_post("/jobs", json={"campaignId": campaign_id, "establishmentId": establishment_id, **extra}, headers=AUTH)


def assert_json_error(response, status: int, *phrases: str):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json
    assert set(body) == {"title", "description"} and body["title"] and body["description"]
    for phrase in phrases:
        assert phrase.lower() in (body["title"] + " " + body["description"]).lower(), body
    return body


# -- enqueue ---------------------------------------------------------------------------------------


def test_post_creates_a_job_and_a_second_post_gets_the_same_one(client, stub_broker):
    campaign_id, establishment_id = ids()

    first = post_job(client, campaign_id, establishment_id)
    assert first.status_code == 202, first.text
    job = first.json
    assert job["state"] == "queued" and job["created"] is True
    assert job["campaignId"] == campaign_id and job["establishmentId"] == establishment_id
    assert job["statusUrl"].startswith("http") and job["statusUrl"].endswith(f"/jobs/{job['id']}")
    assert first.headers["location"] == job["statusUrl"]

    second = post_job(client, campaign_id, establishment_id)
    assert second.status_code == 200, second.text
    assert second.json["id"] == job["id"] and second.json["created"] is False
    assert "location" not in second.headers
    assert stub_broker.queues["campaigns"].qsize() == 1, "the second request must not start a second generation"


def test_uuids_are_normalised_so_that_case_does_not_defeat_the_dedupe(client):
    campaign_id, establishment_id = ids()
    first = post_job(client, campaign_id, establishment_id)
    second = post_job(client, campaign_id.upper(), establishment_id.upper())
    assert second.status_code == 200 and second.json["id"] == first.json["id"]


def test_regenerate_creates_a_new_job_only_after_success(client, api_services):
    campaign_id, establishment_id = ids()
    first = post_job(client, campaign_id, establishment_id).json

    # Under way: regenerate does not start a second one.
    assert post_job(client, campaign_id, establishment_id, regenerate=True).json["id"] == first["id"]

    api_services.jobs.update(first["id"], state="succeeded", archive_key="campaign.zip", finished_at=now())
    again = post_job(client, campaign_id, establishment_id)
    assert again.status_code == 200 and again.json["id"] == first["id"]

    new = post_job(client, campaign_id, establishment_id, regenerate=True)
    assert new.status_code == 202 and new.json["id"] != first["id"]

    listing = client.simulate_get(f"/campaigns/{campaign_id}/jobs", headers=AUTH)
    assert listing.status_code == 200
    assert [j["id"] for j in listing.json["jobs"]] == [new.json["id"], first["id"]]


def test_a_failed_job_is_replaced_without_regenerate(client, api_services):
    campaign_id, establishment_id = ids()
    first = post_job(client, campaign_id, establishment_id).json
    api_services.jobs.update(first["id"], state="failed", error="campaign not found", finished_at=now())
    new = post_job(client, campaign_id, establishment_id)
    assert new.status_code == 202 and new.json["id"] != first["id"]


# -- status ----------------------------------------------------------------------------------------


def test_status_of_a_running_job_shows_stage_progress_and_timings(client, api_services):
    job = post_job(client, *ids()).json
    store = api_services.jobs
    store.update(job["id"], state="running", stage="render_letters", started_at=now(), letters_total=10, chunks_total=2)
    store.chunk_done(job["id"], 0, 5)
    store.warn(job["id"], "2 housings have no owner")

    status = client.simulate_get(f"/jobs/{job['id']}", headers=AUTH)
    assert status.status_code == 200
    body = status.json
    assert body["state"] == "running" and body["stage"] == "render_letters"
    assert body["progress"] == {"done": 5, "total": 10}
    assert body["timings"]["startedAt"] and body["timings"]["finishedAt"] is None
    assert body["timings"]["durationSeconds"] >= 0
    assert body["warnings"] == ["2 housings have no owner"]
    assert "downloadUrl" not in body and "error" not in body


def test_status_of_a_failed_job_gives_the_reason(client, api_services):
    job = post_job(client, *ids()).json
    api_services.jobs.update(job["id"], state="failed", error="campaign not found", started_at=now(), finished_at=now())
    body = client.simulate_get(f"/jobs/{job['id']}", headers=AUTH).json
    assert body["state"] == "failed" and body["error"] == "campaign not found"
    assert "archiveKey" not in body


def test_status_of_a_cancelled_job_gives_the_reason(client, api_services):
    job = post_job(client, *ids()).json
    assert api_services.jobs.cancel(job["id"], "cancelled by ops")
    body = client.simulate_get(f"/jobs/{job['id']}", headers=AUTH).json
    assert body["state"] == "cancelled" and body["error"] == "cancelled by ops"


@pytest.mark.parametrize("state", get_args(State))
def test_every_job_state_matches_the_documented_schema(client, api_services, state):
    # schemathesis only meets the states its own requests produce: the others are checked here.
    job = post_job(client, *ids()).json
    api_services.jobs.update(job["id"], state=state, started_at=now(), finished_at=now(), error="x", archive_key="a.zip", letters_total=3)
    body = client.simulate_get(f"/jobs/{job['id']}", headers=AUTH).json
    registry = Registry().with_resource("urn:api", Resource.from_contents(document(), default_specification=DRAFT202012))
    Draft202012Validator({"$ref": "urn:api#/components/schemas/Job"}, registry=registry).validate(body)


def test_status_of_a_succeeded_job_on_local_storage_gives_its_path(client, api_services):
    job = post_job(client, *ids()).json
    api_services.jobs.update(job["id"], state="succeeded", archive_key="out/c.zip", archive_name="c", finished_at=now())
    body = client.simulate_get(f"/jobs/{job['id']}", headers=AUTH).json
    assert body["archiveKey"] == "out/c.zip" and body["archivePath"].endswith("out/c.zip")
    assert "downloadUrl" not in body


def test_status_of_a_succeeded_job_has_a_download_url_valid_one_hour(services, stub_broker):
    with s3_endpoint() as env:
        s3 = s3_settings(env, api_token=TOKEN)
        services.settings, services.storage = s3, S3Storage(s3)
        services.storage.put_bytes("20260101000000-campagne.zip", b"PK-archive-bytes", "application/zip")
        client = TestClient(create_app(services, dashboard=False))
        job = post_job(client, *ids()).json
        services.jobs.update(job["id"], state="succeeded", archive_key="20260101000000-campagne.zip", finished_at=now())

        body = client.simulate_get(f"/jobs/{job['id']}", headers=AUTH).json
        url = body["downloadUrl"]
        assert body["archiveKey"] == "20260101000000-campagne.zip"
        query = parse_qs(urlsplit(url).query)
        # moto does not enforce expiry: the URL's own parameters are the proof.
        assert query["X-Amz-Expires"] == ["3600"]
        assert "X-Amz-Signature" in query
        download = requests.get(url, timeout=10)
        assert download.status_code == 200 and download.content == b"PK-archive-bytes"


def test_campaign_listing_of_an_unknown_campaign_is_empty(client):
    campaign_id = str(uuid.uuid4())
    listing = client.simulate_get(f"/campaigns/{campaign_id}/jobs", headers=AUTH)
    assert listing.status_code == 200 and listing.json == {"campaignId": campaign_id, "jobs": []}


# -- bad requests ----------------------------------------------------------------------------------

CAMPAIGN, ESTABLISHMENT = ids()
JSON = "application/json"
MALFORMED_BODIES = {
    "bad json": (b'{"campaignId": ', JSON, 400, "not valid JSON"),
    "bad utf-8": (b'{"campaignId": "\xff"}', JSON, 400, "not valid JSON"),
    "empty body": (b"", JSON, 400, "empty"),
    "array": (b"[]", JSON, 400, "JSON object"),
    "string": (b'"hello"', JSON, 400, "JSON object"),
    "null": (b"null", JSON, 400, "JSON object"),
    "too many digits": (b"1" * 5000, JSON, 400, "not valid JSON"),
    "too deep": (b"[" * 30_000 + b"]" * 30_000, JSON, 400, "not valid JSON"),
    "missing campaignId": (f'{{"establishmentId": "{ESTABLISHMENT}"}}'.encode(), JSON, 400, "campaignId must be a UUID"),
    "non-UUID campaignId": (f'{{"campaignId": "42", "establishmentId": "{ESTABLISHMENT}"}}'.encode(), JSON, 400, "campaignId must be a UUID"),
    "number campaignId": (f'{{"campaignId": 42, "establishmentId": "{ESTABLISHMENT}"}}'.encode(), JSON, 400, "campaignId must be a UUID"),
    "missing establishmentId": (f'{{"campaignId": "{CAMPAIGN}"}}'.encode(), JSON, 400, "establishmentId must be a UUID"),
    "redis key in establishmentId": (
        f'{{"campaignId": "{CAMPAIGN}", "establishmentId": "{ESTABLISHMENT}:x"}}'.encode(), JSON, 400, "establishmentId must be a UUID",
    ),
    "trailing newline in campaignId": (
        f'{{"campaignId": "{CAMPAIGN}\\n", "establishmentId": "{ESTABLISHMENT}"}}'.encode(), JSON, 400, "campaignId must be a UUID",
    ),
    "regenerate not a boolean": (
        f'{{"campaignId": "{CAMPAIGN}", "establishmentId": "{ESTABLISHMENT}", "regenerate": "yes"}}'.encode(), JSON, 400, "regenerate",
    ),
    "form body": (f"campaignId={CAMPAIGN}&establishmentId={ESTABLISHMENT}".encode(), "application/x-www-form-urlencoded", 415, "JSON"),
    "huge body": (b'{"x": "' + b"a" * 70_000 + b'"}', JSON, 413, "at most"),
}


@pytest.mark.parametrize("body, content_type, status, phrase", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_enqueue_requests_get_a_4xx_with_a_reason(client, stub_broker, caplog, body, content_type, status, phrase):
    with caplog.at_level(logging.ERROR):
        response = client.simulate_post("/jobs", body=body, headers={**AUTH, "Content-Type": content_type})
    assert_json_error(response, status, phrase)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a malformed request must not reach the 500 handler"
    assert stub_broker.queues.get("campaigns") is None or stub_broker.queues["campaigns"].qsize() == 0


@pytest.mark.parametrize(
    "path, status, phrase",
    [
        ("/jobs/not-a-uuid", 400, "job id must be a UUID"),
        ("/jobs/6a1b0c2e-0000-4000-8000-000000000000:chunks", 400, "job id must be a UUID"),
        ("/jobs/6a1b0c2e-0000-4000-8000-000000000000%0A", 400, "job id must be a UUID"),
        ("/jobs/6a1b0c2e-0000-4000-8000-000000000000", 404, "no job"),
        ("/campaigns/not-a-uuid/jobs", 400, "campaign id must be a UUID"),
        ("/no/such/path", 404, "no such resource"),
    ],
)
def test_bad_paths_get_a_4xx_with_a_reason(client, path, status, phrase):
    assert_json_error(client.simulate_get(path, headers=AUTH), status, phrase)


@pytest.mark.parametrize("method, path", [("PUT", "/jobs"), ("GET", "/jobs"), ("DELETE", f"/jobs/{CAMPAIGN}"), ("POST", "/"), ("POST", f"/campaigns/{CAMPAIGN}/jobs")])
def test_wrong_method_is_405_with_a_reason(client, method, path):
    response = client.simulate_request(method, path, headers=AUTH)
    assert_json_error(response, 405, "not allowed")
    assert response.headers["allow"]


PROTECTED = [("POST", "/jobs"), ("GET", f"/jobs/{CAMPAIGN}"), ("GET", f"/campaigns/{CAMPAIGN}/jobs")]


@pytest.mark.parametrize("method, path", PROTECTED)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Bearer {TOKEN}x", "Basic dGVzdDp0ZXN0", "Bearer", f"bearer{TOKEN}", "Bearer tökén-non-ascii"],
    ids=["missing", "wrong", "longer", "basic", "empty", "no space", "non-ascii"],
)
def test_missing_or_wrong_token_is_401(client, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.simulate_request(method, path, headers=headers, json={"campaignId": CAMPAIGN, "establishmentId": ESTABLISHMENT})
    assert_json_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method, path", PROTECTED)
def test_an_empty_api_token_closes_the_api(services, stub_broker, method, path):
    with_settings(services, api_token=SecretStr(""))
    client = TestClient(create_app(services, dashboard=False))
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        response = client.simulate_request(method, path, headers=headers, json={"campaignId": CAMPAIGN, "establishmentId": ESTABLISHMENT})
        assert_json_error(response, 503, "API_TOKEN is not configured")


# -- real failures ---------------------------------------------------------------------------------


class BrokenStore:
    def get(self, job_id):
        raise RuntimeError("secret detail of a bug")

    def jobs_of_campaign(self, campaign_id):
        raise RuntimeError("secret detail of a bug")


def test_a_server_bug_is_a_generic_logged_500(services, caplog):
    with_settings(services, api_token=SecretStr(TOKEN))
    services.jobs = BrokenStore()
    client = TestClient(create_app(services, dashboard=False))
    with caplog.at_level(logging.ERROR, logger="pipeline.web.errors"):
        response = client.simulate_get(f"/jobs/{CAMPAIGN}", headers=AUTH)
    body = assert_json_error(response, 500)
    assert "secret detail" not in response.text
    assert any("secret detail of a bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert body["title"] == "Internal server error"


def test_an_unreachable_job_store_is_503_not_500(services, stub_broker):
    with_settings(services, api_token=SecretStr(TOKEN))
    services.jobs = RedisJobStore(redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1), "down")
    client = TestClient(create_app(services, dashboard=False))
    assert_json_error(post_job(client, *ids()), 503, "Redis")
    assert_json_error(client.simulate_get(f"/jobs/{CAMPAIGN}", headers=AUTH), 503, "Redis")


# -- the OpenAPI document --------------------------------------------------------------------------


def test_openapi_document_is_valid_and_served_without_auth(client):
    from openapi_spec_validator import validate

    response = client.simulate_get("/openapi.json")
    assert response.status_code == 200
    validate(response.json)
    assert response.json == document()
    assert {"/", "/jobs", "/jobs/{job_id}", "/campaigns/{campaign_id}/jobs"} <= set(response.json["paths"])


class CurrentApp:
    """The WSGI app schemathesis calls: each test plugs in an app built on its own services."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


# Loaded from the document itself, not with from_wsgi: the app needs each test's
# services, which do not exist at collection time (and schemathesis' lazy
# from_fixture loader fails on pytest 9: it sets Function._nodeid).
# test_openapi_document_... checks that the app serves this very document.
current_app = CurrentApp()
schema = schemathesis.openapi.from_dict(document())
schema.app = current_app
schema.config.generation.update(modes=["positive", "negative"])


@pytest.fixture
def schema_app(services, stub_broker):
    with_settings(services, api_token=SecretStr(TOKEN), redis_url=REDIS_URL)
    current_app.app = create_app(services, dashboard=False)
    yield
    current_app.app = None


@schema.parametrize()
@hypothesis_settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_app_conforms_to_its_openapi_document(case, schema_app):
    # No 5xx, documented status codes, content types, headers and bodies that match the schemas.
    case.call_and_validate(headers=AUTH)
