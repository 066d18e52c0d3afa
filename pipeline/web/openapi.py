"""`GET /openapi.json`: the contract of the API, built here so that it stays beside the code.

tests/test_web_api.py checks the app against this document with schemathesis.
The dashboard (/queues, HTML behind basic auth) is left out: it is not an API.
"""

from __future__ import annotations

from typing import get_args

import pipeline
from pipeline.jobs import State

from .jobs import DOWNLOAD_URL_SECONDS, MAX_BODY_BYTES

UUID = {"type": "string", "format": "uuid"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _error(description: str, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if headers:
        answer["headers"] = headers
    return answer


def _json(description: str, schema_name: str, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}
    if headers:
        answer["headers"] = headers
    return answer


_AUTH_ERRORS = {
    "401": _error(
        "Missing or wrong bearer token.", {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
    ),
    "503": _error("API_TOKEN is not configured, or the job store (Redis) is unreachable."),
}

_JOB = {
    "type": "object",
    "required": ["id", "campaignId", "establishmentId", "state", "stage", "progress", "timings", "warnings", "retryOf", "statusUrl"],
    "properties": {
        "id": UUID,
        "campaignId": UUID,
        "establishmentId": UUID,
        "state": {"type": "string", "enum": list(get_args(State))},
        "stage": {"type": ["string", "null"], "description": "The stage running or last run."},
        "progress": {
            "type": "object",
            "required": ["done", "total"],
            "properties": {
                "done": {"type": "integer", "minimum": 0, "description": "Letters rendered."},
                "total": {"type": ["integer", "null"], "minimum": 0, "description": "Letters to render; null until the campaign is fetched."},
            },
        },
        "timings": {
            "type": "object",
            "required": ["createdAt", "startedAt", "finishedAt", "durationSeconds"],
            "properties": {
                "createdAt": {"type": "string", "format": "date-time"},
                "startedAt": NULLABLE_TIME,
                "finishedAt": NULLABLE_TIME,
                "durationSeconds": {
                    "type": ["number", "null"],
                    "description": "From start to finish, or to now while running; null before the start.",
                },
            },
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
        "statusUrl": {"type": "string", "format": "uri"},
        "archiveKey": {"type": "string", "description": "Storage key of the ZIP (succeeded jobs)."},
        "archiveName": {"type": ["string", "null"]},
        "downloadUrl": {
            "type": "string",
            "format": "uri",
            "description": f"Pre-signed GET of the ZIP, valid {DOWNLOAD_URL_SECONDS} s (S3 storage).",
        },
        "archivePath": {"type": "string", "description": "Where the ZIP is (local storage)."},
        "error": {"type": ["string", "null"], "description": "Why the job failed or was cancelled."},
        "retryOf": {"type": ["string", "null"], "format": "uuid", "description": "The failed or cancelled job this one retries."},
    },
}

_CHECK = {
    "type": "object",
    "required": ["status", "ms"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "down"]},
        "ms": {"type": "number"},
        "error": {"type": "string"},
    },
}

_HEALTH = {
    "type": "object",
    "required": ["status", "version", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "down"]},
        "version": {"type": "string"},
        "checks": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Check"}},
        "down": {"type": "array", "items": {"type": "string"}},
    },
}


def document() -> dict:
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": UUID}
    campaign_id = {"name": "campaign_id", "in": "path", "required": True, "schema": UUID}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "campaign-mail",
            "version": pipeline.__version__,
            "description": "Queue of campaign letter generations. The ops dashboard is at /queues (HTTP basic auth).",
        },
        "paths": {
            "/": {
                "get": {
                    "operationId": "health",
                    "summary": "Whether Redis, PostgreSQL and the storage answer",
                    "security": [],
                    "responses": {"200": _json("All dependencies answer.", "Health"), "503": _json("A dependency is down.", "Health")},
                }
            },
            "/jobs": {
                "post": {
                    "operationId": "enqueueJob",
                    "summary": "Start the generation of a campaign's letters, or get the job already doing it",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobRequest"}}}},
                    "responses": {
                        "202": _json(
                            "A job was created.",
                            "EnqueuedJob",
                            {"Location": {"schema": {"type": "string", "format": "uri"}, "required": True}},
                        ),
                        "200": _json("The campaign's job under way (or done, without regenerate).", "EnqueuedJob"),
                        "400": _error("The body is not a JSON object with the campaign's and establishment's ids."),
                        "413": _error(f"The body is larger than {MAX_BODY_BYTES} bytes."),
                        "415": _error("The body is not JSON."),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/jobs/{job_id}": {
                "get": {
                    "operationId": "getJob",
                    "summary": "A job's state, progress and, once done, its archive",
                    "parameters": [job_id],
                    "responses": {
                        "200": _json("The job.", "Job"),
                        "400": _error("The job id is not a UUID."),
                        "404": _error("No such job (or it has expired)."),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/campaigns/{campaign_id}/jobs": {
                "get": {
                    "operationId": "listCampaignJobs",
                    "summary": "A campaign's jobs, newest first",
                    "parameters": [campaign_id],
                    "responses": {
                        "200": _json("The campaign's jobs.", "CampaignJobs"),
                        "400": _error("The campaign id is not a UUID."),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "API_TOKEN"}},
            "schemas": {
                "JobRequest": {
                    "type": "object",
                    "required": ["campaignId", "establishmentId"],
                    "properties": {
                        "campaignId": UUID,
                        "establishmentId": UUID,
                        "regenerate": {"type": "boolean", "default": False, "description": "Start a new generation even if one succeeded."},
                    },
                },
                "Job": _JOB,
                "EnqueuedJob": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Job"},
                        {"type": "object", "required": ["created"], "properties": {"created": {"type": "boolean"}}},
                    ]
                },
                "CampaignJobs": {
                    "type": "object",
                    "required": ["campaignId", "jobs"],
                    "properties": {"campaignId": UUID, "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}},
                },
                "Health": _HEALTH,
                "Check": _CHECK,
                "Error": {
                    "type": "object",
                    "required": ["title", "description"],
                    "properties": {"title": {"type": "string"}, "description": {"type": "string"}},
                },
            },
        },
    }


class OpenApiResource:
    def __init__(self):
        self.document = document()

    def on_get(self, req, resp):
        resp.media = self.document
