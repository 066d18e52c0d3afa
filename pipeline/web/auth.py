"""Who may call what: a bearer token for the API, HTTP basic credentials for the dashboard.

Secrets are compared with hmac.compare_digest on bytes: a str holding
non-ASCII characters would make it raise instead of answer 401.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json

import falcon

BEARER_REALM = 'Bearer realm="campaign-mail"'
BASIC_REALM = 'Basic realm="campaign-mail queues"'


def _same(given: str | bytes, expected: str) -> bool:
    if isinstance(given, str):
        given = given.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(given, expected.encode("utf-8"))


def require_token(req: falcon.Request, resp: falcon.Response, resource, params) -> None:
    """Falcon hook: the resource's settings hold API_TOKEN."""
    expected = resource.settings.api_token.get_secret_value()
    if not expected:
        # An empty token must not mean an open API.
        raise falcon.HTTPServiceUnavailable(title="API not configured", description="API_TOKEN is not configured")
    scheme, _, token = (req.get_header("Authorization") or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise falcon.HTTPUnauthorized(
            title="Authentication required",
            description="Send the header 'Authorization: Bearer <API_TOKEN>'.",
            challenges=[BEARER_REALM],
        )
    if not _same(token, expected):
        raise falcon.HTTPUnauthorized(
            title="Invalid token", description="The bearer token is not valid.", challenges=[f'{BEARER_REALM}, error="invalid_token"']
        )


def basic_credentials(environ) -> tuple[bytes, bytes] | None:
    scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None


class BasicAuth:
    """WSGI wrapper: the dashboard is not a Falcon app, so Falcon hooks cannot guard it."""

    def __init__(self, app, user: str, password: str):
        self.app = app
        self.user = user
        self.password = password

    def __call__(self, environ, start_response):
        credentials = basic_credentials(environ)
        if credentials is not None:
            user_ok = _same(credentials[0], self.user)
            password_ok = _same(credentials[1], self.password)
            # Both are compared every time: which one is wrong does not show in the timing.
            if user_ok & password_ok:
                return self.app(environ, start_response)
        body = json.dumps({"title": "Authentication required", "description": "The queue dashboard needs the ops credentials."}).encode()
        start_response(
            "401 Unauthorized",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("WWW-Authenticate", BASIC_REALM)],
        )
        return [body]
