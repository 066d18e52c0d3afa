"""Dramatiq actors of the generation chain; `dramatiq actors` serves them all."""

from .broker import broker  # noqa: F401  (configures the broker before any actor is declared)
from .stages import (
    archive_letters,
    build_spreadsheet,
    enqueue,
    fetch_campaign,
    notify_campaign,
    render_letters,
    retry,
    upload_archive,
)

__all__ = [
    "archive_letters",
    "broker",
    "build_spreadsheet",
    "enqueue",
    "fetch_campaign",
    "notify_campaign",
    "render_letters",
    "retry",
    "upload_archive",
]
