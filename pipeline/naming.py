"""Names of the published files: `{yyyymmddhhmmss}-{slug}` as the replaced system had them."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d", "ł": "l", "Ł": "L"})
MAX_SLUG = 80


def slugify(title: str) -> str:
    """ASCII, lowercase, dash-separated: safe as an S3 key and as a file name anywhere."""
    text = unicodedata.normalize("NFKD", (title or "").translate(_LIGATURES))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:MAX_SLUG].rstrip("-") or "campagne"


def archive_name(title: str, at: datetime) -> str:
    return f"{at.astimezone(timezone.utc):%Y%m%d%H%M%S}-{slugify(title)}"


def pdf_name(name: str) -> str:
    return f"{name}.pdf"


def xlsx_name(name: str) -> str:
    return f"{name}-destinataires.xlsx"


def zip_name(name: str) -> str:
    return f"{name}.zip"
