"""Reading a generated PDF back, as a person checking the letters would."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_pages_text(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]
