"""docker-compose.yml, Dockerfile and .env.example, checked by parsing (no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}")
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|_USER(NAME)?$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def test_services(services: dict[str, Any]) -> None:
    assert set(services) == {"minio", "createbuckets", "mongodb", "pipeline", "api", "ui"}
    assert services["mongodb"]["image"].startswith("mongo:7")
    assert services["minio"]["image"].startswith("minio/minio")
    assert services["createbuckets"]["image"].startswith("minio/mc")
    assert "mc mb" in _command(services["createbuckets"])


def test_project_services_share_the_one_dockerfile(services: dict[str, Any]) -> None:
    assert (ROOT / "Dockerfile").is_file()
    for name in ("pipeline", "api", "ui"):
        assert services[name]["build"] in (".", {"context": "."}), name
    assert _command(services["pipeline"]) == "kedro run --env minio"
    assert _command(services["api"]) == "medallion-api"
    assert _command(services["ui"]) == "medallion-ui"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "pip install ." in dockerfile and "KEDRO_DISABLE_TELEMETRY=1" in dockerfile


@pytest.mark.parametrize(
    ("service", "ports"),
    [
        ("minio", {"9000:9000", "9001:9001"}),
        ("mongodb", {"27017:27017"}),
        ("api", {"8000:8000"}),
        ("ui", {"7860:7860"}),
    ],
)
def test_ports(services: dict[str, Any], service: str, ports: set[str]) -> None:
    assert {str(p) for p in services[service]["ports"]} == ports


@pytest.mark.parametrize("service", ["minio", "mongodb", "api", "ui"])
def test_long_running_services_have_healthchecks(services: dict[str, Any], service: str) -> None:
    check = services[service]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1
    assert check["retries"] >= 3 and check["interval"]


def test_api_healthcheck_calls_health_endpoint(services: dict[str, Any]) -> None:
    assert "http://127.0.0.1:8000/health" in " ".join(services["api"]["healthcheck"]["test"])


def test_dependencies(services: dict[str, Any]) -> None:
    assert _depends(services["createbuckets"]) == {"minio": "service_healthy"}
    assert _depends(services["api"]) == {"mongodb": "service_healthy"}
    assert _depends(services["ui"])["api"] == "service_healthy"
    assert _depends(services["pipeline"]) == {
        "createbuckets": "service_completed_successfully",
        "mongodb": "service_healthy",
    }


def test_service_environment(services: dict[str, Any]) -> None:
    api, ui, pipeline = (_env(services[n]) for n in ("api", "ui", "pipeline"))
    assert {"MONGO_URI", "MONGO_DB", "API_HOST", "API_PORT"} <= set(api)
    assert api["API_HOST"] == "0.0.0.0" and api["API_PORT"] == "8000"  # noqa: S104
    assert "@mongodb:27017" in api["MONGO_URI"]
    assert ui["API_URL"] == "http://api:8000/graphql" and ui["UI_PORT"] == "7860"
    lake = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_ENDPOINT_URL", "LAKE_BUCKET"}
    assert lake <= set(ui) and lake <= set(pipeline)
    assert ui["S3_ENDPOINT_URL"] == pipeline["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert {"MONGO_URI", "MONGO_DB"} <= set(pipeline)


def test_no_literal_secret_in_compose(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    for name, service in services.items():
        for key, value in _env(service).items():
            if _SECRET_NAME.search(key):
                assert _VAR.fullmatch(value), f"{name}.{key} must come from .env, not {value!r}"
            if "://" in value and "@" in value:  # credentials inside a URI
                userinfo = value.split("://", 1)[1].split("@", 1)[0]
                assert not _VAR.sub("", userinfo).strip(":"), f"{name}.{key} holds a literal"
    text = (ROOT / "docker-compose.yml").read_text()
    for key, value in env_example.items():
        if _SECRET_NAME.search(key):
            assert value not in text, f"the value of {key} from .env.example is in compose"


def test_env_example_covers_every_variable(env_example: dict[str, str]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(_VAR.findall(text))
    assert used <= set(env_example), f"missing from .env.example: {used - set(env_example)}"
    for key, value in env_example.items():
        if "PASSWORD" in key:
            assert "dev" in value.lower(), f"{key} should be an obviously-dev value"


def test_secrets_stay_out_of_git_and_the_image() -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", "data", "conf/local"} <= set(dockerignore)
