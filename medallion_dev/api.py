"""The GraphQL API (``python -m graphql_api``) as a throw-away server on a free port."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medallion_dev.processes import Server, free_port, start_server

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def api_server(mongo_uri: str, db_name: str, log: Path, **env: str) -> Iterator[Server]:
    """``python -m graphql_api`` on a free port over ``mongo_uri``/``db_name``."""
    port = free_port()
    environ = {
        **os.environ,
        "MONGO_URI": mongo_uri,
        "MONGO_DB": db_name,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "KEDRO_DISABLE_TELEMETRY": "1",
        **env,
    }
    server = start_server(
        [sys.executable, "-m", "graphql_api"], environ, port, log, cwd=PROJECT_ROOT, timeout=30
    )
    try:
        yield server
    finally:
        server.stop()
