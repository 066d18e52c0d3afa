"""A real HTTP server that plays the upstream REST API in tests.

Real sockets rather than a mocked session, so that URLs, query strings,
headers, timeouts and connection errors go through `requests` as in
production.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt

PREFIX = "/api"


@dataclass
class RecordedRequest:
    method: str
    path: str  # relative to the API root, e.g. "/campaigns/<id>"
    query: dict[str, str]
    claims: dict | None  # None when the token was missing or invalid


class _Refused(Exception):
    def __init__(self, status: int):
        self.status = status


class UpstreamServer:
    """Campaign bundles (CampaignBundle JSON) served as the upstream API does.

    Use as a context manager; `url` is the API root to give as API_ENDPOINT.
    """

    def __init__(self, secret: str = "s3cret"):
        self.secret = secret
        self.bundles: dict[str, dict] = {}
        self.requests: list[RecordedRequest] = []
        self.updates: dict[str, list[dict]] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- setup ----------------------------------------------------------
    def add_bundle(self, bundle_json: dict) -> str:
        """Serve a campaign; returns its id. A `draft` of None means no draft."""
        bundle = copy.deepcopy(bundle_json)  # later edits by the test must not leak in
        campaign_id = bundle["campaign"]["id"]
        self.bundles[campaign_id] = bundle
        return campaign_id

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * n)

    # -- lifecycle ------------------------------------------------------
    def start(self) -> UpstreamServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        # Kept after stop(): the url of a stopped server is a closed port.
        self._port = self._httpd.server_address[1]
        # A short poll interval: shutdown() waits for it, at every test's teardown.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> UpstreamServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}{PREFIX}"

    # -- request handling -----------------------------------------------
    def _handler_class(self):
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                upstream._serve(self, "GET")

            def do_PUT(self):
                upstream._serve(self, "PUT")

            def log_message(self, format, *args):
                pass

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        path = parts.path[len(PREFIX):] if parts.path.startswith(PREFIX + "/") else parts.path
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        claims = self._claims(handler.headers.get("x-access-token"))
        body = None
        if method == "PUT":
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, claims))
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return self._send(handler, failure, {"error": "simulated failure"})
        try:
            status, payload = self._route(method, path, query, claims, body)
        except _Refused as refused:
            status, payload = refused.status, {"error": "refused"}
        self._send(handler, status, payload)

    def _claims(self, token: str | None) -> dict | None:
        if not token:
            return None
        try:
            return jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"require": ["establishmentId", "userId", "role"]},
            )
        except jwt.InvalidTokenError:
            return None

    def _bundle(self, campaign_id: str | None, claims: dict | None) -> dict:
        # A bad token is refused before the campaign is looked up, as an
        # authenticating API does: it must not reveal which ids exist.
        if claims is None or claims.get("role") != "admin":
            raise _Refused(401)
        bundle = self.bundles.get(campaign_id or "")
        if bundle is None:
            raise _Refused(404)
        if claims["establishmentId"] != bundle["establishmentId"]:
            raise _Refused(401)
        return bundle

    def _route(self, method, path, query, claims, body):
        segments = path.strip("/").split("/")
        if segments[0] == "campaigns" and len(segments) == 2:
            bundle = self._bundle(segments[1], claims)
            if method == "GET":
                return 200, bundle["campaign"]
            try:
                received = json.loads(body or b"null")
            except ValueError:
                return 400, {"error": "invalid JSON"}
            with self._lock:
                self.updates.setdefault(segments[1], []).append(received)
            return 200, received
        if method == "GET" and path == "/housing":
            bundle = self._bundle(query.get("campaignIds"), claims)
            return 200, {"entities": bundle["housings"]}
        if method == "GET" and path == "/drafts":
            bundle = self._bundle(query.get("campaign"), claims)
            return 200, [bundle["draft"]] if bundle["draft"] is not None else []
        return 404, {"error": "no such route"}

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


FakeUpstream = UpstreamServer  # the name used in the brief
