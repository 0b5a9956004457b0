"""docker-compose.yml as docker compose would resolve it, and the scripts its init containers run.

There is no Docker engine (nor the compose plugin) here, so the file is parsed with PyYAML
and its ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` references are resolved
with the values of ``.env.example``, the way ``docker compose config`` does. The checks
then read the resolved values: who gets which credentials, which address each port is
published on, and whether the API and the app accept the configuration they are given.
The two user-creation scripts run for real: the MongoDB one under Node.js against a
recording stand-in for mongosh's ``db``, the MinIO one under ``sh`` with a recording
``mc`` on the PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from graphql_api.__main__ import check_exposure as check_api_exposure
from graphql_api.auth import PII_SCOPE, build_authenticator
from graphql_api.settings import Settings
from ui.auth import check_exposure as check_ui_exposure
from ui.auth import load_users, login_check

ROOT = Path(__file__).resolve().parents[1]
_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
ROOT_SECRETS = ("MONGO_ROOT_PASSWORD", "MINIO_ROOT_PASSWORD")
INIT_CONTAINERS = {"mongodb", "mongo-init", "minio", "createbuckets"}


class MissingVariable(ValueError):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` with compose's variable references resolved from ``env`` (recursively)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        current = env.get(name)
        unset_or_empty = not current if op and op.startswith(":") else current is None
        if op in (":-", "-") and unset_or_empty:
            return arg
        if op in (":?", "?") and unset_or_empty:
            raise MissingVariable(f"{name}: {arg}")
        return current or ""

    return _REF.sub(one, value)


def read_env_file(path: Path) -> dict[str, str]:
    """A ``.env`` file as compose reads it: KEY=value, single quotes keep text literal."""
    env = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def resolve(env: dict[str, str]) -> dict[str, Any]:
    """The compose file with merge keys applied (PyYAML does) and variables resolved."""
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return dict(interpolate(raw, env))


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ROOT / ".env.example")


@pytest.fixture(scope="module")
def services(env_example: dict[str, str]) -> dict[str, Any]:
    return dict(resolve(env_example)["services"])


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command(service: dict[str, Any]) -> str:
    value = service.get("command", "")
    return " ".join(value) if isinstance(value, list) else str(value)


def depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def published(service: dict[str, Any]) -> set[tuple[str, str, str]]:
    """``(host address, host port, container port)`` of every published port."""
    result = set()
    for port in service.get("ports", []):
        parts = str(port).rsplit(":", 2)
        assert len(parts) == 3, f"port {port!r} has no host address: it would bind 0.0.0.0"
        result.add((parts[0], parts[1], parts[2]))
    return result


def mongo_user(uri: str) -> tuple[str | None, str | None]:
    parts = urlsplit(uri)
    auth_source = dict(q.split("=", 1) for q in parts.query.split("&") if q).get("authSource")
    return parts.username, auth_source


# --- services, images and wiring


def test_services(services: dict[str, Any]) -> None:
    assert set(services) == {
        "minio", "createbuckets", "mongodb", "mongo-init", "pipeline", "api", "ui",
    }  # fmt: skip
    assert services["mongodb"]["image"].startswith("mongo:7")
    assert services["mongo-init"]["image"].startswith("mongo:7")
    assert services["minio"]["image"].startswith("minio/minio")
    assert services["createbuckets"]["image"].startswith("minio/mc")


def test_project_services_share_the_one_dockerfile(services: dict[str, Any]) -> None:
    for name in ("pipeline", "api", "ui"):
        assert services[name]["build"] in (".", {"context": "."}), name
    assert command(services["pipeline"]) == "kedro run --env minio"
    assert command(services["api"]) == "medallion-api"
    assert command(services["ui"]) == "medallion-ui"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "pip install ." in dockerfile and "KEDRO_DISABLE_TELEMETRY=1" in dockerfile
    assert re.search(r"^USER medallion", dockerfile, re.M)


@pytest.mark.parametrize("service", ["minio", "mongodb", "api", "ui"])
def test_long_running_services_have_healthchecks(services: dict[str, Any], service: str) -> None:
    check = services[service]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1
    assert check["retries"] >= 3 and check["interval"]
    if service == "api":
        assert "http://127.0.0.1:8000/health" in " ".join(check["test"])


def test_dependencies(services: dict[str, Any]) -> None:
    done = "service_completed_successfully"
    assert depends(services["createbuckets"]) == {"minio": "service_healthy"}
    assert depends(services["mongo-init"]) == {"mongodb": "service_healthy"}
    assert depends(services["api"]) == {"mongo-init": done}
    assert depends(services["ui"]) == {"api": "service_healthy", "createbuckets": done}
    assert depends(services["pipeline"]) == {"createbuckets": done, "mongo-init": done}


def test_init_containers_run_the_scripts_of_this_repository(services: dict[str, Any]) -> None:
    for name, script in (("mongo-init", "mongo-users.js"), ("createbuckets", "minio-users.sh")):
        mounts = services[name]["volumes"]
        assert f"./docker/{script}:/init/{script}:ro" in mounts, name
        assert (ROOT / "docker" / script).is_file()
    assert "--file /init/mongo-users.js" in command(services["mongo-init"])
    assert services["createbuckets"]["entrypoint"] == ["/bin/sh", "/init/minio-users.sh"]


# --- ports: loopback unless the user opts in


@pytest.mark.parametrize(
    ("service", "ports"),
    [
        ("minio", {("127.0.0.1", "9000", "9000"), ("127.0.0.1", "9001", "9001")}),
        ("mongodb", {("127.0.0.1", "27017", "27017")}),
        ("api", {("127.0.0.1", "8000", "8000")}),
        ("ui", {("127.0.0.1", "7860", "7860")}),
    ],
)
def test_ports_are_on_loopback_by_default(
    services: dict[str, Any], service: str, ports: set[tuple[str, str, str]]
) -> None:
    assert published(services[service]) == ports


def test_ports_without_bind_address_stay_on_loopback(env_example: dict[str, str]) -> None:
    env = {k: v for k, v in env_example.items() if k != "BIND_ADDRESS"}
    for name, service in resolve(env)["services"].items():
        assert {host for host, _, _ in published(service)} <= {"127.0.0.1"}, name


def test_bind_address_exposes_only_the_api_and_the_app(env_example: dict[str, str]) -> None:
    services = resolve({**env_example, "BIND_ADDRESS": "0.0.0.0"})["services"]  # noqa: S104
    hosts = {name: {h for h, _, _ in published(s)} for name, s in services.items()}
    assert hosts["api"] == hosts["ui"] == {"0.0.0.0"}  # noqa: S104
    assert hosts["mongodb"] == hosts["minio"] == {"127.0.0.1"}
    assert not hosts["pipeline"] and not hosts["mongo-init"] and not hosts["createbuckets"]


# --- credentials: least privilege per process


def test_root_credentials_reach_only_the_servers_and_init_containers(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    for name, service in services.items():
        text = json.dumps(service)
        holds_root = [k for k in ROOT_SECRETS if env_example[k] in text]
        if name in INIT_CONTAINERS:
            continue
        assert not holds_root, f"{name} holds {holds_root}"
    assert env_example["MONGO_ROOT_PASSWORD"] in json.dumps(services["mongo-init"])
    assert env_example["MINIO_ROOT_PASSWORD"] in json.dumps(services["createbuckets"])


def test_the_api_reads_mongodb_as_its_own_user(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    api = environment(services["api"])
    assert mongo_user(api["MONGO_URI"]) == (env_example["MONGO_API_USER"], "medallion")
    assert api["MONGO_DB"] == "medallion"


def test_the_export_writes_mongodb_as_its_own_user(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    pipeline = environment(services["pipeline"])
    assert mongo_user(pipeline["MONGO_URI"]) == (env_example["MONGO_EXPORT_USER"], "medallion")
    assert env_example["MONGO_EXPORT_USER"] != env_example["MONGO_API_USER"]


def test_the_lake_is_reached_with_users_limited_to_the_bucket(
    services: dict[str, Any], env_example: dict[str, str]
) -> None:
    pipeline, ui = environment(services["pipeline"]), environment(services["ui"])
    assert pipeline["AWS_ACCESS_KEY_ID"] == env_example["MINIO_PIPELINE_USER"]
    assert pipeline["AWS_SECRET_ACCESS_KEY"] == env_example["MINIO_PIPELINE_PASSWORD"]
    assert ui["AWS_ACCESS_KEY_ID"] == env_example["MINIO_UI_USER"]
    assert pipeline["S3_ENDPOINT_URL"] == ui["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert pipeline["LAKE_BUCKET"] == ui["LAKE_BUCKET"] == "lake"
    assert "AWS_ACCESS_KEY_ID" not in environment(services["api"])
    users = {env_example[k] for k in ("MINIO_ROOT_USER", "MINIO_PIPELINE_USER", "MINIO_UI_USER")}
    assert len(users) == 3


def test_the_exposed_api_and_app_accept_their_configuration(services: dict[str, Any]) -> None:
    """The API and the app listen on 0.0.0.0 in their containers: auth must be configured."""
    api, ui = environment(services["api"]), environment(services["ui"])
    settings = Settings.from_env(api)
    assert not settings.on_loopback
    check_api_exposure(settings)  # raises if the API would refuse to start
    assert settings.effective_rate_limit == "300/minute"
    app_key = build_authenticator(settings).verify(ui["API_TOKEN"])
    assert PII_SCOPE in app_key.scopes
    users = load_users(ui)
    check_ui_exposure(ui["UI_HOST"], users)
    assert login_check(users)("admin", "dev-only-ui-password")


def test_without_keys_the_exposed_api_would_refuse(services: dict[str, Any]) -> None:
    from graphql_api.settings import SettingsError

    api = {k: v for k, v in environment(services["api"]).items() if k != "API_KEYS"}
    with pytest.raises(SettingsError, match="Refusing"):
        check_api_exposure(Settings.from_env(api))


@pytest.mark.parametrize("name", ["API_KEYS", "UI_USERS", "MONGO_API_PASSWORD", "API_TOKEN"])
def test_a_missing_secret_stops_compose_with_a_message(
    env_example: dict[str, str], name: str
) -> None:
    env = {k: v for k, v in env_example.items() if k != name}
    with pytest.raises(MissingVariable, match=f"{name}: set {name} in .env"):
        resolve(env)


def test_no_literal_secret_in_compose(env_example: dict[str, str]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for key, value in env_example.items():
        if re.search(r"PASSWORD|KEYS|TOKEN|USERS", key):
            assert value not in text, f"the value of {key} from .env.example is in compose"


def test_env_example_covers_every_variable(env_example: dict[str, str]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = {m.group(1) for m in _REF.finditer(text) if m.group(1)}
    assert used <= set(env_example), f"missing from .env.example: {used - set(env_example)}"
    for key, value in env_example.items():
        if "PASSWORD" in key or key == "API_TOKEN":
            assert "dev" in value.lower(), f"{key} should be an obviously-dev value"


def test_secrets_stay_out_of_git_and_the_image() -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", "data", "conf/local"} <= set(dockerignore)


# --- the MongoDB user script, run under Node.js with a recording stand-in for `db`

NODE = shutil.which("node")
MONGO_HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const [script, existing] = [process.argv[1], JSON.parse(process.argv[2])];
const calls = [];
const db = { getSiblingDB(name) {
  return {
    getUser(user) {
      calls.push(["getUser", name, user]);
      return existing.includes(user) ? { user } : null;
    },
    createUser(spec) { calls.push(["createUser", name, spec]); },
    updateUser(user, spec) { calls.push(["updateUser", name, user, spec]); },
  };
} };
const context = { db, process: { env: JSON.parse(process.env.USERS_ENV) }, print() {} };
try { vm.runInNewContext(fs.readFileSync(script, "utf8"), context); }
catch (e) { calls.push(["error", String(e.message)]); }
console.log(JSON.stringify(calls));
"""
MONGO_ENV = {
    "MONGO_DB": "medallion",
    "MONGO_API_USER": "api",
    "MONGO_API_PASSWORD": "pw-api",
    "MONGO_EXPORT_USER": "export",
    "MONGO_EXPORT_PASSWORD": "pw-export",
}


def run_mongo_script(env: dict[str, str], existing: list[str]) -> list[Any]:
    assert NODE is not None
    result = subprocess.run(
        [NODE, "-e", MONGO_HARNESS, str(ROOT / "docker" / "mongo-users.js"), json.dumps(existing)],
        env={**os.environ, "USERS_ENV": json.dumps(env)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    calls: list[Any] = json.loads(result.stdout)
    return calls


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the mongosh script")
def test_mongo_script_creates_a_read_user_and_a_read_write_user() -> None:
    calls = [c for c in run_mongo_script(MONGO_ENV, []) if c[0] != "getUser"]
    assert calls == [
        ["createUser", "medallion", {"user": "api", "pwd": "pw-api",
                                      "roles": [{"role": "read", "db": "medallion"}]}],
        ["createUser", "medallion", {"user": "export", "pwd": "pw-export",
                                      "roles": [{"role": "readWrite", "db": "medallion"}]}],
    ]  # fmt: skip


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the mongosh script")
def test_mongo_script_rerun_updates_passwords_and_roles() -> None:
    calls = [c for c in run_mongo_script(MONGO_ENV, ["api", "export"]) if c[0] != "getUser"]
    assert [c[0] for c in calls] == ["updateUser", "updateUser"]
    assert calls[0][2:] == [
        "api",
        {"pwd": "pw-api", "roles": [{"role": "read", "db": "medallion"}]},
    ]


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the mongosh script")
def test_mongo_script_refuses_a_missing_password() -> None:
    env = {k: v for k, v in MONGO_ENV.items() if k != "MONGO_EXPORT_PASSWORD"}
    calls = run_mongo_script(env, [])
    assert calls[-1] == ["error", "set MONGO_EXPORT_USER and MONGO_EXPORT_PASSWORD in .env "
                         "(see .env.example)"]  # fmt: skip
    assert [c[0] for c in calls].count("createUser") == 1  # the API user, before the check


# --- the MinIO user script, run under sh with a recording `mc`

FAKE_MC = """#!/bin/sh
printf '%s\\n' "$*" >> "$MC_LOG"
if [ "$1 $2 $3" = "admin policy create" ]; then cat "$6" >> "$MC_POLICIES"; fi
"""
MINIO_ENV = {
    "MINIO_ROOT_USER": "root",
    "MINIO_ROOT_PASSWORD": "pw-root",
    "MINIO_PIPELINE_USER": "pipeline",
    "MINIO_PIPELINE_PASSWORD": "pw-pipeline",
    "MINIO_UI_USER": "app",
    "MINIO_UI_PASSWORD": "pw-app",
    "LAKE_BUCKET": "lake",
}


def run_minio_script(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "mc").write_text(FAKE_MC)
    (bin_dir / "mc").chmod(0o755)
    return subprocess.run(
        ["sh", str(ROOT / "docker" / "minio-users.sh")],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "MC_LOG": str(tmp_path / "mc.log"),
            "MC_POLICIES": str(tmp_path / "policies.jsonl"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_minio_script_creates_users_limited_to_the_lake_bucket(tmp_path: Path) -> None:
    result = run_minio_script(tmp_path, MINIO_ENV)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "mc.log").read_text().splitlines()
    assert calls[0] == "alias set local http://minio:9000 root pw-root"
    assert calls[1] == "mb --ignore-existing local/lake"
    assert "admin user add local pipeline pw-pipeline" in calls
    assert "admin policy attach local lake-readwrite --user pipeline" in calls
    assert "admin user add local app pw-app" in calls
    assert "admin policy attach local lake-readonly --user app" in calls
    assert not any("root" in c for c in calls[1:]), "root is only the alias's account"
    policies = [json.loads(line) for line in (tmp_path / "policies.jsonl").read_text().splitlines()]
    assert len(policies) == 2
    for policy in policies:
        (statement,) = policy["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*"]
        assert all(a.startswith("s3:") and "*" not in a for a in statement["Action"])
    readwrite, readonly = (set(p["Statement"][0]["Action"]) for p in policies)
    assert {"s3:PutObject", "s3:DeleteObject"} <= readwrite
    assert readonly == {"s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"}


@pytest.mark.parametrize("missing", ["MINIO_PIPELINE_PASSWORD", "MINIO_UI_USER"])
def test_minio_script_refuses_a_missing_variable(tmp_path: Path, missing: str) -> None:
    env = {k: v for k, v in MINIO_ENV.items() if k != missing}
    result = run_minio_script(tmp_path, env)
    assert result.returncode != 0
    assert f"set {missing} in .env" in result.stderr
    assert not (tmp_path / "mc.log").exists(), "nothing may run before every value is known"


def test_minio_script_refuses_a_bucket_name_that_could_break_the_policy(tmp_path: Path) -> None:
    result = run_minio_script(tmp_path, {**MINIO_ENV, "LAKE_BUCKET": 'lake","arn:aws:s3:::*'})
    assert result.returncode != 0 and "LAKE_BUCKET must be a bucket name" in result.stderr
    assert not (tmp_path / "policies.jsonl").exists()
