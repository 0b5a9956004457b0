"""``/health`` and GraphQL answers while MongoDB is down, then back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.graphql_api import data
from tests.graphql_api.conftest import api_process
from tests.servers import MongoServer, free_port

pytestmark = pytest.mark.slow


def test_health_and_queries_while_mongo_is_down(tmp_path: Path) -> None:
    mongo = MongoServer(db_path=tmp_path / "health.db", port=free_port()).start()
    try:
        data.seed(mongo.uri, "health")
        with (
            api_process(mongo.uri, "health", API_CACHE_TTL="0", API_MONGO_TIMEOUT_MS="1000") as url,
            httpx.Client(base_url=url, timeout=15) as api,
        ):
            assert api.get("/health").status_code == 200
            mongo.stop()

            started = time.monotonic()
            down = api.get("/health")
            assert time.monotonic() - started < 5
            assert down.status_code == 503
            body = down.json()
            assert body["status"] == "unavailable" and body["mongo"]["ok"] is False
            assert "MongoDB did not answer a ping" in body["mongo"]["reason"]

            started = time.monotonic()
            result = api.post("/graphql", json={"query": "{ kpis { totalOrders } }"}).json()
            assert time.monotonic() - started < 5
            assert "database did not answer" in result["errors"][0]["message"]
            assert result["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

            mongo.start()
            deadline = time.monotonic() + 15
            while api.get("/health").status_code != 200:
                assert time.monotonic() < deadline, "the API did not see MongoDB come back"
                time.sleep(0.2)
            kpis = api.post("/graphql", json={"query": "{ kpis { totalOrders } }"}).json()
            assert kpis == {"data": {"kpis": {"totalOrders": 16}}}
    finally:
        mongo.stop()
