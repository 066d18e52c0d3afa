"""The PostgreSQL source, its schema, migrations and seed, against a real server."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from pipeline.db.migrate import migrate
from pipeline.db.seed import seed
from pipeline.errors import CampaignNotFound, DraftNotFound
from pipeline.sources.postgres import PostgresSource
from tests.pg import fresh_database


@pytest.fixture(scope="module")
def database_url():
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def seeded(database_url):
    return seed(database_url, housings=200)


def test_migrate_applies_once():
    with fresh_database(migrated=False) as url:
        assert migrate(url) == ["0001_init.sql"]
        assert migrate(url) == []


def test_concurrent_migrations_apply_each_file_once():
    with fresh_database(migrated=False) as url:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: migrate(url), range(4)))
        assert sorted(results) == [[], [], [], ["0001_init.sql"]]


def test_fetch_a_seeded_campaign(database_url, seeded):
    bundle = PostgresSource(database_url).fetch(seeded.campaign_id, seeded.establishment_id)

    assert bundle.campaign.id == seeded.campaign_id
    assert bundle.campaign.status == "sending"
    assert bundle.campaign.housing_count == len(bundle.housings) == seeded.housing_count == 200
    assert len(bundle.letter_housings()) == seeded.letter_count
    assert len(bundle.distinct_owners()) == seeded.owner_count == bundle.campaign.owner_count
    assert seeded.letter_count / seeded.owner_count == pytest.approx(1.5, abs=0.1)
    owners = bundle.distinct_owners()
    assert any(o.ban_address is None and o.raw_address for o in owners)
    assert any(o.ban_address is not None and o.ban_address.postal_code for o in owners)
    assert any(o.additional_address for o in owners)
    assert any("œ" in o.full_name.lower() for o in owners)
    assert any(h.owner is None for h in bundle.housings)
    assert {h.housing_kind for h in bundle.housings} == {"APPART", "MAISON"}
    housing = bundle.housings[0]
    assert len(housing.invariant) == 10 and len(housing.local_id) == 12
    assert len(housing.plot_id) == 14 and housing.plot_id.startswith(housing.geo_code)

    draft = bundle.draft
    assert draft.subject and draft.written_from and draft.written_at
    assert "{{owner.fullName}}" in draft.body and "<ul>" in draft.body
    assert [s.role for s in draft.sender.signatories][0].startswith("Maire")
    assert len(draft.sender.signatories) == 2


def test_housings_come_in_campaign_order(database_url, seeded):
    with psycopg.connect(database_url) as conn:
        expected = [
            str(housing_id)
            for (housing_id,) in conn.execute(
                "SELECT housing_id FROM campaign_housings WHERE campaign_id = %s ORDER BY position",
                (seeded.campaign_id,),
            )
        ]
    bundle = PostgresSource(database_url).fetch(seeded.campaign_id, seeded.establishment_id)
    assert [h.id for h in bundle.housings] == expected


def test_only_primary_owners_are_fetched(database_url, seeded):
    with psycopg.connect(database_url) as conn:
        ranks = conn.execute(
            "SELECT oh.housing_id::text, oh.owner_id::text, oh.rank FROM owners_housings oh"
            " JOIN campaign_housings ch USING (housing_id) WHERE ch.campaign_id = %s",
            (seeded.campaign_id,),
        ).fetchall()
    assert any(rank == 2 for _, _, rank in ranks)  # co-owners exist, and get no letter
    primary = {housing_id: owner_id for housing_id, owner_id, rank in ranks if rank == 1}
    bundle = PostgresSource(database_url).fetch(seeded.campaign_id, seeded.establishment_id)
    assert {h.id: h.owner.id for h in bundle.letter_housings()} == primary


@pytest.mark.parametrize(
    "campaign_id, establishment_id",
    [
        (str(uuid.uuid4()), "seeded"),  # unknown campaign
        ("seeded", str(uuid.uuid4())),  # another establishment's campaign
        ("not-a-uuid", "seeded"),
        ("seeded", "not-a-uuid"),
    ],
)
def test_missing_campaign(database_url, seeded, campaign_id, establishment_id):
    campaign_id = seeded.campaign_id if campaign_id == "seeded" else campaign_id
    establishment_id = seeded.establishment_id if establishment_id == "seeded" else establishment_id
    with pytest.raises(CampaignNotFound):
        PostgresSource(database_url).fetch(campaign_id, establishment_id)


def test_campaign_without_draft(database_url):
    campaign_id, establishment_id = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO campaigns (id, establishment_id, title, status) VALUES (%s, %s, 'Sans brouillon', 'sending')",
            (campaign_id, establishment_id),
        )
    with pytest.raises(DraftNotFound):
        PostgresSource(database_url).fetch(str(campaign_id), str(establishment_id))


def test_first_draft_is_used(database_url):
    seeded = seed(database_url, housings=3, seed=7)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO drafts (id, campaign_id, subject, created_at) VALUES (%s, %s, 'Plus récent', now() + interval '1 day')",
            (uuid.uuid4(), seeded.campaign_id),
        )
    bundle = PostgresSource(database_url).fetch(seeded.campaign_id, seeded.establishment_id)
    assert bundle.draft.subject != "Plus récent"


def test_record_file(database_url):
    seeded = seed(database_url, housings=5, seed=2)
    source = PostgresSource(database_url)
    bundle = source.fetch(seeded.campaign_id, seeded.establishment_id)
    source.record_file(bundle, "20260105120000-relance.zip")
    with psycopg.connect(database_url) as conn:
        (file,) = conn.execute("SELECT file FROM campaigns WHERE id = %s", (seeded.campaign_id,)).fetchone()
    assert file == "20260105120000-relance.zip"
    assert source.fetch(seeded.campaign_id, seeded.establishment_id).campaign.file == file


def test_seed_is_deterministic(database_url):
    source = PostgresSource(database_url)

    def values(seeded):
        bundle = source.fetch(seeded.campaign_id, seeded.establishment_id)
        return [(h.local_id, h.owner.full_name if h.owner else None) for h in bundle.housings], bundle.draft.written_at

    assert values(seed(database_url, housings=20, seed=5)) == values(seed(database_url, housings=20, seed=5))
    assert values(seed(database_url, housings=20, seed=5)) != values(seed(database_url, housings=20, seed=6))


def test_connection_errors_propagate():
    source = PostgresSource("postgresql://postgres@127.0.0.1:1/test")
    with pytest.raises(psycopg.OperationalError):
        source.fetch(str(uuid.uuid4()), str(uuid.uuid4()))


def test_seed_ten_thousand_housings(database_url):
    seeded = seed(database_url, housings=10_000, seed=3)
    bundle = PostgresSource(database_url).fetch(seeded.campaign_id, seeded.establishment_id)
    assert len(bundle.housings) == 10_000
    assert len(bundle.letter_housings()) == seeded.letter_count == 9_500
    assert len(bundle.distinct_owners()) == seeded.owner_count
    assert max(Counter(h.owner.id for h in bundle.letter_housings()).values()) > 1
