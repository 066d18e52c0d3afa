"""Dramatiq actors of the generation chain; `dramatiq actors` serves them all."""

from .broker import broker  # noqa: F401  (configures the broker before any actor is declared)
from .stages import (  # noqa: F401
    archive_letters,
    build_spreadsheet,
    enqueue,
    fetch_campaign,
    notify_campaign,
    render_letters,
    retry,
    upload_archive,
)
