"""The exposure rule inside the ASGI app, through a real uvicorn serving ``graphql_api.app:app``.

No ``medallion-api`` here: uvicorn serves the app object directly, as a deployment might.
Without authentication the app refuses to run on an address other machines can reach, and
answers only clients of this machine reached directly, named by a local ``Host``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from graphql_api.app import create_app
from graphql_api.auth import PII_SCOPE, hash_key
from graphql_api.settings import Settings
from tests.graphql_api import data
from tests.servers import MongoServer, Server, free_port, start_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NAMES = "{ customers(first: 3) { edges { node { name email } } } }"
KEY = "mk_exposure_test_key_00000000000000000000000000000000"


def _env(seeded: MongoServer, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MONGO_URI": seeded.uri,
        "MONGO_DB": data.DB_NAME,
        "API_KEYS": "",
        "API_KEYS_FILE": "",
        "API_JWT_ISSUER": "",
        "API_JWT_JWKS_URL": "",
        **extra,
    }


def _uvicorn(port: int, host: str = "127.0.0.1", *options: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "graphql_api.app:app", "--host", host,
            "--port", str(port), *options]  # fmt: skip


def _serve(seeded: MongoServer, tmp_path: Path, *options: str, **env: str) -> Iterator[Server]:
    port = free_port()
    server = start_server(
        _uvicorn(port, "127.0.0.1", *options), _env(seeded, **env), port,
        tmp_path / "uvicorn.log", cwd=PROJECT_ROOT,
    )  # fmt: skip
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def open_api(seeded: MongoServer, tmp_path: Path) -> Iterator[httpx.Client]:
    """uvicorn on 127.0.0.1, no authentication, trusting a proxy on this host."""
    for server in _serve(seeded, tmp_path, "--proxy-headers", "--forwarded-allow-ips", "*"):
        with httpx.Client(base_url=server.url, timeout=15) as client:
            yield client


def test_served_exposed_without_authentication_the_app_stops(
    seeded: MongoServer, tmp_path: Path
) -> None:
    log = tmp_path / "exposed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            _uvicorn(free_port(), "0.0.0.0"),  # noqa: S104 - what the app must refuse
            env=_env(seeded), cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"uvicorn kept serving on 0.0.0.0 without authentication:\n{log.read_text()}")
    assert process.returncode != 0
    assert "Refusing to serve customer data on 0.0.0.0" in log.read_text()


def test_a_local_client_reads_personal_data_in_development(open_api: httpx.Client) -> None:
    answer = open_api.post("/graphql", json={"query": NAMES})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["customers"]["edges"][0]["node"]["email"]


def test_a_client_elsewhere_through_a_proxy_on_this_host_is_refused(
    open_api: httpx.Client,
) -> None:
    answer = open_api.post(
        "/graphql", json={"query": NAMES}, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert answer.status_code == 403, answer.text
    assert "203.0.113.9" in answer.text and "API_KEYS_FILE" in answer.text
    assert "@" not in answer.text  # no email


def test_a_proxy_that_hides_the_client_is_refused_too(open_api: httpx.Client) -> None:
    answer = open_api.post("/graphql", json={"query": NAMES}, headers={"X-Real-IP": "10.1.2.3"})
    assert answer.status_code == 403, answer.text


def test_a_foreign_host_name_is_refused_against_dns_rebinding(open_api: httpx.Client) -> None:
    answer = open_api.post(
        "/graphql", json={"query": NAMES}, headers={"Host": "rebind.attacker.example"}
    )
    assert answer.status_code == 400
    assert "@" not in answer.text


def test_with_keys_configured_a_proxied_client_is_served_by_its_token(
    seeded: MongoServer, tmp_path: Path
) -> None:
    keys = f"{hash_key(KEY)} reader {PII_SCOPE}"
    for server in _serve(seeded, tmp_path, API_KEYS=keys):
        with httpx.Client(base_url=server.url, timeout=15) as client:
            proxied = {"X-Forwarded-For": "203.0.113.9", "Host": "api.example.org"}
            anonymous = client.post("/graphql", json={"query": NAMES}, headers=proxied)
            assert anonymous.status_code == 200
            assert "@" not in anonymous.text and "errors" in anonymous.json()
            allowed = client.post(
                "/graphql",
                json={"query": NAMES},
                headers={**proxied, "Authorization": f"Bearer {KEY}"},
            )
            assert allowed.json()["data"]["customers"]["edges"][0]["node"]["email"]


def test_the_app_object_refuses_a_remote_address_in_process(seeded: MongoServer) -> None:
    """Whatever serves the app: a client address that is not loopback is refused by the app
    itself, with no proxy header involved."""
    settings = Settings(mongo_uri=seeded.uri, mongo_db=data.DB_NAME)
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1", client=("203.0.113.9", 40000)) as client:
        answer = client.post("/graphql", json={"query": NAMES})
    assert answer.status_code == 403 and "203.0.113.9" in answer.text
    assert "@" not in answer.text
