"""`make up` twice, `make down`, and a taken port, on ports of the test's own.

The scripts run in a copy of the project (its own ``data/``; the installed package and
``.venv`` are shared), with ``MONGO_PORT``, ``API_PORT`` and ``UI_PORT`` set to free
loopback ports, never the defaults.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from tests.servers import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A copy of the scripts and configuration, sharing this checkout's ``.venv``."""
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.fail("run `make setup` first: these tests share the checkout's installed .venv")
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    # Older than the install stamp, so setup.sh in the copy installs nothing (an install
    # from the copy would point the shared .venv's editable package at it).
    os.utime(copy / "pyproject.toml", (0, 0))
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    shutil.copytree(ROOT / "conf", copy / "conf", ignore=shutil.ignore_patterns("local"))
    (copy / "conf" / "local").mkdir()
    (copy / "src").mkdir()
    (copy / ".venv").symlink_to(ROOT / ".venv")
    yield copy
    subprocess.run(["bash", "scripts/down.sh"], cwd=copy, env=_env(ports), timeout=60)


ports: dict[str, str] = {}


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "API_", "UI_"))}
    env.pop("LAKE_PATH", None)
    env.update(GENERATE_PARAMS="n_customers=200,n_orders=2000", **extra)
    return env


def _script(project: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", f"scripts/{name}.sh"], cwd=project, env=_env(ports),
        capture_output=True, text=True, timeout=400,
    )  # fmt: skip


def test_up_twice_reports_what_runs_then_down_stops_it(project: Path) -> None:
    ports.update(MONGO_PORT=str(free_port()), API_PORT=str(free_port()), UI_PORT=str(free_port()))
    first = _script(project, "up")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert f"http://127.0.0.1:{ports['API_PORT']}/graphql" in first.stdout
    assert "lake (Delta Lake)  data/lake/" in first.stdout and "lake (Parquet)" not in first.stdout
    kpis = httpx.post(
        f"http://127.0.0.1:{ports['API_PORT']}/graphql",
        json={"query": "{ kpis { totalOrders } }"},
    ).json()
    assert kpis["data"]["kpis"]["totalOrders"] > 0, kpis
    assert httpx.get(f"http://127.0.0.1:{ports['UI_PORT']}/").status_code == 200
    api_pid = (project / "data/logs/api.pid").read_text()

    second = _script(project, "up")
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-3000:]
    assert "already answers" in second.stdout  # MongoDB
    assert f"api already running (pid {api_pid.strip()})" in second.stdout
    assert "ui already running" in second.stdout
    assert (project / "data/logs/api.pid").read_text() == api_pid

    down = _script(project, "down")
    assert "stopped api" in down.stdout and "stopped ui" in down.stdout, down.stdout
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{ports['API_PORT']}/health")


@pytest.mark.parametrize("variable", ["API_PORT", "UI_PORT", "MONGO_PORT"])
def test_a_taken_port_is_named_with_the_variable_to_change(project: Path, variable: str) -> None:
    ports.update(MONGO_PORT=str(free_port()), API_PORT=str(free_port()), UI_PORT=str(free_port()))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(ports[variable])))
        squatter.listen()
        result = _script(project, "up")
    assert result.returncode != 0
    assert f"error: port {ports[variable]} is taken by another program" in result.stderr
    assert f"{variable}=<free port> make up" in result.stderr
    assert "kedro run" not in result.stdout, "the clash must be reported before any work"


def test_make_s3_gives_a_bucket_the_minio_env_runs_on(project: Path) -> None:
    """S3 without Docker: `make s3` starts moto's server from the venv with the bucket, and
    the commands it prints build the lake there; `make down` stops it."""
    shutil.copy(ROOT / "Makefile", project)
    ports.update(MONGO_PORT=str(free_port()), S3_PORT=str(free_port()))
    env = {**_env(ports), "S3_PORT": ports["S3_PORT"]}
    started = subprocess.run(
        ["make", "-s", "s3"], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stdout + started.stderr
    endpoint = f"http://127.0.0.1:{ports['S3_PORT']}"
    assert f"S3 (moto) on {endpoint}, bucket lake" in started.stdout
    lines = [line.strip() for line in started.stdout.splitlines()]
    (exports,) = [line for line in lines if line.startswith("export AWS_ACCESS_KEY_ID=")]
    run_env = {**env, **dict(pair.split("=", 1) for pair in exports.split()[1:])}
    runs = [line for line in lines if line.startswith("kedro run --env minio")]
    assert runs == [
        "kedro run --env minio --pipelines generate",
        "kedro run --env minio --pipelines bronze,silver,gold",
    ]
    for line in runs:
        extra = ["--params", "n_customers=200,n_orders=2000"] if "generate" in line else []
        kedro = [str(ROOT / ".venv/bin/kedro"), *line.split()[1:], *extra]
        result = subprocess.run(kedro, cwd=project, env=run_env, capture_output=True, text=True,
                                timeout=300)  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                      aws_secret_access_key="testing", region_name="us-east-1")  # fmt: skip
    record = json.loads(s3.get_object(Bucket="lake", Key="_lake.json")["Body"].read())
    assert {"bronze.orders", "silver.orders", "gold.kpis"} <= set(record["tables"])

    down = subprocess.run(["make", "-s", "down"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert "stopped s3" in down.stdout, down.stdout
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(ports["S3_PORT"]))) != 0
