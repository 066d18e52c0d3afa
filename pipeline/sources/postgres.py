"""Campaigns read from our own PostgreSQL schema (pipeline/db/migrations).

The queries build the upstream camelCase JSON shapes server-side, so the
bundle goes through the same parse_bundle as the API's answers. The three
reads share one read-only REPEATABLE READ transaction: housings and draft are
of the same moment as the campaign. Connection errors (OperationalError) are
left to propagate: they are transient and the caller retries them.
"""

from __future__ import annotations

import uuid

import psycopg
from psycopg.rows import tuple_row

from ..errors import CampaignNotFound, DraftNotFound
from ..models import CampaignBundle
from . import parse_bundle

CAMPAIGN = """
SELECT json_build_object(
    'id', id, 'title', title, 'description', description, 'status', status, 'file', file,
    'createdAt', created_at, 'sentAt', sent_at)
FROM campaigns
WHERE id = %(campaign)s AND establishment_id = %(establishment)s
"""

# The first draft by creation; the id breaks ties so that the choice is stable.
DRAFT = """
SELECT json_build_object(
    'id', d.id, 'subject', d.subject, 'body', d.body, 'logo', d.logo, 'writtenAt', d.written_at,
    'writtenFrom', d.written_from, 'createdAt', d.created_at,
    'sender', CASE WHEN s.id IS NOT NULL THEN json_build_object(
        'name', s.name, 'service', s.service, 'firstName', s.first_name, 'lastName', s.last_name,
        'address', s.address, 'email', s.email, 'phone', s.phone,
        'signatories', COALESCE((
            SELECT json_agg(json_build_object(
                'firstName', g.first_name, 'lastName', g.last_name, 'role', g.role, 'file', g.file
            ) ORDER BY g.rank)
            FROM signatories g WHERE g.sender_id = s.id), '[]'))
    END)
FROM drafts d LEFT JOIN senders s ON s.id = d.sender_id
WHERE d.campaign_id = %(campaign)s
ORDER BY d.created_at, d.id
LIMIT 1
"""

# One row per housing in campaign order, with its primary owner (rank 1) if any.
HOUSINGS = """
SELECT json_build_object(
    'id', h.id, 'invariant', h.invariant, 'localId', h.local_id, 'rawAddress', h.raw_address,
    'geoCode', h.geo_code, 'plotId', h.plot_id, 'cadastralReference', h.cadastral_reference,
    'housingKind', h.housing_kind, 'livingArea', h.living_area, 'roomsCount', h.rooms_count,
    'buildingYear', h.building_year, 'vacancyStartYear', h.vacancy_start_year,
    'energyConsumption', h.energy_consumption, 'latitude', h.latitude, 'longitude', h.longitude,
    'banAddress', CASE WHEN h.ban_label IS NOT NULL THEN
        json_build_object('label', h.ban_label, 'score', h.ban_score) END,
    'owner', CASE WHEN o.id IS NOT NULL THEN json_build_object(
        'id', o.id, 'fullName', o.full_name, 'rawAddress', o.raw_address,
        'banAddress', CASE WHEN o.ban_label IS NOT NULL THEN json_build_object(
            'label', o.ban_label, 'houseNumber', o.ban_house_number, 'street', o.ban_street,
            'postalCode', o.ban_postal_code, 'city', o.ban_city, 'score', o.ban_score) END,
        'additionalAddress', o.additional_address, 'birthDate', o.birth_date,
        'email', o.email, 'phone', o.phone, 'kind', o.kind) END)
FROM campaign_housings ch
JOIN housings h ON h.id = ch.housing_id
LEFT JOIN owners_housings oh ON oh.housing_id = h.id AND oh.rank = 1
LEFT JOIN owners o ON o.id = oh.owner_id
WHERE ch.campaign_id = %(campaign)s
ORDER BY ch.position
"""


class PostgresSource:
    def __init__(self, database_url: str):
        self.database_url = database_url

    def fetch(self, campaign_id: str, establishment_id: str) -> CampaignBundle:
        params = {"campaign": _uuid(campaign_id), "establishment": _uuid(establishment_id)}
        if None in params.values():
            # Not an id at all: the same answer as an unknown one, not a DB error.
            raise CampaignNotFound(f"campaign {campaign_id!r} not found for this establishment")
        with self._connect() as conn:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
                campaign = cur.execute(CAMPAIGN, params).fetchone()
                if campaign is None:
                    raise CampaignNotFound(f"campaign {campaign_id} not found for this establishment")
                draft = cur.execute(DRAFT, params).fetchone()
                if draft is None:
                    raise DraftNotFound(f"campaign {campaign_id} has no draft")
                housings = [row for (row,) in cur.execute(HOUSINGS, params)]
        campaign = campaign[0]
        campaign["housingCount"] = len(housings)
        campaign["ownerCount"] = len({h["owner"]["id"] for h in housings if h["owner"]})
        return parse_bundle(
            {"establishmentId": params["establishment"], "campaign": campaign, "draft": draft[0], "housings": housings}
        )

    def record_file(self, bundle: CampaignBundle, file_key: str) -> None:
        with self._connect() as conn:
            updated = conn.execute(
                "UPDATE campaigns SET file = %s WHERE id = %s AND establishment_id = %s",
                (file_key, bundle.campaign.id, bundle.establishment_id),
            ).rowcount
        if updated == 0:
            raise CampaignNotFound(f"campaign {bundle.campaign.id} no longer exists")

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url, connect_timeout=10)


def _uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None
