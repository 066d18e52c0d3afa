"""The actor chain on a StubBroker with an in-process worker."""

from __future__ import annotations

import zipfile

import pytest

import actors
from pipeline.errors import CampaignNotFound
from pipeline.sources.api import UpstreamError
from tests.pdf import letters_text

CAMPAIGN = "7e57ca3e-1a2b-4c3d-9e8f-000000000001"
ESTABLISHMENT = "c3f1e8a2-5b7d-4c9e-8f10-2a3b4c5d6e7f"


def drain(broker, worker):
    # Callbacks enqueue new messages after a queue looked empty: join until all are idle.
    for _ in range(20):
        for queue in ("campaigns", "letters"):
            broker.join(queue, fail_fast=False)  # waits for its delay queue too
        worker.join()
        if all(q.unfinished_tasks == 0 for q in broker.queues.values()):
            return
    raise AssertionError("the stub broker never went idle")


def test_chain_runs_through_workers_and_publishes_the_zip(services, stub_broker, stub_worker):
    job, created = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    assert created
    drain(stub_broker, stub_worker)
    job = services.jobs.get(job.id)
    assert job.state == "succeeded", job.error
    assert job.letters_done == job.letters_total == 5
    assert services.source.recorded == [(CAMPAIGN, job.archive_key)]
    with zipfile.ZipFile(services.storage.path(job.archive_key)) as archive:
        pdf = archive.read(job.archive_name + ".pdf")
    assert len(letters_text(pdf)) == 5


def test_second_request_while_queued_returns_the_same_job(services, stub_broker, stub_worker):
    first, created = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    again, created_again = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    assert created and not created_again and again.id == first.id
    drain(stub_broker, stub_worker)
    done, created = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    assert not created and done.id == first.id and done.state == "succeeded"
    regenerated, created = actors.enqueue(CAMPAIGN, ESTABLISHMENT, regenerate=True)
    assert created and regenerated.id != first.id
    drain(stub_broker, stub_worker)
    assert services.jobs.get(regenerated.id).state == "succeeded"


def test_missing_campaign_fails_at_once_without_retries(services, stub_broker, stub_worker):
    services.source.fail_fetch = [CampaignNotFound("GET /campaigns/x: not found upstream (404)")]
    job, _ = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    drain(stub_broker, stub_worker)
    job = services.jobs.get(job.id)
    assert job.state == "failed"
    assert job.error == "GET /campaigns/x: not found upstream (404)"
    assert services.source.fetches == 1
    assert stub_broker.dead_letters and stub_broker.dead_letters[0].actor_name == "fetch_campaign"


def test_transient_errors_are_retried_then_succeed(services, stub_broker, stub_worker):
    services.source.fail_fetch = [UpstreamError("GET /campaigns/x: upstream answered 503")] * 2
    job, _ = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    drain(stub_broker, stub_worker)
    assert services.jobs.get(job.id).state == "succeeded"
    assert services.source.fetches == 3


def test_transient_errors_give_up_after_max_retries(services, stub_broker, stub_worker):
    services.source.fail_fetch = [UpstreamError("GET /campaigns/x: upstream answered 503")] * 10
    job, _ = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    drain(stub_broker, stub_worker)
    job = services.jobs.get(job.id)
    assert job.state == "failed" and "503" in job.error
    assert services.source.fetches == 1 + services.settings.max_retries


@pytest.mark.parametrize("letters", [1, 3])
def test_a_failing_chunk_fails_the_job_and_nothing_is_published(services, stub_broker, stub_worker, monkeypatch, letters):
    from pipeline import stages

    original = stages.lay_out_letters

    def broken(template, housings, out, **kwargs):
        if any(h.owner.full_name.startswith("Γ") for h in housings):
            raise ValueError("font exploded")
        return original(template, housings, out, **kwargs)

    monkeypatch.setattr(stages, "lay_out_letters", broken)
    job, _ = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    drain(stub_broker, stub_worker)
    job = services.jobs.get(job.id)
    assert job.state == "failed"
    assert job.error == "render_letters: ValueError: font exploded"
    assert job.archive_key is None and services.source.recorded == []


def test_cancelled_job_stops_at_its_next_stage_and_can_be_retried(services, stub_broker, stub_worker):
    job, _ = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    assert services.jobs.cancel(job.id, "cancelled by an operator")
    drain(stub_broker, stub_worker)
    cancelled = services.jobs.get(job.id)
    assert cancelled.state == "cancelled" and cancelled.archive_key is None and services.source.fetches == 0
    assert not services.jobs.cancel(job.id, "again")

    again, created = actors.retry(job.id)
    assert created and again.retry_of == job.id
    drain(stub_broker, stub_worker)
    assert services.jobs.get(again.id).state == "succeeded"
    with pytest.raises(ValueError, match="only a failed or cancelled job can be retried"):
        actors.retry(again.id)


def test_requeueing_the_failed_message_resumes_the_job_to_success(services, stub_broker, stub_worker, monkeypatch):
    from pipeline import stages
    from pipeline.errors import PermanentError

    original = stages.lay_out_letters
    broken = {"yes": True}

    def flaky(template, housings, out, **kwargs):
        if broken["yes"] and any(h.owner.full_name.startswith("Γ") for h in housings):
            raise PermanentError("signature store unreachable")
        return original(template, housings, out, **kwargs)

    monkeypatch.setattr(stages, "lay_out_letters", flaky)
    job, _ = actors.enqueue(CAMPAIGN, ESTABLISHMENT)
    drain(stub_broker, stub_worker)
    failed = services.jobs.get(job.id)
    assert failed.state == "failed" and failed.error == "signature store unreachable"
    [dead] = [m for m in stub_broker.dead_letters if m.actor_name == "render_letters"]
    assert failed.failed_message == dead.message_id

    # Ops fix the cause and requeue the message from the dashboard's failed tab (same id, retries reset).
    broken["yes"] = False
    stub_broker.enqueue(dead.copy(options={**dead.options, "retries": 0}))
    drain(stub_broker, stub_worker)
    done = services.jobs.get(job.id)
    assert done.state == "succeeded", done.error
    assert done.error is None and done.letters_done == 5
    assert services.source.recorded == [(CAMPAIGN, done.archive_key)]
