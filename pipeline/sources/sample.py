"""A campaign read from a JSON file: the bundled sample of the embedded run."""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

from ..errors import CampaignNotFound
from ..models import CampaignBundle
from . import parse_bundle

log = logging.getLogger(__name__)


def bundled_sample_path() -> Path:
    return Path(str(resources.files("pipeline") / "sample" / "campaign.json"))


def install_sample_images(storage) -> list[str]:
    """Put the sample's logos and signatures where its draft expects them: in the storage."""
    keys = []
    for image in sorted(bundled_sample_path().parent.glob("*.png")):
        key = f"sample/{image.name}"
        storage.put_file(key, image, "image/png")
        keys.append(key)
    return keys


class SampleSource:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else bundled_sample_path()

    def fetch(self, campaign_id: str, establishment_id: str) -> CampaignBundle:
        bundle = parse_bundle(json.loads(self.path.read_text(encoding="utf-8")))
        if bundle.campaign.id != campaign_id:
            raise CampaignNotFound(f"campaign {campaign_id} is not in {self.path.name}")
        return bundle

    def record_file(self, bundle: CampaignBundle, file_key: str) -> None:
        log.info("sample source: campaign %s archived as %s", bundle.campaign.id, file_key)
