"""The web process's WSGI app: the queue's API, its health check, its OpenAPI document, the dashboard.

    gunicorn --bind 0.0.0.0:$PORT 'pipeline.web.app:create_app()'   (see the Procfile)
"""

from __future__ import annotations

import logging

import falcon

from pipeline.logs import configure_logging
from pipeline.observability import init_sentry
from pipeline.services import Services, get_services, use_services

from . import errors
from .dashboard import Mount, dashboard_app
from .health import HealthResource
from .jobs import CampaignJobsResource, JobResource, JobsResource
from .openapi import OpenApiResource

log = logging.getLogger(__name__)

DEV_FLAG = "ALLOW_NO_QUEUE_PASSWORD"  # settings.allow_no_queue_password


def dashboard_password(settings) -> str | None:
    password = settings.queue_password.get_secret_value()
    if password:
        return password
    if settings.allow_no_queue_password:
        log.warning("QUEUE_PASSWORD is empty and %s is set: the queue dashboard at /queues is open to anyone", DEV_FLAG)
        return None
    raise RuntimeError(
        "QUEUE_PASSWORD is empty: the queue dashboard (/queues) would be open to anyone. "
        f"Set QUEUE_PASSWORD, or {DEV_FLAG}=1 in development only."
    )


def create_app(services: Services | None = None, *, dashboard: bool = True, broker=None):
    """The WSGI app. `broker` is the dashboard's (default: the actors' broker)."""
    # JSON lines for our loggers and gunicorn's; the actors leave the web process's logging to it.
    configure_logging("web")
    if services is not None:
        # actors.enqueue reads the process's services: both must be the same.
        use_services(services)
    services = services or get_services()
    settings = services.settings
    password = dashboard_password(settings) if dashboard else None

    # Sentry's Dramatiq integration must patch the broker before `actors` creates it.
    init_sentry(settings, "web")
    import actors  # declares every queue of the project on the broker

    api = falcon.App(media_type=falcon.MEDIA_JSON)
    errors.install(api)
    api.add_route("/", HealthResource(settings))
    api.add_route("/openapi.json", OpenApiResource())
    api.add_route("/jobs", JobsResource(services, actors.enqueue))
    api.add_route("/jobs/{job_id}", JobResource(services))
    api.add_route("/campaigns/{campaign_id}/jobs", CampaignJobsResource(services))
    if not dashboard:
        return api
    queue_broker = broker or actors.broker
    return Mount(api, dashboard_app(queue_broker, actors.broker.get_declared_queues()), settings.queue_user, password)
