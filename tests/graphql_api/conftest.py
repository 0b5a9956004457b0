"""Fixtures of the API tests: seeded gold collections, schema execution, a real uvicorn."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient, monitoring
from strawberry.types import ExecutionResult

from graphql_api.auth import PII_SCOPE, Principal
from graphql_api.context import build_context
from graphql_api.schema import schema
from graphql_api.store import GoldStore
from tests.graphql_api import data
from tests.servers import MongoServer, api_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class CommandCounter(monitoring.CommandListener):
    """Records the name and collection of every command the driver sends."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def reads(self) -> list[tuple[str, Any]]:
        return [c for c in self.commands if c[0] in {"find", "aggregate", "count"}]


Execute = Callable[..., ExecutionResult]

#: The client of schema-level tests unless a test says otherwise: may read personal data.
PII_READER = Principal("test", frozenset({PII_SCOPE}))


@pytest.fixture(scope="session")
def seeded(mongo: MongoServer) -> MongoServer:
    """The session's MongoDB with the sample gold collections in ``data.DB_NAME``."""
    data.seed(mongo.uri, data.DB_NAME)
    return mongo


@pytest.fixture
def gql(seeded: MongoServer) -> Execute:
    """Run one operation on the schema, values as variables, with a fresh context."""

    def execute(
        query: str,
        variables: dict[str, Any] | None = None,
        counter: CommandCounter | None = None,
        principal: Principal | None = PII_READER,
    ) -> ExecutionResult:
        async def run() -> ExecutionResult:
            listeners = [counter] if counter else []
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                seeded.uri, event_listeners=listeners
            )
            try:
                store = GoldStore(client[data.DB_NAME])
                return await schema.execute(
                    query,
                    variable_values=variables,
                    context_value=build_context(store, principal=principal),
                )
            finally:
                await client.close()

        return asyncio.run(run())

    return execute


@contextmanager
def api_process(mongo_uri: str, db_name: str, **env: str) -> Iterator[str]:
    """``python -m graphql_api`` on a free port; yields its base URL, stops it after."""
    with (
        tempfile.TemporaryDirectory(prefix="api-") as tmp,
        api_server(mongo_uri, db_name, Path(tmp) / "api.log", **env) as server,
    ):
        yield server.url
        assert server.process.poll() is None, "the API process died during the test"


@pytest.fixture(scope="module")
def api(seeded: MongoServer) -> Iterator[httpx.Client]:
    """An HTTP client on a real uvicorn process serving the seeded data."""
    with (
        api_process(seeded.uri, data.DB_NAME, API_CORS_ORIGINS="http://ui.example") as url,
        httpx.Client(base_url=url, timeout=15) as client,
    ):
        yield client
