"""The upstream REST API (API_ENDPOINT), authenticated as the replaced system was.

The token is an HS256 JWT signed with AUTH_SECRET and scoped to the
establishment; 404 means the campaign or its draft is missing (no retry),
5xx and network errors are transient (retried by the actor).
"""

from __future__ import annotations

import time
from urllib.parse import quote

import jwt
import requests

from ..errors import CampaignNotFound, DraftNotFound, PermanentError
from ..models import CampaignBundle
from ..settings import Settings
from . import parse_bundle


class UpstreamError(Exception):
    """A transient failure of the upstream API (5xx, timeout): worth a retry."""


class ApiSource:
    def __init__(self, settings: Settings, session: requests.Session | None = None):
        self.endpoint = settings.api_endpoint.rstrip("/")
        self.secret = settings.auth_secret
        self.user_id = settings.api_user_id
        self.timeout = settings.api_timeout_seconds
        self.session = session or requests.Session()

    def token(self, establishment_id: str) -> str:
        if not self.secret.get_secret_value():
            raise PermanentError("AUTH_SECRET is not set: cannot authenticate to the upstream API")
        now = int(time.time())
        claims = {
            "establishmentId": establishment_id,
            "userId": self.user_id,
            "role": "admin",
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode(claims, self.secret.get_secret_value(), algorithm="HS256")

    def _call(self, method: str, path: str, establishment_id: str, *, missing: type[Exception] | None = None, **kwargs):
        url = f"{self.endpoint}{path}"
        headers = {"x-access-token": self.token(establishment_id), "Accept": "application/json"}
        try:
            response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise UpstreamError(f"{method} {path}: {type(error).__name__}") from None
        if response.status_code == 404 and missing is not None:
            raise missing(f"{method} {path}: not found upstream (404)")
        if response.status_code in (401, 403):
            raise PermanentError(
                f"{method} {path}: upstream refused the token ({response.status_code}); check AUTH_SECRET"
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise UpstreamError(f"{method} {path}: upstream answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(f"{method} {path}: upstream answered {response.status_code}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            # A proxy's or a maintenance page's HTML answered with 200.
            raise UpstreamError(f"{method} {path}: the answer is not JSON") from None

    def _campaign(self, campaign_id: str, establishment_id: str) -> dict:
        return self._call("GET", f"/campaigns/{quote(campaign_id, safe='')}", establishment_id, missing=CampaignNotFound)

    def fetch(self, campaign_id: str, establishment_id: str) -> CampaignBundle:
        campaign = self._campaign(campaign_id, establishment_id)
        housing = self._call(
            "GET",
            "/housing",
            establishment_id,
            params={"campaignIds": campaign_id, "paginate": "false"},
            missing=CampaignNotFound,
        )
        drafts = self._call("GET", "/drafts", establishment_id, params={"campaign": campaign_id}, missing=DraftNotFound)
        if not isinstance(drafts, list) or not drafts:
            raise DraftNotFound(f"campaign {campaign_id} has no draft")
        # A missing "entities" must fail validation, not pass as an empty campaign.
        entities = housing.get("entities") if isinstance(housing, dict) else housing
        return parse_bundle(
            {"establishmentId": establishment_id, "campaign": campaign, "draft": drafts[0], "housings": entities}
        )

    def record_file(self, bundle: CampaignBundle, file_key: str) -> None:
        # Upstream saves title and status from this body: send the campaign as
        # it is now, not as it was when the generation started.
        fresh = self._campaign(bundle.campaign.id, bundle.establishment_id)
        self._call(
            "PUT",
            f"/campaigns/{quote(bundle.campaign.id, safe='')}",
            bundle.establishment_id,
            json={**fresh, "file": file_key},
            missing=CampaignNotFound,
        )
