"""The image and the compose file, checked without Docker.

The image must run the Procfile's commands (a Procfile platform and the image
behave the same), and compose must give web and workers every setting they
read, pointing at the services it starts.
"""

from __future__ import annotations

import inspect
import re
import shlex
from pathlib import Path

import dramatiq.middleware.prometheus as dramatiq_prometheus
import pytest
import yaml

from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
PROCESSES = ("web", "worker", "release")
# What web and workers need set in a deployment; the other settings have usable defaults.
REQUIRED = {
    "REDIS_URL", "DATABASE_URL", "CAMPAIGN_SOURCE", "API_ENDPOINT", "AUTH_SECRET", "STORAGE",
    "S3_ENDPOINT", "S3_REGION", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY",
    "API_TOKEN", "QUEUE_PASSWORD", "SENTRY_DSN",
}
_DEFAULTED = re.compile(r"\$\{(\w+):?-([^}]*)\}")


def without_defaults(command: str) -> list[str]:
    return shlex.split(_DEFAULTED.sub(r"${\1}", command))


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def entrypoint_commands() -> dict[str, str]:
    arms = re.findall(r"^\s*(\w+)\)\s*exec (.+?)\s*;;", (DOCKER / "entrypoint.sh").read_text(), re.MULTILINE)
    return dict(arms)


def dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (DOCKER / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def instructions(name: str) -> list[str]:
    return [args for instruction, args in dockerfile() if instruction.upper() == name]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def resolved(environment: dict) -> dict[str, str]:
    """Values as compose gives them when the shell sets nothing: ${X:-default} is the default."""
    return {name: _DEFAULTED.sub(r"\2", str(value)) for name, value in environment.items()}


@pytest.mark.parametrize("process", PROCESSES)
def test_the_image_runs_the_procfile_commands(process):
    assert without_defaults(entrypoint_commands()[process]) == without_defaults(procfile()[process])


def test_the_image_is_slim_non_root_and_serves_web_by_default():
    [base] = instructions("FROM")
    assert base == "python:3.11-slim-bookworm"
    [user] = instructions("USER")
    assert user.split(":")[0] not in ("root", "0")
    assert "8080" in " ".join(instructions("EXPOSE")).split()
    assert any("pip install" in run for run in instructions("RUN"))
    [entrypoint] = instructions("ENTRYPOINT")
    copied = {tuple(args.split()[-2:]) for args in instructions("COPY")}
    assert ("docker/entrypoint.sh", f"/usr/local/bin/{yaml.safe_load(entrypoint)[0]}") in copied
    assert yaml.safe_load(instructions("CMD")[0]) == ["web"]


def test_everything_the_image_copies_is_in_the_build_context():
    allowed = {line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    for args in instructions("COPY"):
        sources = [word for word in args.split() if not word.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") in allowed, f"{source} is excluded by .dockerignore"
    assert (ROOT / "pipeline" / "fonts" / "DejaVuSans.ttf").exists()  # the fonts travel as package data


def test_compose_starts_the_servers_and_every_process(compose):
    services = compose["services"]
    assert {"redis", "postgres", "minio", "web", "worker", "release"} <= set(services)
    assert services["redis"]["image"].startswith("redis:7")
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["minio"]["image"].startswith("minio/minio")
    for name, command in (("web", "web"), ("worker", "worker"), ("release", "release")):
        build = services[name]["build"]
        assert (DOCKER / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"
        assert services[name]["command"] == [command]


def test_web_and_workers_wait_for_their_servers_and_the_schema(compose):
    services = compose["services"]
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert {"redis", "postgres", "release"} <= set(depends)
        assert depends["release"]["condition"] == "service_completed_successfully"
        # The bucket must exist before a worker writes to it.
        assert any(dep.startswith("minio") for dep in depends)
    for service in services.values():
        for dependency, condition in (service.get("depends_on") or {}).items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], dependency


@pytest.mark.parametrize("process", ["web", "worker", "release"])
def test_every_setting_is_set_and_points_at_the_compose_services(compose, process, monkeypatch):
    environment = resolved(compose["services"][process]["environment"])
    assert REQUIRED <= set(environment)

    prometheus = inspect.getsource(dramatiq_prometheus)
    known = {name.upper() for name in Settings.model_fields}
    known |= {name for command in procfile().values() for name in re.findall(r"\$\{(\w+)", command)}
    for name in set(environment) - known:
        assert f'"{name}"' in prometheus, f"{name} is read by nothing"

    for name in Settings.model_fields:  # compose's values only, not this process's (conftest sets some)
        monkeypatch.delenv(name.upper(), raising=False)
    settings = Settings(**{name.lower(): value for name, value in environment.items() if name.upper() in known})
    assert settings.storage == "s3" and settings.dramatiq_broker == "redis"
    assert "//redis:" in settings.redis_url
    assert "@postgres:" in settings.database_url
    assert settings.s3_endpoint.startswith("http://minio:")
    minio = resolved(compose["services"]["minio"]["environment"])
    assert settings.s3_access_key_id.get_secret_value() == minio["MINIO_ROOT_USER"]
    assert settings.s3_secret_access_key.get_secret_value() == minio["MINIO_ROOT_PASSWORD"]
    bucket_setup = " ".join(str(part) for part in compose["services"]["minio-bucket"]["command"])
    assert f"local/{settings.s3_bucket}" in bucket_setup


def test_published_ports_match_the_processes(compose):
    web, worker = compose["services"]["web"], compose["services"]["worker"]
    port = resolved(web["environment"]).get("PORT", "8080")
    assert f"{port}:{port}" in web["ports"]
    metrics = resolved(worker["environment"]).get("dramatiq_prom_port", "9191")
    assert any(str(p).startswith(f"{metrics}:{metrics}") for p in worker["ports"])
