"""The deliverable: the letters' PDF (merged from chunks) and the XLSX, in one ZIP.

Everything goes through files on disk so that neither the merge nor the ZIP
holds a whole campaign's bytes in memory at once.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from pypdf import PdfWriter


def merge_pdfs(parts: list[Path], out: Path) -> int:
    """Concatenate chunk PDFs in order; returns the page count."""
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    # Each chunk embeds its own copy of the logos and signatures: keep one.
    writer.compress_identical_objects()
    pages = len(writer.pages)
    with out.open("wb") as stream:
        writer.write(stream)
    writer.close()
    return pages


def write_zip(out: Path, members: dict[str, Path]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, path in members.items():
            archive.write(path, arcname=name)
