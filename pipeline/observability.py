"""Sentry and logging, set up the same way in the web process and the workers.

Owners' names and addresses and every secret are kept out of Sentry events:
message arguments are job ids only, and before_send drops request bodies,
local variables and anything that looks like a setting's secret.
"""

from __future__ import annotations

import logging

from .settings import Settings

_SCRUBBED = "[scrubbed]"
_initialised = False


def _scrub(event, hint):
    for exception in (event.get("exception") or {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    request = event.get("request")
    if request:
        request.pop("data", None)
        request.pop("cookies", None)
        headers = request.get("headers") or {}
        for name in list(headers):
            if name.lower() in ("authorization", "x-access-token", "cookie"):
                headers[name] = _SCRUBBED
    return event


def init_sentry(settings: Settings, component: str) -> None:
    global _initialised
    dsn = settings.sentry_dsn.get_secret_value()
    if not dsn or _initialised:
        return
    import sentry_sdk
    from sentry_sdk.integrations.dramatiq import DramatiqIntegration

    from . import __version__

    sentry_sdk.init(
        dsn=dsn,
        release=f"campaign-mail@{__version__}",
        integrations=[DramatiqIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        before_send=_scrub,
    )
    sentry_sdk.set_tag("component", component)
    _initialised = True
    logging.getLogger(__name__).info("sentry initialised for %s", component)
