"""dramatiq-dashboard at /queues, behind HTTP basic auth, in front of the Falcon app.

The dashboard is a WSGI app of its own: requests under the prefix never reach
Falcon, so authentication wraps it here, from outside. It lists the queues
declared on its broker; the project's queues are declared on it explicitly so
that they show even before a message was ever sent.
"""

from __future__ import annotations

import json
import logging

from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import q_name
from dramatiq_dashboard import DashboardApp

from .auth import BasicAuth

log = logging.getLogger(__name__)

PREFIX = "/queues"


def _json_answer(start_response, status: str, title: str, description: str):
    body = json.dumps({"title": title, "description": description}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class Unavailable:
    """Stands for the dashboard when the broker is not Redis (stub broker: embedded run, tests)."""

    def __call__(self, environ, start_response):
        return _json_answer(
            start_response, "503 Service Unavailable", "Dashboard unavailable", "The queue dashboard needs the Redis broker (DRAMATIQ_BROKER=redis)."
        )


class Guarded:
    """The dashboard renders a page before it starts the response: a Redis outage can become a clean 503."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception:
            log.exception("queue dashboard failed on %s", environ.get("PATH_INFO"))
            return _json_answer(start_response, "503 Service Unavailable", "Dashboard unavailable", "The queue dashboard could not read the queues.")


class RequeueRedirect:
    """After a requeue, show the message where it now is.

    dramatiq-dashboard 0.4.0 (its last release) redirects to the message's
    page under the *failed* tab, which no longer holds it and sends the user
    back to the failed tab: the requeued message seems to vanish.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/requeue-message":
            return self.app(environ, start_response)

        def fixed(status, headers, exc_info=None):
            headers = [(k, v.replace("/failed/", "/standard/")) if k.lower() == "location" else (k, v) for k, v in headers]
            return start_response(status, headers, exc_info)

        return self.app(environ, fixed)


def dashboard_app(broker, queues: list[str]):
    if not isinstance(broker, RedisBroker):
        log.warning("the queue dashboard needs a RedisBroker, not %s: /queues answers 503", type(broker).__name__)
        return Unavailable()
    for name in queues:
        broker.declare_queue(q_name(name))
    return Guarded(RequeueRedirect(DashboardApp(broker, PREFIX)))


class Mount:
    """Sends paths under PREFIX to the dashboard (without the prefix), all others to the API."""

    def __init__(self, api, dashboard, user: str, password: str | None):
        self.api = api
        # No password is only possible with ALLOW_NO_QUEUE_PASSWORD=1 (checked by create_app).
        self.dashboard = BasicAuth(dashboard, user, password) if password else dashboard

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == PREFIX or path.startswith(PREFIX + "/"):
            # The dashboard's home route is "/": a bare "/queues" would be its 404.
            inner = path[len(PREFIX):] or "/"
            environ = {**environ, "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + PREFIX, "PATH_INFO": inner}
            return self.dashboard(environ, start_response)
        return self.api(environ, start_response)
