"""Sentry, set up the same way in the web process and the workers.

Events must not carry owners' personal data nor any secret. Messages carry job
ids by design, but Sentry's Dramatiq integration attaches the whole message
(args, kwargs, options holding the next messages and retry tracebacks) and
the logging integration the formatted log lines: those are cut down here to
what ops need (actor, queue, message and job ids). Whatever slips through
still loses every configured secret, wherever it appears in the event.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from pydantic import SecretStr

from .logs import CONTEXT_FIELDS, current_context
from .settings import Settings

_SCRUBBED = "[scrubbed]"
_SECRET_HEADERS = {"authorization", "proxy-authorization", "x-access-token", "cookie", "set-cookie", "x-api-key"}
_MESSAGE_FIELDS = ("queue_name", "actor_name", "message_id", "message_timestamp")
# Sentry's key-based scrubber also blanks these wherever they appear as keys (extra, breadcrumb data, request).
_OWNER_KEYS = ["owner", "owners", "fullname", "full_name", "rawaddress", "raw_address", "banaddress", "ban_address",
               "additionaladdress", "additional_address", "address", "birthdate", "birth_date", "email", "phone"]
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Shorter secrets are only scrubbed where a whole string equals them: as
# substrings they would blank ordinary words.
_MIN_SUBSTRING_SECRET = 6
# An access key id names a key, like a user name: blanking it would also blank
# ordinary words where it is one (MinIO's user "campaign-mail" in compose).
_NOT_SECRET = {"s3_access_key_id"}
_initialised = False


def secrets_of(settings: Settings) -> list[str]:
    fields = dict(settings).items()
    found = [value.get_secret_value() for name, value in fields if isinstance(value, SecretStr) and name not in _NOT_SECRET]
    found += [urlsplit(url).password or "" for url in (settings.database_url, settings.redis_url)]
    # Longest first, so a secret containing another is replaced whole.
    return sorted({s for s in found if s}, key=len, reverse=True)


def _replace_secrets(value, secrets):
    if isinstance(value, str):
        for secret in secrets:
            if value == secret:
                return _SCRUBBED
            if len(secret) >= _MIN_SUBSTRING_SECRET and secret in value:
                value = value.replace(secret, _SCRUBBED)
        return value
    if isinstance(value, dict):
        return {k: _replace_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_secrets(v, secrets) for v in value]
    return value


def _job_id_of(message: dict):
    args, kwargs = message.get("args") or [], message.get("kwargs") or {}
    job_id = kwargs.get("job_id") if isinstance(kwargs, dict) else None
    job_id = job_id or (args[0] if args else None)
    return job_id if isinstance(job_id, str) and _UUID.match(job_id) else None


def _scrub_dramatiq_message(event) -> None:
    context = (event.get("contexts") or {}).get("dramatiq")
    message = context.get("data") if context else None
    if not isinstance(message, dict):
        return
    tags = event.setdefault("tags", {})
    job_id = _job_id_of(message)
    if job_id:
        tags.setdefault("job_id", job_id)
    kept = {name: message[name] for name in _MESSAGE_FIELDS if name in message}
    kept["retries"] = (message.get("options") or {}).get("retries", 0)
    kept["args"] = kept["kwargs"] = _SCRUBBED
    context["data"] = kept


def _drop_frame_locals(event) -> None:
    for section in ("exception", "threads"):
        for value in (event.get(section) or {}).get("values", []):
            for frame in (value.get("stacktrace") or {}).get("frames", []):
                frame.pop("vars", None)


def _scrub_request(event) -> None:
    request = event.get("request")
    if not request:
        return
    for name in ("data", "cookies", "env"):
        request.pop(name, None)
    headers = request.get("headers") or {}
    for name in list(headers):
        if name.lower() in _SECRET_HEADERS:
            headers[name] = _SCRUBBED


def _keep_log_template(event) -> None:
    # The template ("job %s failed") is code; its arguments may be data.
    entry = event.get("logentry")
    if entry:
        entry.pop("params", None)
        entry["formatted"] = entry.get("message", "")


def make_before_send(secrets: list[str]):
    def before_send(event, hint):
        _scrub_dramatiq_message(event)
        _drop_frame_locals(event)
        _scrub_request(event)
        _keep_log_template(event)
        tags = event.setdefault("tags", {})
        for name, value in current_context().items():
            tags.setdefault(name, str(value))
        return _replace_secrets(event, secrets)

    return before_send


def before_breadcrumb(crumb, hint):
    record = (hint or {}).get("log_record")
    if record is not None:
        crumb["message"] = str(record.msg)
        crumb["data"] = {k: v for k, v in (crumb.get("data") or {}).items() if k in CONTEXT_FIELDS}
    return crumb


def init_sentry(settings: Settings, component: str, **overrides) -> None:
    """Must run before the broker is created: the Dramatiq integration patches Broker.__init__.

    `overrides` go to sentry_sdk.init (tests pass a local transport).
    """
    global _initialised
    dsn = settings.sentry_dsn.get_secret_value()
    if not dsn or _initialised:
        return
    import sentry_sdk
    from sentry_sdk.integrations.dramatiq import DramatiqIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    from . import __version__

    before_send = make_before_send(secrets_of(settings))
    # send_default_pii is left at its default (off): newer 2.x releases warn when it is passed.
    sentry_sdk.init(
        dsn=dsn,
        release=f"campaign-mail@{__version__}",
        integrations=[DramatiqIntegration()],
        include_local_variables=False,
        event_scrubber=EventScrubber(denylist=DEFAULT_DENYLIST + _OWNER_KEYS, recursive=True),
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=before_breadcrumb,
        **overrides,
    )
    # On the global scope, so that worker threads' events carry it too.
    sentry_sdk.get_global_scope().set_tag("component", component)
    _initialised = True
    logging.getLogger(__name__).info("sentry initialised for %s", component)


def report_job_failure(job_id: str, campaign_id: str | None, stage: str, reason: str) -> None:
    """One event per job that failed for good, findable by its job and campaign ids.

    The title names the stage only, so that Sentry groups failures per stage
    rather than opening an issue per job. A no-op when Sentry is not set up.
    """
    import sentry_sdk

    tags = {"job_id": job_id, "stage": stage}
    if campaign_id:
        tags["campaign_id"] = campaign_id
    sentry_sdk.capture_message(
        f"job failed at {stage}",
        level="error",
        tags=tags,
        contexts={"job": {**tags, "reason": reason}},
    )
