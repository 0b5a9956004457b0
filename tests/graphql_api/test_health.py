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


def test_health_and_queries_before_any_export(mongo: MongoServer, mongo_db_name: str) -> None:
    with (
        api_process(mongo.uri, mongo_db_name) as url,
        httpx.Client(base_url=url, timeout=15) as api,
    ):
        health = api.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "not_exported" and body["mongo"]["ok"] is True
        assert "kedro run --pipelines export" in body["export"]["reason"]
        result = api.post("/graphql", json={"query": "{ kpis { totalOrders } }"}).json()
        assert result["errors"][0]["extensions"]["code"] == "DATA_NOT_EXPORTED"
        assert "kedro run --pipelines export" in result["errors"][0]["message"]


def test_credentials_the_server_cannot_negotiate_give_a_503_with_the_reason(
    mongo: MongoServer, mongo_db_name: str
) -> None:
    secret = "n0t-Negotiable"  # noqa: S105 - a fake password whose absence we check
    uri = f"mongodb://reader:{secret}@127.0.0.1:{mongo.port}/?authSource=admin"
    with (
        api_process(uri, mongo_db_name, API_MONGO_TIMEOUT_MS="1000") as url,
        httpx.Client(base_url=url, timeout=15) as api,
    ):
        health = api.get("/health")
        assert health.status_code == 503, health.text
        reason = health.json()["mongo"]["reason"]
        assert "refused the login" in reason and "MONGO_URI" in reason
        result = api.post("/graphql", json={"query": "{ kpis { totalOrders } }"})
        assert result.status_code == 200
        error = result.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "could not log in" in error["message"]
        assert secret not in health.text + result.text
