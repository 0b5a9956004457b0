"""HTTP tests against a real uvicorn process serving the seeded nx-27017 data."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.graphql_api import data

pytestmark = pytest.mark.slow


def post(api: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_graphiql_is_served_to_browsers(api: httpx.Client) -> None:
    response = api.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert api.get("/", follow_redirects=False).headers["location"] == "/graphql"


def test_health_reports_mongo(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["mongo"]["ok"] is True and body["mongo"]["database"] == data.DB_NAME


def test_post_returns_the_seeded_values(api: httpx.Client) -> None:
    body = post(
        api,
        """query($id: Int!) { kpis { totalOrders activeCustomers asOf }
             customer(customerId: $id) { name totalSpent lastOrder segment } }""",
        {"id": 3},
    )
    assert body == {
        "data": {
            "kpis": {"totalOrders": 16, "activeCustomers": 9, "asOf": "2024-06-30"},
            "customer": {
                "name": "Carla Rossi",
                "totalSpent": 999.99,
                "lastOrder": "2024-04-18T12:00:00",
                "segment": "LOYAL",
            },
        }
    }


def test_get_query_with_variables(api: httpx.Client) -> None:
    params = {
        "query": "query($e: String) { customers(filter: {email: $e}) "
        "{ totalCount edges { node { customerId } } } }",
        "variables": json.dumps({"e": "carla@example.com"}),
    }
    response = api.get("/graphql", params=params)
    assert response.status_code == 200
    assert response.json()["data"]["customers"] == {
        "totalCount": 1,
        "edges": [{"node": {"customerId": 3}}],
    }


def test_pagination_over_http_visits_everyone_once(api: httpx.Client) -> None:
    query = """query($after: String) { customers(first: 5, after: $after) {
      edges { node { customerId } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[int] = []
    after = None
    while True:
        page = post(api, query, {"after": after})["data"]["customers"]
        seen += [e["node"]["customerId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(data.CUSTOMERS) and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        ("query($n: Int) { customers(first: $n) { totalCount } }", {"n": 500}, "between 1 and 100"),
        (
            "query($a: String) { customers(after: $a) { totalCount } }",
            {"a": "Zm9yZ2Vk"},
            "not a valid cursor",
        ),
        ("{ customers(orderBy: {field: RICHEST}) { totalCount } }", {}, "RICHEST"),
        (
            "query($f: String, $t: String) { monthlyRevenue(from: $f, to: $t) { month } }",
            {"f": "2024-06", "t": "2024-01"},
            "must not be later than",
        ),
        ("query($f: String) { monthlyRevenue(from: $f) { month } }", {"f": "June"}, "YYYY-MM"),
        (
            "{ customers { edges { node { countryRevenue { topCustomers { countryRevenue { "
            "topCustomers { countryRevenue { topCustomers { id } } } } } } } } } }",
            {},
            "exceeds maximum operation depth",
        ),
    ],
)
def test_bad_input_gets_a_clear_graphql_error(
    api: httpx.Client, query: str, variables: dict[str, Any], message: str
) -> None:
    body = post(api, query, variables)
    assert body.get("errors"), body
    assert message in body["errors"][0]["message"]
    assert api.get("/health").status_code == 200  # still up


@pytest.mark.parametrize("body", ["null", "123", '"x"', "true", " 4"])
def test_a_json_body_that_is_not_an_object_gets_a_400(api: httpx.Client, body: str) -> None:
    response = api.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "must be a JSON object" in error["message"]
    assert "Traceback" not in response.text
    assert api.get("/health").status_code == 200  # still up


def test_health_reports_the_live_export(api: httpx.Client) -> None:
    body = api.get("/health").json()
    export = body["export"]
    assert export["ok"] is True and export["run_id"]
    assert 0 <= export["age_seconds"] < 3600
    assert set(export["collections"]) == set(data.GOLD_COLLECTIONS)


def test_a_one_megabyte_body_is_refused(api: httpx.Client) -> None:
    huge = {"query": "{ kpis { totalOrders } }", "variables": {"pad": "x" * 1_000_000}}
    response = api.post("/graphql", json=huge)
    assert response.status_code == 413
    assert "API_MAX_BODY_BYTES" in response.json()["errors"][0]["message"]
    assert post(api, "{ kpis { totalOrders } }")["data"]["kpis"]["totalOrders"] == 16


def test_a_streamed_body_over_the_limit_is_refused(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ kpis { totalOrders } }", "pad": "'
        for _ in range(100):
            yield b"y" * 10_000
        yield b'"}'

    response = api.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert api.get("/health").status_code == 200


def test_a_long_query_string_is_refused(api: httpx.Client) -> None:
    response = api.get("/graphql", params={"query": "{ kpis { totalOrders } }" + " " * 20_000})
    assert response.status_code == 414
    assert "16384 bytes" in response.json()["errors"][0]["message"]


def test_a_one_megabyte_query_string_is_refused(api: httpx.Client) -> None:
    # Sent by hand: httpx refuses to build such a URL; uvicorn answers before the app.
    url = httpx.URL(str(api.base_url))
    target = "/graphql?query=" + "a" * 1_000_000
    status_line = ""
    with socket.create_connection((url.host, url.port or 80), timeout=10) as sock:
        # the server may close the connection before reading it all
        with contextlib.suppress(OSError):
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        with contextlib.suppress(OSError):
            status_line = sock.makefile("rb").readline().decode()
    if status_line:
        assert status_line.split()[1] in ("400", "413", "414"), status_line
    assert api.get("/health").status_code == 200


def test_cors_is_limited_to_configured_origins(api: httpx.Client) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = api.options("/graphql", headers={"Origin": "http://ui.example", **preflight})
    assert allowed.headers.get("access-control-allow-origin") == "http://ui.example"
    other = api.options("/graphql", headers={"Origin": "http://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers
