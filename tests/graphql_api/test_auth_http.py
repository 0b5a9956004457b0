"""Access control over real HTTP: every way to reach personal data, with every kind of token.

One uvicorn process is configured with hashed API keys and with JWTs verified against a
JWKS served by this module (as an identity provider would serve it). Each "way" below is
a query that could reveal a customer's name or email; each is sent with no token, a wrong
token, an expired one, one without the scope, and a valid one, as an API key and as a JWT.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from graphql_api.auth import PII_SCOPE, hash_key
from tests.graphql_api import data
from tests.graphql_api.conftest import api_process
from tests.servers import MongoServer, free_port

pytestmark = pytest.mark.slow

ISSUER, AUDIENCE = "https://idp.test/", "medallion-api"
KEYS = {
    "valid": "mk_valid-reader-key-0123456789abcdefghijklmnop",
    "noscope": "mk_aggregates-only-key-0123456789abcdefghijk",
    "expired": "mk_expired-reader-key-0123456789abcdefghijklm",
}
KEY_LINES = ";".join(
    [
        f"{hash_key(KEYS['valid'])} reader {PII_SCOPE}",
        f"{hash_key(KEYS['noscope'])} dashboard -",
        f"{hash_key(KEYS['expired'])} old-reader {PII_SCOPE} 2020-01-01T00:00:00+00:00",
    ]
)
PERSONAL = [text for row in data.CUSTOMERS.values() for text in row[:2]]


class Idp:
    """An RSA signing key and the JWKS document that publishes its public half."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})

    def token(
        self, scope: str = PII_SCOPE, expires_in: float = 300, key: Any = None, **claims: Any
    ) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ana", "iat": now, "scope": scope}
        payload |= {"exp": now + int(expires_in), **claims}
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture(scope="module")
def idp() -> Iterator[tuple[Idp, str]]:
    """The identity provider and the URL of its JWKS, on a loopback port."""
    provider = Idp()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = provider.jwks.encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def secured(seeded: MongoServer, idp: tuple[Idp, str]) -> Iterator[httpx.Client]:
    """The API with API keys and JWTs configured, on loopback, no rate limit."""
    env = {
        "API_KEYS": KEY_LINES,
        "API_JWT_ISSUER": ISSUER,
        "API_JWT_AUDIENCE": AUDIENCE,
        "API_JWT_JWKS_URL": idp[1],
    }
    with (
        api_process(seeded.uri, data.DB_NAME, **env) as url,
        httpx.Client(base_url=url, timeout=15) as client,
    ):
        yield client


def tokens(idp: Idp) -> dict[str, tuple[str | None, str]]:
    """Token kind -> (token, expected outcome: ok, UNAUTHENTICATED, 401 or FORBIDDEN)."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "none": (None, "UNAUTHENTICATED"),
        "wrong-key": ("mk_not-a-key-we-know-0123456789abcdefghijklm", "401"),
        "wrong-jwt-signature": (idp.token(key=stranger), "401"),
        "wrong-jwt-audience": (idp.token(aud="another-api"), "401"),
        "expired-key": (KEYS["expired"], "401"),
        "expired-jwt": (idp.token(expires_in=-3600), "401"),
        "key-without-scope": (KEYS["noscope"], "FORBIDDEN"),
        "jwt-without-scope": (idp.token(scope="reports:read"), "FORBIDDEN"),
        "valid-key": (KEYS["valid"], "ok"),
        "valid-jwt": (idp.token(), "ok"),
    }


ALICE_ID = "Q3VzdG9tZXI6MQ=="  # base64("Customer:1")

#: Every way to reach a name or an email: (query, variables, a text the answer holds if ok).
WAYS: dict[str, tuple[str, dict[str, Any], str]] = {
    "field name": ("{ customer(customerId: 1) { customerId name } }", {}, "Alice Martin"),
    "field email": ("{ customer(customerId: 1) { email } }", {}, "alice@example.com"),
    "alias": ("{ c: customer(customerId: 1) { n: name } }", {}, "Alice Martin"),
    "list": (
        "{ customers(first: 3) { edges { node { customerId email } } } }",
        {},
        "alice@example.com",
    ),
    "nested topCustomers": (
        "{ revenueByCountry { country topCustomers(first: 1) { name } } }",
        {},
        "Alice Martin",
    ),
    "nested via countryRevenue": (
        "{ customer(customerId: 4) { countryRevenue { topCustomers(first: 1) { email } } } }",
        {},
        "alice@example.com",
    ),
    "node": (
        "query($id: ID!) { node(id: $id) { ... on Customer { name } } }",
        {"id": ALICE_ID},
        "Alice Martin",
    ),
    "email filter": (
        "query($e: String) { customers(filter: {email: $e}) { totalCount } }",
        {"e": "alice@example.com"},
        '"totalCount": 1',
    ),
    "email filter, invalid value": (
        "query($e: String) { customers(filter: {email: $e}) { totalCount } }",
        {"e": "   "},
        "BAD_USER_INPUT",
    ),
    "namePrefix filter": (
        "query($p: String) { customers(filter: {namePrefix: $p}) { totalCount } }",
        {"p": "Ali"},
        '"totalCount": 2',
    ),
    "namePrefix filter on ids only": (
        "query($p: String) { customers(filter: {namePrefix: $p}) "
        "{ edges { node { customerId } } } }",
        {"p": "Alice"},
        '"customerId": 1',
    ),
    "ordering by name": (
        "{ customers(first: 1, orderBy: {field: NAME}) { edges { node { customerId } } } }",
        {},
        '"customerId": 11',  # "Jules Blanc" comes first, by name descending
    ),
}


def post(client: httpx.Client, token: str | None, query: str, variables: Any) -> httpx.Response:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def assert_no_personal_data(response: httpx.Response) -> None:
    text = response.text + json.dumps(dict(response.headers))
    leaked = [p for p in PERSONAL if p in text or p.lower() in text]
    assert not leaked, f"personal data in a refusal: {leaked}: {text[:300]}"


@pytest.mark.parametrize("way", list(WAYS))
def test_every_way_to_personal_data_with_every_token(
    secured: httpx.Client, idp: tuple[Idp, str], way: str
) -> None:
    query, variables, expected = WAYS[way]
    for kind, (token, outcome) in tokens(idp[0]).items():
        response = post(secured, token, query, variables)
        body = response.json()
        where = f"{way} with {kind}"
        if outcome == "ok":
            assert response.status_code == 200, where
            assert expected in json.dumps(body, ensure_ascii=False), (where, body)
            continue
        assert_no_personal_data(response)
        if outcome == "401":
            assert response.status_code == 401, where
            assert response.headers["www-authenticate"].startswith("Bearer"), where
            assert "data" not in body, where
            assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], where
            continue
        assert response.status_code == 200, where
        assert {e["extensions"]["code"] for e in body["errors"]} == {outcome}, (where, body)
        assert PII_SCOPE in body["errors"][0]["message"], where


def test_a_name_cursor_tells_nothing_to_others(secured: httpx.Client, idp: tuple[Idp, str]) -> None:
    query = """query($o: CustomerOrder, $a: String, $b: String, $first: Int, $last: Int) {
      customers(orderBy: $o, first: $first, after: $a, last: $last, before: $b) {
        edges { node { customerId } } pageInfo { endCursor } } }"""
    by_name = {"field": "NAME"}
    page = post(secured, KEYS["valid"], query, {"o": by_name, "first": 2}).json()
    cursor = page["data"]["customers"]["pageInfo"]["endCursor"]
    for kind, (token, outcome) in tokens(idp[0]).items():
        for variables in (
            {"o": by_name, "a": cursor, "first": 2},
            {"o": by_name, "b": cursor, "last": 2},
            {"a": cursor},  # the default order: refused as a cursor of another ordering
            {"b": cursor, "last": 2},
        ):
            response = post(secured, token, query, variables)
            where = f"{variables} with {kind}"
            if outcome == "ok" and "o" in variables:
                assert response.json()["data"]["customers"]["edges"], where
                continue
            assert "errors" in response.json(), where
            assert_no_personal_data(response)


def test_aggregates_and_customer_metrics_stay_public(secured: httpx.Client) -> None:
    query = """{ kpis { totalOrders } segments { segment customers }
      revenueByCountry { country topCustomers(first: 1) { customerId totalSpent } }
      customers(first: 2, filter: {segment: CHAMPIONS}) { totalCount
        edges { node { id customerId totalSpent segment } } } }"""
    response = post(secured, None, query, {})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert body["data"]["kpis"]["totalOrders"] == 16
    assert body["data"]["customers"]["totalCount"] == 2


def test_introspection_says_which_fields_need_a_scope(secured: httpx.Client) -> None:
    query = """{ customer: __type(name: "Customer") { fields { name description } }
                 filter: __type(name: "CustomerFilter") { inputFields { name description } }
                 order: __type(name: "CustomerOrderField") { enumValues { name description } } }"""
    body = post(secured, None, query, {}).json()["data"]

    def scoped(items: list[dict[str, str]]) -> set[str]:
        return {i["name"] for i in items if PII_SCOPE in (i["description"] or "")}

    assert scoped(body["customer"]["fields"]) == {"name", "email"}
    assert scoped(body["filter"]["inputFields"]) == {"email", "namePrefix"}
    assert scoped(body["order"]["enumValues"]) == {"NAME"}


def test_a_bad_authorization_header_is_refused(secured: httpx.Client) -> None:
    for header in ("Basic YWxpY2U6c2VjcmV0", "Bearer", "Token mk_x"):
        response = secured.post(
            "/graphql",
            json={"query": "{ kpis { totalOrders } }"},
            headers={"authorization": header},
        )
        assert response.status_code == 401, header
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_without_auth_configured_loopback_serves_everything_as_before(
    api: httpx.Client,
) -> None:
    body = post(api, None, WAYS["field name"][0], {}).json()
    assert body == {"data": {"customer": {"customerId": 1, "name": "Alice Martin"}}}


def test_the_api_refuses_to_start_exposed_without_auth(seeded: MongoServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graphql_api"],
        env={**os.environ, "API_HOST": "0.0.0.0", "API_PORT": str(free_port())}
        | {"MONGO_URI": seeded.uri, "API_KEYS": "", "API_KEYS_FILE": "", "API_JWT_ISSUER": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Refusing to serve customer data on 0.0.0.0" in result.stderr
    assert "API_KEYS_FILE" in result.stderr and "Traceback" not in result.stderr


def test_rate_limit_answers_429_with_retry_after(seeded: MongoServer) -> None:
    """A burst of 12 requests against 5/minute: 5 answered, then 429s; /health is exempt.

    Each client has its own budget: the key's requests are counted apart from the address's.
    """
    env = {"API_RATE_LIMIT": "5/minute", "API_KEYS": KEY_LINES}
    query = "{ kpis { totalOrders } }"
    with (
        api_process(seeded.uri, data.DB_NAME, **env) as url,
        httpx.Client(base_url=url, timeout=15) as client,
    ):
        statuses = [post(client, None, query, {}) for _ in range(12)]
        assert [r.status_code for r in statuses] == [200] * 5 + [429] * 7
        refused = statuses[-1]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert client.get("/health").status_code == 200
        keyed = [post(client, KEYS["valid"], query, {}).status_code for _ in range(7)]
        assert keyed == [200] * 5 + [429] * 2


def test_no_rate_limit_on_loopback_by_default(api: httpx.Client) -> None:
    statuses = {post(api, None, "{ kpis { totalOrders } }", {}).status_code for _ in range(40)}
    assert statuses == {200}
