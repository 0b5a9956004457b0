"""Session-wide fixtures: real S3 (moto) and MongoDB (nx-27017) servers on free ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import MongoServer, S3Server, mongo_server, s3_server

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """moto's standalone S3 server for the whole session (empty buckets per test: make your own)."""
    with s3_server() as server:
        yield server


@pytest.fixture(scope="session")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    """An nx-27017 server with its own database file, for the whole session."""
    with mongo_server(tmp_path_factory.mktemp("mongo") / "medallion.db") as server:
        yield server


@pytest.fixture
def mongo_db_name(request: pytest.FixtureRequest) -> str:
    """A database name of this test's own.

    nx-27017 in single-file mode shares collection names across databases, so tests that
    share the session server also use collection names of their own.
    """
    return "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50]
