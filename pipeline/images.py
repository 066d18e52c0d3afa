"""Logos and signature images, read from the project's storage and checked before use.

A missing, corrupt or oversized image must never stop a campaign: its place
in the letter stays empty and the job records a warning.
"""

from __future__ import annotations

import io
import warnings as python_warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from .models import CampaignBundle, FileRef
from .storage import ObjectMissing, Storage

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 25_000_000


@dataclass
class LoadedImages:
    images: dict[str, bytes]
    warnings: list[str]


def image_refs(bundle: CampaignBundle) -> list[tuple[str, FileRef]]:
    refs = [(f"logo {i + 1}", ref) for i, ref in enumerate(bundle.draft.logo[:2])]
    sender = bundle.draft.sender
    if sender:
        refs += [(f"signature {i + 1}", s.file) for i, s in enumerate(sender.signatories[:2]) if s.file]
    return refs


def prepare_image(data: bytes) -> tuple[bytes | None, str | None]:
    """(printable PNG bytes, None), or (None, why the image cannot be printed).

    Transparency is flattened on white, as on paper: an image with an alpha
    channel is stored as two linked objects in a PDF, which defeats the
    de-duplication of identical images when chunk PDFs are merged.
    """
    if len(data) > MAX_BYTES:
        return None, f"larger than {MAX_BYTES // (1024 * 1024)} MB"
    try:
        with python_warnings.catch_warnings():
            # Pillow warns (and past a bound, raises) on huge images: we refuse them ourselves.
            python_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return None, f"{width}x{height} pixels, more than {MAX_PIXELS // 1_000_000} megapixels"
                if image.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                    return None, f"in an unsupported format ({image.format})"
                image.load()
                rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        out = io.BytesIO()
        flat.save(out, format="PNG", optimize=False)
        return out.getvalue(), None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None, "not a readable image"


def load_images(storage: Storage, bundle: CampaignBundle) -> LoadedImages:
    images, warnings = {}, []
    for label, ref in image_refs(bundle):
        if ref.id in images:
            continue
        try:
            data = storage.get_bytes(ref.id)
        except ObjectMissing:
            warnings.append(f"{label} ({ref.id}) is missing from storage: its place is left empty")
            continue
        printable, problem = prepare_image(data)
        if problem:
            warnings.append(f"{label} ({ref.id}) is {problem}: its place is left empty")
            continue
        images[ref.id] = printable
    return LoadedImages(images, warnings)
