"""The two kinds of failure a stage can meet.

A PermanentError fails the job at once with its message (retrying cannot help:
the campaign is missing, its data is invalid). Anything else is presumed
transient (network, a 5xx, a storage hiccup) and retried with backoff.
Messages must never hold owners' personal data or secrets: they end up in
job states, logs and Sentry.
"""


class PermanentError(Exception):
    """Retrying will not help; the job fails with this message."""


class CampaignNotFound(PermanentError):
    pass


class DraftNotFound(PermanentError):
    pass


class InvalidCampaign(PermanentError):
    pass


class JobNotFound(PermanentError):
    pass
