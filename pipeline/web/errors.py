"""Every error answer is JSON `{"title", "description"}`, whatever the client accepts.

Real bugs get a generic 500 (the details go to the log and Sentry, never to
the client); an unreachable Redis is not a bug but an outage, so it gets a 503.
"""

from __future__ import annotations

import json
import logging

import falcon
import redis

log = logging.getLogger(__name__)

_DEFAULT_DESCRIPTIONS = {
    404: "There is no such resource at this path.",
    405: "This method is not allowed on this path.",
}


def serialize_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    description = error.description or _DEFAULT_DESCRIPTIONS.get(error.status_code) or error.title
    if error.status_code == 405 and resp.get_header("Allow"):
        description = f"{req.method} is not allowed here; allowed: {resp.get_header('Allow')}."
    resp.content_type = falcon.MEDIA_JSON
    resp.data = json.dumps({"title": error.title, "description": description}).encode()


def handle_unexpected(req, resp, error, params):
    log.error("unhandled error on %s %s", req.method, req.path, exc_info=error)
    raise falcon.HTTPInternalServerError(
        title="Internal server error", description="The server failed to answer this request; it has been logged."
    )


def handle_redis_down(req, resp, error, params):
    log.error("redis error on %s %s: %s", req.method, req.path, type(error).__name__, exc_info=error)
    raise falcon.HTTPServiceUnavailable(
        title="Job store unavailable", description="The job store (Redis) cannot be reached; retry later."
    )


def install(app: falcon.App) -> None:
    app.set_error_serializer(serialize_error)
    # Falcon picks the most specific handler: HTTPError keeps its own.
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(redis.exceptions.RedisError, handle_redis_down)
