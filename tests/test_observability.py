"""What reaches Sentry and the logs: ids to find a job, never owners' data or secrets.

Sentry events are recorded by a local transport: nothing leaves the process.
"""

from __future__ import annotations

import io
import json
import logging

import dramatiq
import pytest
import sentry_sdk
from dramatiq.brokers.stub import StubBroker
from dramatiq.rate_limits.backends import StubBackend
from sentry_sdk.transport import Transport

from pipeline import observability
from pipeline.logs import JsonFormatter, configure_logging, log_context
from pipeline.settings import Settings

OWNER = "Jeanne Privée-Propriétaire"
AUTH_SECRET = "auth-secret-4f9a1c"
S3_SECRET = "s3-secret-77d0be"
API_TOKEN = "api-token-a8e2f1"
DSN = "https://publickey123@sentry.invalid/42"


class Recorder(Transport):
    def __init__(self):
        super().__init__()
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [event for e in self.envelopes if (event := e.get_event()) is not None]

    def raw(self) -> str:
        # Event payloads as sent; the envelope header legitimately names the DSN.
        return "\n".join(item.get_bytes().decode() for e in self.envelopes for item in e.items)


def worker_settings(**fields) -> Settings:
    values = dict(
        dramatiq_broker="stub",
        sentry_dsn=DSN,
        auth_secret=AUTH_SECRET,
        s3_secret_access_key=S3_SECRET,
        api_token=API_TOKEN,
        queue_password="ops-password-31",
        database_url="postgresql://app:db-password-9@db:5432/app",
        max_retries=0,
    )
    return Settings(**{**values, **fields})


@pytest.fixture
def sentry_events(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(observability, "_initialised", False)
    observability.init_sentry(worker_settings(), "worker", transport=recorder)
    yield recorder
    # Later tests must see Sentry as it was: not set up.
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_global_scope().remove_tag("component")
    assert not sentry_sdk.get_client().is_active()


def run_failing_actor(services, settings: Settings) -> str:
    from actors.broker import middleware

    # Created after init_sentry, as actors/broker.py does: the integration hooks into the broker's constructor.
    broker = StubBroker(middleware=middleware(settings, StubBackend()))
    broker.emit_after("process_boot")
    assert any(type(m).__name__ == "SentryMiddleware" for m in broker.middleware)

    @dramatiq.actor(broker=broker, queue_name="observability-test", max_retries=0)
    def write_letter(job_id, owner_name):
        owner = {"fullName": owner_name}  # a local that must not be reported
        raise RuntimeError(f"upstream refused {AUTH_SECRET} for {len(owner)} owner")

    job = services.jobs.create("campaign-4242", "establishment-1")
    worker = dramatiq.Worker(broker, worker_timeout=100)
    worker.start()
    try:
        write_letter.send(job.id, OWNER)
        broker.join("observability-test")
        worker.join()
    finally:
        worker.stop()
    sentry_sdk.flush()
    return job.id


def test_a_failed_actor_is_reported_without_owner_data_or_secrets(sentry_events, services):
    job_id = run_failing_actor(services, worker_settings())

    events = sentry_events.events()
    assert events, "the failure was not reported"
    raw = sentry_events.raw()
    for leak in (OWNER, "Jeanne", AUTH_SECRET):
        assert leak not in raw
    assert "[scrubbed]" in raw

    reported = [e for e in events if e.get("exception")]
    assert reported
    for event in reported:
        assert event["tags"]["job_id"] == job_id
        assert event["tags"]["component"] == "worker"
        for value in event["exception"]["values"]:
            assert all("vars" not in frame for frame in value["stacktrace"]["frames"])
    message = next(e["contexts"]["dramatiq"]["data"] for e in events if "dramatiq" in e.get("contexts", {}))
    assert message["actor_name"] == "write_letter"
    assert message["args"] == message["kwargs"] == "[scrubbed]"
    assert services.jobs.get(job_id).state == "failed"


def test_a_final_job_failure_carries_job_and_campaign_ids(sentry_events):
    reason = f"write_letter: RuntimeError: token {API_TOKEN} refused by {DSN}"
    observability.report_job_failure("0b6c1a9e-3c1d-4a57-9a55-2f4d2c1b7e10", "campaign-4242", "render_letters", reason)
    sentry_sdk.flush()

    [event] = sentry_events.events()
    assert event["tags"]["job_id"] == "0b6c1a9e-3c1d-4a57-9a55-2f4d2c1b7e10"
    assert event["tags"]["campaign_id"] == "campaign-4242"
    assert event["tags"]["stage"] == "render_letters"
    assert event["message"] == "job failed at render_letters"
    assert event["contexts"]["job"]["reason"] == "write_letter: RuntimeError: token [scrubbed] refused by [scrubbed]"
    assert API_TOKEN not in sentry_events.raw()


def test_every_configured_secret_is_scrubbed_anywhere_in_an_event():
    settings = worker_settings(queue_password="pw")
    before_send = observability.make_before_send(observability.secrets_of(settings))
    event = {
        "extra": {"dsn": DSN, "nested": [{"s3": f"key={S3_SECRET};"}], "password": "pw", "word": "pwned"},
        "request": {"headers": {"Authorization": "Bearer x", "X-Access-Token": "jwt", "Accept": "*/*"},
                    "data": {"fullName": OWNER}, "cookies": {"session": "s"}},
        "logentry": {"message": "owner %s", "params": [OWNER], "formatted": f"owner {OWNER}"},
        "breadcrumbs": {"values": [{"message": "connecting to postgresql://app:db-password-9@db/app"}]},
    }
    scrubbed = json.dumps(before_send(event, {}))

    for leak in (DSN, S3_SECRET, "db-password-9", OWNER, "Bearer x", "jwt"):
        assert leak not in scrubbed
    assert '"password": "[scrubbed]"' in scrubbed  # a short secret, where a whole value equals it
    assert '"word": "pwned"' in scrubbed  # ... but not inside other words
    assert '"Accept": "*/*"' in scrubbed


def test_log_breadcrumbs_keep_the_template_not_the_data():
    record = logging.LogRecord("actors", logging.INFO, __file__, 1, "letter for %s", (OWNER,), None)
    crumb = {"message": record.getMessage(), "data": {"job_id": "j1", "owner": OWNER}}
    kept = observability.before_breadcrumb(crumb, {"log_record": record})
    assert kept == {"message": "letter for %s", "data": {"job_id": "j1"}}


def json_lines(logger: logging.Logger, component: str = "worker") -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(component))
    logger.addHandler(handler)
    return stream, handler


def test_a_record_with_job_fields_is_one_json_line():
    logger = logging.getLogger("tests.observability.extra")
    logger.setLevel(logging.INFO)
    stream, handler = json_lines(logger)
    try:
        logger.error("job failed", extra={"job_id": "job-1", "campaign_id": "campaign-1", "stage": "render_letters"})
    finally:
        logger.removeHandler(handler)

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert {k: record[k] for k in ("level", "logger", "message", "component", "job_id", "campaign_id", "stage")} == {
        "level": "ERROR",
        "logger": "tests.observability.extra",
        "message": "job failed",
        "component": "worker",
        "job_id": "job-1",
        "campaign_id": "campaign-1",
        "stage": "render_letters",
    }
    assert record["ts"].endswith("+00:00")


def test_log_context_tags_records_and_tracebacks_stay_on_one_line_without_locals():
    logger = logging.getLogger("tests.observability.context")
    logger.setLevel(logging.INFO)
    stream, handler = json_lines(logger)

    def render(owner_name):
        raise ValueError("no font for a glyph")

    try:
        with log_context(job_id="job-2", stage="render_letters"):
            try:
                render(OWNER)
            except ValueError:
                logger.exception("chunk %d failed", 3)
        logger.info("outside")
    finally:
        logger.removeHandler(handler)

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (inside["job_id"], inside["stage"], inside["message"]) == ("job-2", "render_letters", "chunk 3 failed")
    assert "ValueError: no font for a glyph" in inside["exc"]
    assert OWNER not in inside["exc"]
    assert "job_id" not in outside


def test_configure_logging_turns_plain_stream_handlers_into_json(monkeypatch):
    root = logging.getLogger()
    stream = io.StringIO()
    plain = logging.StreamHandler(stream)  # what dramatiq's CLI installs in a worker process
    monkeypatch.setattr(root, "handlers", [plain])
    monkeypatch.setattr(root, "level", root.level)

    configure_logging("worker")
    configure_logging("worker")  # again: still one handler, one line per record
    logging.getLogger("dramatiq.worker.Worker").info("Worker process is ready for action.")

    assert root.handlers == [plain]
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["logger"] == "dramatiq.worker.Worker"
    assert json.loads(line)["component"] == "worker"
