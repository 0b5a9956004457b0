"""Real parts for the app's tests: a lake built by the pipelines, the export to an nx-27017
server, the GraphQL API under uvicorn and the app itself, each a subprocess on a free port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from graphql_api.auth import PII_SCOPE, hash_key
from medallion_kedro.lake import read_table
from medallion_kedro.schemas import GOLD
from tests.servers import MongoServer, Server, api_server, free_port, start_server

PY = sys.executable
N_CUSTOMERS, N_ORDERS = 1500, 15000
LAKE_LABEL, API_LABEL = "Lake (Delta)", "GraphQL API"
#: The app's service key for the API; the API knows only its hash.
SERVICE_KEY = "mk_ui-tests-service-key-0123456789abcdefghij"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "API_", "UI_"))}
    env.update(KEDRO_DISABLE_TELEMETRY="1", DO_NOT_TRACK="1", GRADIO_ANALYTICS_ENABLED="False")
    env.update(extra)
    return env


def copy_project(root: Path, target: Path) -> Path:
    """A copy of the project's configuration in ``target`` (the code stays installed)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "pyproject.toml", target)
    shutil.copytree(root / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    (target / "src").mkdir()  # bootstrap_project wants it; the package is installed
    return target


def kedro(project: Path, *args: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        [PY, "-m", "kedro", "run", *args], cwd=project, env=env or _env(),
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    if result.returncode:
        raise AssertionError(f"kedro run {' '.join(args)} failed:\n{result.stdout[-3000:]}")


def start_ui(project: Path, api_url: str, log: Path, **extra: str) -> Server:
    port = free_port()
    env = _env(KEDRO_PROJECT_PATH=str(project), API_URL=api_url, UI_PORT=str(port),
               UI_HOST="127.0.0.1", **extra)  # fmt: skip
    return start_server([PY, "-m", "ui"], env, port, log, "/")


@pytest.fixture(scope="session")
def lake_project(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project whose lake the real pipelines built (small data)."""
    project = copy_project(project_root, tmp_path_factory.mktemp("ui_project"))
    kedro(project, "--pipelines", "generate",
          "--params", f"n_customers={N_CUSTOMERS},n_orders={N_ORDERS}")  # fmt: skip
    kedro(project, "--pipelines", "bronze,silver,gold")
    return project


@pytest.fixture(scope="session")
def gold(lake_project: Path) -> dict[str, pl.DataFrame]:
    """The gold tables, read straight from the committed Delta versions, money (exact
    decimals in the lake) as the floats the app shows."""
    lake = str(lake_project / "data" / "lake")
    return {
        t: read_table(lake, "gold", t).with_columns(pl.col(pl.Decimal).cast(pl.Float64))
        for t in GOLD
    }


@pytest.fixture(scope="session")
def exported(lake_project: Path, mongo: MongoServer) -> str:
    """The gold tables exported to MongoDB by the export pipeline; the database name."""
    db = "ui_tests"
    kedro(lake_project, "--pipelines", "export", env=_env(MONGO_URI=mongo.uri, MONGO_DB=db))
    return db


@pytest.fixture(scope="session")
def api(
    mongo: MongoServer, exported: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The API with authentication on: the app reads personal data with its service key."""
    log = tmp_path_factory.mktemp("api") / "api.log"
    keys = f"{hash_key(SERVICE_KEY)} ui {PII_SCOPE}"
    with api_server(mongo.uri, exported, log, API_KEYS=keys) as server:
        yield f"{server.url}/graphql"


@pytest.fixture(scope="session")
def app_url(lake_project: Path, api: str) -> Iterator[str]:
    """The app over the real lake and the real API."""
    server = start_ui(lake_project, api, lake_project / "ui.log", API_TOKEN=SERVICE_KEY)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def broken_app_url(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a project whose lake was never built and an API that is not running."""
    project = copy_project(project_root, tmp_path_factory.mktemp("unbuilt_project"))
    dead_api = f"http://127.0.0.1:{free_port()}/graphql"
    server = start_ui(project, dead_api, project / "ui.log")
    try:
        yield server.url
    finally:
        server.stop()
