"""What one ``customer(id)`` request costs in MongoDB commands, through the whole app.

The load benchmark's hot path: the app reads the live export manifest (cached for
``manifest_ttl_seconds``), then the customer by ``_id`` (kept for the export run). Each
MongoDB command costs a round trip to the server, so a change that adds one shows here
as a failed budget rather than as a noisy requests-per-second figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_api.app import create_app
from graphql_api.settings import Settings
from medallion_kedro.export_manifest import MANIFEST
from tests.graphql_api import data
from tests.graphql_api.conftest import CommandCounter
from tests.servers import MongoServer

CUSTOMER = """query($id: Int!) { customer(customerId: $id) {
  customerId name email country signupDate totalSpent orderCount avgBasket lastOrder segment } }"""


@pytest.fixture
def app_client(seeded: MongoServer) -> Iterator[tuple[TestClient, CommandCounter]]:
    """The whole ASGI app over the seeded export; the manifest is cached for the test."""
    counter = CommandCounter()
    settings = Settings(mongo_uri=seeded.uri, mongo_db=data.DB_NAME, manifest_ttl_seconds=600)
    app = create_app(settings, event_listeners=[counter])
    # no authentication: the app serves this machine only, so the client is on loopback
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
        yield client, counter


def _customer(client: TestClient, customer_id: int) -> Any:
    response = client.post("/graphql", json={"query": CUSTOMER, "variables": {"id": customer_id}})
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload
    return payload["data"]["customer"]


def _commands(counter: CommandCounter) -> list[tuple[str, Any]]:
    """The commands sent since the last call, forgotten after."""
    sent, counter.commands = counter.commands, []
    return sent


def test_customer_by_id_costs_one_find_then_none(
    app_client: tuple[TestClient, CommandCounter],
) -> None:
    client, counter = app_client
    assert _customer(client, 1)["name"] == "Alice Martin"
    assert _commands(counter) == [("find", MANIFEST), ("find", "customer_metrics")]

    for _ in range(3):  # the same customer again: the manifest and the document are kept
        assert _customer(client, 1)["customerId"] == 1
    assert _commands(counter) == []

    assert _customer(client, 2)["customerId"] == 2  # another customer: one find, by _id
    assert _commands(counter) == [("find", "customer_metrics")]

    assert _customer(client, 4242) is None  # an absent id is kept as absent too
    assert _customer(client, 4242) is None
    assert _commands(counter) == [("find", "customer_metrics")]
