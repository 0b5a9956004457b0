"""What one GraphQL request costs the API, in counts that do not move with the machine's load.

Seeds nx-27017 as ``bench/api_load.py`` does, then runs the app in this process (its
lifespan, manifest and caches, no HTTP server) and sends ``--requests`` requests of each of
the same three queries, one after the other. For each query it prints the MongoDB commands
per request (by command and collection, from a pymongo command listener) and the Python
function calls per request (cProfile). The manifest and the ``kpis`` cache are kept for
the whole run (their TTLs set to an hour), so the counts depend on nothing but the code and
the data. Requests/s under load (``api_load.py``) moves with whatever else the machine
runs; these counts change only when the code does.

    KEDRO_DISABLE_TELEMETRY=1 python bench/api_cost.py [--customers 20000 --requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from api_load import DB, Body, scenarios, seed
from pymongo import monitoring
from starlette.types import ASGIApp, Message

from medallion_dev.mongo import mongo_server


class Commands(monitoring.CommandListener):
    """Counts the commands the app's client sends, by name and collection."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent[f"{event.command_name} {event.command.get(event.command_name)}"] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def post(app: ASGIApp, body: bytes) -> dict[str, Any]:
    """One ``POST /graphql`` straight through the ASGI app, as uvicorn would call it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status: list[int] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the request has been read: nothing more comes
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    payload: dict[str, Any] = json.loads(b"".join(chunks))
    if status != [200] or "errors" in payload:
        raise SystemExit(f"the API answered {status}: {payload}")
    return payload


async def measure(
    app: ASGIApp,
    commands: Commands,
    queries: list[tuple[str, Body]],
    requests: int,
) -> None:
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})

    async def run_lifespan() -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        await app(scope, inbox.get, outbox.put)

    lifespan = asyncio.create_task(run_lifespan())
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise SystemExit(f"the app did not start: {started}")
    print(f"{'query':<14} {'commands':>9} {'py calls':>9}  commands per request")
    for name, make_body in queries:
        rng = random.Random(42)
        bodies = [json.dumps(make_body(rng)).encode() for _ in range(requests)]
        await post(app, bodies[0])  # the first request of a query parses and validates it
        commands.sent.clear()
        profile = cProfile.Profile()
        profile.enable()
        for body in bodies:
            await post(app, body)
        profile.disable()
        calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
        detail = ", ".join(f"{k} {v / requests:.3f}" for k, v in sorted(commands.sent.items()))
        print(
            f"{name:<14} {sum(commands.sent.values()) / requests:>9.3f} "
            f"{calls / requests:>9.0f}  {detail}",
            flush=True,
        )
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await lifespan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000, help="per query")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="api-cost-") as tmp,
        mongo_server(Path(tmp) / "bench.db") as mongo,
    ):
        seed(mongo.uri, args.customers)
        os.environ.update(
            MONGO_URI=mongo.uri,
            MONGO_DB=DB,
            API_HOST="127.0.0.1",
            API_MANIFEST_TTL="3600",
            API_CACHE_TTL="3600",
        )
        from graphql_api.app import create_app  # reads the environment on import
        from graphql_api.settings import Settings

        commands = Commands()
        app = create_app(Settings.from_env(), event_listeners=[commands])
        print(f"{args.customers} customers, {args.requests} requests per query, in process")
        asyncio.run(measure(app, commands, scenarios(args.customers), args.requests))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
