"""Stage functions called directly, without a broker."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from pipeline import stages
from pipeline.errors import CampaignNotFound, PermanentError
from tests.conftest import storage_files
from tests.pdf import letters_text

CAMPAIGN = "7e57ca3e-1a2b-4c3d-9e8f-000000000001"
ESTABLISHMENT = "c3f1e8a2-5b7d-4c9e-8f10-2a3b4c5d6e7f"


def run_all(services, job_id):
    slices = stages.fetch(services, job_id)
    for chunk, (start, stop) in enumerate(slices):
        stages.render_letters(services, job_id, chunk, start, stop)
    stages.build_spreadsheet(services, job_id)
    stages.archive(services, job_id)
    stages.upload(services, job_id)
    return stages.notify(services, job_id)


def test_chunks_cover_every_letter_once():
    assert stages.chunks(5, 2) == [(0, 2), (2, 4), (4, 5)]
    assert stages.chunks(4, 2) == [(0, 2), (2, 4)]
    assert stages.chunks(1, 250) == [(0, 1)]


def test_fetch_stores_the_campaign_and_plans_the_chunks(services):
    job = services.jobs.create(CAMPAIGN, ESTABLISHMENT)
    slices = stages.fetch(services, job.id)
    assert slices == [(0, 2), (2, 4), (4, 5)]  # 5 of the 6 sample housings have an owner
    job = services.jobs.get(job.id)
    assert (job.state, job.stage, job.letters_total, job.chunks_total) == ("running", "render", 5, 3)
    assert job.archive_name.endswith("-logements-vacants-metropole-de-lyon-relance-ete-2026")
    assert services.storage.exists(f"jobs/{job.id}/campaign.json")


def test_missing_campaign_is_a_permanent_error(services):
    job = services.jobs.create("00000000-0000-4000-8000-000000000000", ESTABLISHMENT)
    with pytest.raises(CampaignNotFound):
        stages.fetch(services, job.id)


def test_whole_chain_of_stages_publishes_the_zip_and_notifies_once(services):
    job = services.jobs.create(CAMPAIGN, ESTABLISHMENT)
    done = run_all(services, job.id)
    assert done.state == "succeeded" and done.letters_done == 5
    assert services.source.recorded == [(CAMPAIGN, done.archive_key)]
    assert done.warnings == []
    # The work files are gone; only the published ZIP is left beside the sample's images.
    assert [f for f in storage_files(services.storage.root) if not f.startswith("sample/")] == [done.archive_key]

    with zipfile.ZipFile(services.storage.path(done.archive_key)) as archive:
        names = archive.namelist()
        assert names == [done.archive_name + ".pdf", done.archive_name + "-destinataires.xlsx"]
        pages = letters_text(archive.read(names[0]))
        workbook = load_workbook(io.BytesIO(archive.read(names[1])), read_only=True)
    assert len(pages) == 5
    assert "Marie-Hélène Lefèvre" in pages[0] and "12 Rue des Lilas" in pages[0] and "69003 Lyon" in pages[0]
    assert "Chez Mme Dubœuf" in pages[1] and "LIEU-DIT LES GRANDS CHAMPS" in pages[1]
    assert "Γεώργιος Παπαδόπουλος" in pages[2]
    assert "appartement de 54,5 m²" in pages[0].replace("\n", " ")
    assert [len(list(workbook[name].rows)) for name in ("Logements", "Propriétaires")] == [7, 5]


def test_rerunning_every_stage_rewrites_the_same_keys_and_sends_no_second_notice(services):
    job = services.jobs.create(CAMPAIGN, ESTABLISHMENT)
    slices = stages.fetch(services, job.id)
    for _ in range(2):
        assert stages.fetch(services, job.id) == slices
        keys = [stages.render_letters(services, job.id, chunk, start, stop) for chunk, (start, stop) in enumerate(slices)]
        stages.build_spreadsheet(services, job.id)
    assert len(set(keys)) == len(slices)
    assert services.jobs.get(job.id).letters_done == 5  # not 10
    stages.archive(services, job.id)
    first = stages.upload(services, job.id)
    assert stages.archive(services, job.id) and stages.upload(services, job.id) == first
    stages.notify(services, job.id)
    # Late redeliveries after success do nothing and send nothing.
    for stage in (stages.archive, stages.upload, stages.notify):
        with pytest.raises(stages.JobOver):
            stage(services, job.id)
    assert len(services.source.recorded) == 1


def test_archive_without_its_letters_fails_with_a_reason(services):
    job = services.jobs.create(CAMPAIGN, ESTABLISHMENT)
    stages.fetch(services, job.id)
    stages.build_spreadsheet(services, job.id)
    with pytest.raises(PermanentError, match="letters of chunk 0 are missing"):
        stages.archive(services, job.id)


def test_render_reports_progress_within_a_chunk(services, monkeypatch):
    seen = []
    original = services.jobs.chunk_done
    monkeypatch.setattr(services.jobs, "chunk_done", lambda job_id, chunk, letters: (seen.append(letters), original(job_id, chunk, letters)))
    from pipeline import letters

    monkeypatch.setattr(stages, "lay_out_letters", lambda t, h, out, on_progress: letters.render_letters(t, h, out, on_progress, every=2))
    job = services.jobs.create(CAMPAIGN, ESTABLISHMENT)
    stages.fetch(services, job.id)
    stages.render_letters(services, job.id, 0, 0, 5)
    assert seen == [2, 4, 5]
    assert services.jobs.get(job.id).letters_done == 5
