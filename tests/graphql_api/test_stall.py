"""The API recovers from a database stall (SIGSTOP of the MongoDB server) without a restart.

The stall is real: the nx-27017 process is frozen while several multi-field and heavy
queries are in flight, then thawed; ``/health`` and queries must answer within 2 s.
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.graphql_api import data
from tests.graphql_api.conftest import api_process
from tests.servers import MongoServer, free_port

pytestmark = pytest.mark.slow

MULTI = (
    "{ a: customers(first:5){edges{node{id}}} "
    "b: customers(first:5, orderBy:{field:CUSTOMER_ID, direction:ASC}){edges{node{customerId}}} "
    "k: kpis{totalRevenue} }"
)
HEAVY = (
    "{ "
    + " ".join(
        f"c{i}: customers(first:5){{edges{{node{{countryRevenue{{totalRevenue}}}}}}}}"
        for i in range(20)
    )
    + " }"
)


def _post(url: str, query: str) -> tuple[int, Any]:
    with httpx.Client(base_url=url, timeout=60) as client:
        response = client.post("/graphql", json={"query": query})
        return response.status_code, response.json()


@pytest.mark.parametrize("stall_seconds", [7.0, 12.0])
def test_api_recovers_from_a_database_stall(tmp_path: Path, stall_seconds: float) -> None:
    mongo = MongoServer(db_path=tmp_path / "stall.db", port=free_port()).start()
    assert mongo.process is not None
    try:
        data.seed(mongo.uri, "stall")
        with api_process(mongo.uri, "stall", API_CACHE_TTL="0") as url:
            assert _post(url, MULTI)[1]["data"]["k"]["totalRevenue"] > 0
            os.kill(mongo.process.pid, signal.SIGSTOP)
            stopped = True
            try:
                with ThreadPoolExecutor(12) as pool:
                    futures = [pool.submit(_post, url, MULTI) for _ in range(4)]
                    futures += [pool.submit(_post, url, HEAVY) for _ in range(8)]
                    time.sleep(stall_seconds)
                    os.kill(mongo.process.pid, signal.SIGCONT)
                    stopped = False
                    back = time.monotonic()
                    with httpx.Client(base_url=url, timeout=10) as client:
                        health = client.get("/health")
                        result = client.post("/graphql", json={"query": MULTI}).json()
                        heavy = client.post("/graphql", json={"query": HEAVY}).json()
                    recovered = time.monotonic() - back
                    answers = [f.result(timeout=60) for f in futures]
            finally:
                if stopped:
                    os.kill(mongo.process.pid, signal.SIGCONT)
            assert health.status_code == 200, health.text
            assert "errors" not in result and "errors" not in heavy, (result, heavy)
            ids = [e["node"]["customerId"] for e in result["data"]["b"]["edges"]]
            assert ids == [1, 2, 3, 4, 5]
            assert recovered < 2.0, f"health and queries answered {recovered:.1f} s after"
            for status, body in answers:  # every stalled query answered, as an error or data
                assert status == 200
                codes = {e["extensions"]["code"] for e in body.get("errors", [])}
                assert codes <= {"SERVICE_UNAVAILABLE"}, body
    finally:
        mongo.stop()
