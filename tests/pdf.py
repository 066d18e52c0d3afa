"""Reading a generated PDF back, as a person checking the letters would."""

from __future__ import annotations

import io

from pypdf import PdfReader

LETTER_START = "À l'attention de"


def pdf_pages_text(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def letters_text(data: bytes) -> list[str]:
    """The text of each letter: a letter starts on the page that carries a recipient block."""
    letters: list[str] = []
    for text in pdf_pages_text(data):
        if LETTER_START in text or not letters:
            letters.append(text)
        else:
            letters[-1] += "\n" + text
    return letters
