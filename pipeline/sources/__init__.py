"""Where campaigns come from: the upstream REST API, our PostgreSQL schema, or a JSON sample.

Each source loads a whole CampaignBundle and is told the archive key once the
ZIP is published, so the stages never know which one they talk to.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import ValidationError

from ..errors import InvalidCampaign
from ..models import CampaignBundle
from ..settings import Settings


class CampaignSource(Protocol):
    def fetch(self, campaign_id: str, establishment_id: str) -> CampaignBundle: ...

    def record_file(self, bundle: CampaignBundle, file_key: str) -> None:
        """Tell the owner of the campaign where its archive is."""


def make_source(settings: Settings) -> CampaignSource:
    if settings.campaign_source == "api":
        from .api import ApiSource

        return ApiSource(settings)
    if settings.campaign_source == "postgres":
        from .postgres import PostgresSource

        return PostgresSource(settings.database_url)
    from .sample import SampleSource

    return SampleSource(settings.sample_campaign_file)


def parse_bundle(data: dict) -> CampaignBundle:
    """Validate a bundle, with an error that names fields but never their values.

    pydantic's own message quotes the input, which here is owners' personal
    data: it must not reach a job state, a log or Sentry.
    """
    try:
        return CampaignBundle.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors(include_input=False, include_url=False)[:5]
        ]
        more = error.error_count() - len(problems)
        suffix = f" (and {more} more)" if more > 0 else ""
        raise InvalidCampaign("invalid campaign data: " + "; ".join(problems) + suffix) from None
