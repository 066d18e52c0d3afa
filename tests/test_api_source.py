"""ApiSource against a real HTTP server playing the upstream API."""

from __future__ import annotations

import copy

import jwt
import pytest

from pipeline.errors import CampaignNotFound, DraftNotFound, InvalidCampaign, PermanentError
from pipeline.settings import Settings
from pipeline.sources.api import ApiSource, UpstreamError
from tests.upstream import UpstreamServer

# The reference's short test secret is fine here; PyJWT would warn on every token.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

SECRET = "s3cret"
ESTABLISHMENT = "11111111-1111-1111-1111-111111111111"
CAMPAIGN = "22222222-2222-2222-2222-222222222222"

BUNDLE = {
    "establishmentId": ESTABLISHMENT,
    "campaign": {
        "id": CAMPAIGN,
        "title": "Logements vacants 2026",
        "description": "Relance",
        "status": "sending",
        "file": None,
        "createdAt": "2026-11-30T09:00:00Z",
        "housingCount": 3,
        "ownerCount": 2,
        "groupId": "33333333-3333-3333-3333-333333333333",  # unknown to our model: must survive the round trip
    },
    "draft": {
        "id": "d1",
        "subject": "Votre logement vacant",
        "body": "<p>Bonjour {{owner.fullName}},</p>",
        "logo": [{"id": "logos/a.png", "type": "image/png", "url": None}],
        "sender": {
            "name": "Mairie de Lyon",
            "service": "Habitat",
            "firstName": "Claire",
            "lastName": "Martin",
            "address": "1 place de la Comédie, 69001 Lyon",
            "email": "habitat@example.org",
            "phone": "0400000000",
            "signatories": [
                {"firstName": "Claire", "lastName": "Martin", "role": "Maire", "file": None},
                {"firstName": "Paul", "lastName": "Durand", "role": "Adjoint", "file": {"id": "sig/p.png"}},
            ],
        },
        "writtenAt": "2026-12-04T00:00:00.000Z",
        "writtenFrom": "Lyon",
    },
    "housings": [
        {
            "id": "h1",
            "localId": "690001",
            "rawAddress": ["3 rue Neuve", "69001 Lyon"],
            "housingKind": "APPART",
            "owner": {
                "id": "o1",
                "fullName": "Éloïse Lefèvre",
                "rawAddress": ["12 rue de la Paix", "75002 Paris"],
                "banAddress": {"label": "12 Rue de la Paix 75002 Paris", "postalCode": "75002", "city": "Paris"},
            },
        },
        {
            "id": "h2",
            "localId": "690002",
            "rawAddress": ["5 quai Saint-Vincent", "69001 Lyon"],
            "housingKind": "MAISON",
            "owner": {"id": "o2", "fullName": "Noël Œhmichen", "rawAddress": ["8 allée des Pins", "13008 Marseille"]},
        },
        {"id": "h3", "localId": "690003", "rawAddress": ["7 rue Vide"], "owner": None},
    ],
}


@pytest.fixture
def server():
    with UpstreamServer(secret=SECRET) as upstream:
        upstream.add_bundle(BUNDLE)
        yield upstream


def make_source(url: str, secret: str = SECRET) -> ApiSource:
    return ApiSource(
        Settings(api_endpoint=url, auth_secret=secret, campaign_source="api", api_timeout_seconds=5)
    )


@pytest.fixture
def source(server):
    return make_source(server.url)


def test_fetch_returns_the_bundle(source):
    bundle = source.fetch(CAMPAIGN, ESTABLISHMENT)

    assert bundle.establishment_id == ESTABLISHMENT
    assert bundle.campaign.title == "Logements vacants 2026"
    assert [h.id for h in bundle.housings] == ["h1", "h2", "h3"]
    assert [h.id for h in bundle.letter_housings()] == ["h1", "h2"]
    assert [o.full_name for o in bundle.distinct_owners()] == ["Éloïse Lefèvre", "Noël Œhmichen"]
    assert bundle.housings[0].owner.postal_lines() == ["12 Rue de la Paix", "75002 Paris"]
    assert bundle.housings[1].owner.ban_address is None
    assert bundle.housings[1].owner.postal_lines() == ["8 allée des Pins", "13008 Marseille"]
    assert bundle.draft.subject == "Votre logement vacant"
    assert bundle.draft.sender.name == "Mairie de Lyon"
    assert [s.last_name for s in bundle.draft.sender.signatories] == ["Martin", "Durand"]
    assert str(bundle.draft.written_at) == "2026-12-04"


def test_every_request_carries_a_scoped_admin_token(server, source):
    source.fetch(CAMPAIGN, ESTABLISHMENT)

    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", f"/campaigns/{CAMPAIGN}"),
        ("GET", "/housing"),
        ("GET", "/drafts"),
    ]
    for request in server.requests:
        # The server verified the signature with SECRET; claims is None otherwise.
        assert request.claims is not None
        assert {k: request.claims[k] for k in ("establishmentId", "userId", "role")} == {
            "establishmentId": ESTABLISHMENT,
            "userId": source.user_id,
            "role": "admin",
        }
    assert server.requests[1].query == {"campaignIds": CAMPAIGN, "paginate": "false"}
    assert server.requests[2].query == {"campaign": CAMPAIGN}


def test_token_is_hs256_signed_with_auth_secret(source):
    token = source.token(ESTABLISHMENT)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["establishmentId"] == ESTABLISHMENT


def test_wrong_auth_secret_is_permanent_and_does_not_leak_it(server):
    with pytest.raises(PermanentError) as caught:
        make_source(server.url, secret="not-the-right-one").fetch(CAMPAIGN, ESTABLISHMENT)
    assert not isinstance(caught.value, UpstreamError)
    assert "AUTH_SECRET" in str(caught.value)
    assert "not-the-right-one" not in str(caught.value)
    assert server.requests[0].claims is None


def test_other_establishment_is_refused(source):
    with pytest.raises(PermanentError, match="AUTH_SECRET"):
        source.fetch(CAMPAIGN, "99999999-9999-9999-9999-999999999999")


def test_unknown_campaign(source):
    with pytest.raises(CampaignNotFound):
        source.fetch("44444444-4444-4444-4444-444444444444", ESTABLISHMENT)


def test_no_draft(server, source):
    server.add_bundle({**BUNDLE, "draft": None})
    with pytest.raises(DraftNotFound):
        source.fetch(CAMPAIGN, ESTABLISHMENT)


def test_5xx_is_transient(server, source):
    server.fail_next(1, status=503)
    with pytest.raises(UpstreamError, match="503"):
        source.fetch(CAMPAIGN, ESTABLISHMENT)
    # The failure was transient: the retry succeeds.
    assert source.fetch(CAMPAIGN, ESTABLISHMENT).campaign.id == CAMPAIGN


def test_connection_refused_is_transient():
    with UpstreamServer(secret=SECRET) as stopped:
        url = stopped.url
    with pytest.raises(UpstreamError):
        make_source(url).fetch(CAMPAIGN, ESTABLISHMENT)


def test_invalid_data_names_the_field_not_personal_data(server, source):
    bundle = copy.deepcopy(BUNDLE)
    nameless = bundle["housings"][1]["owner"]
    del nameless["fullName"]
    nameless["additionalAddress"] = "Chez Mme Bérénice Quintal"
    server.add_bundle(bundle)

    with pytest.raises(InvalidCampaign) as caught:
        source.fetch(CAMPAIGN, ESTABLISHMENT)

    message = str(caught.value)
    assert "housings.1.owner.fullName" in message
    for personal in ("Éloïse", "Lefèvre", "Bérénice", "Quintal", "allée des Pins", "Marseille", "Rue de la Paix"):
        assert personal not in message


def test_record_file_puts_the_campaign_with_its_file(server, source):
    bundle = source.fetch(CAMPAIGN, ESTABLISHMENT)

    source.record_file(bundle, "x.zip")

    put = server.requests[-1]
    assert (put.method, put.path) == ("PUT", f"/campaigns/{CAMPAIGN}")
    assert put.claims["establishmentId"] == ESTABLISHMENT
    [body] = server.updates[CAMPAIGN]
    assert body["file"] == "x.zip"
    assert body["groupId"] == BUNDLE["campaign"]["groupId"]
    expected = {k: v for k, v in BUNDLE["campaign"].items() if k not in ("file", "createdAt")}
    assert {k: body[k] for k in expected} == expected
