"""Bounded load test of the GraphQL API on a local uvicorn and nx-27017.

Starts its own nx-27017 server and API process on free loopback ports, seeds
``--customers`` customers (50k by default) plus the small marts, then, for each of three
queries in turn, runs ``--clients`` concurrent clients for ``--duration`` seconds and prints
requests/s, p50 and p99 latency, the error count, and the CPU milliseconds the API process
and the MongoDB server spent per request. Targets: zero errors, p99 < 100 ms for ``kpis``
and ``customer(id)``.

On a shared machine requests/s and latencies move with the other load; CPU per request
moves far less, so compare those columns first.

    KEDRO_DISABLE_TELEMETRY=1 python bench/api_load.py [--clients 20 --duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import pymongo

from medallion_dev.api import api_server
from medallion_dev.mongo import mongo_server
from medallion_kedro.datasets.mongo_manifest import adopt

DB = "bench"
WIDTHS = (8, 9, 8, 8, 7, 8, 8)
COUNTRIES = ["France", "Germany", "Italy", "Spain", "Japan", "Brazil", "Canada", "India"]
PRODUCTS = ["Laptop", "Mouse", "Keyboard", "Monitor", "Cable", "Headset", "Webcam"]
SEGMENTS = ["Champions", "Loyal", "New", "At Risk", "Hibernating"]

KPIS = "{ kpis { totalRevenue totalOrders totalCustomers activeCustomers avgBasket asOf } }"
CUSTOMER = """query($id: Int!) { customer(customerId: $id) {
  customerId name email country signupDate totalSpent orderCount avgBasket lastOrder segment } }"""
PAGE = """query($first: Int) { customers(first: $first) {
  edges { cursor node { customerId name country totalSpent orderCount segment } }
  pageInfo { hasNextPage endCursor } } }"""


def seed(uri: str, customers: int) -> None:
    rng = random.Random(42)
    as_of = datetime(2024, 6, 30)
    with pymongo.MongoClient[dict[str, Any]](uri) as client:
        db = client[DB]
        for name in ("kpis", "revenue_by_country", "revenue_by_product", "monthly_revenue"):
            db.drop_collection(name)
        db["kpis"].insert_one(
            {
                "_id": "kpis",
                "total_revenue": 1234567.89,
                "total_orders": 123456,
                "total_customers": customers,
                "active_customers": int(customers * 0.9),
                "avg_basket": 10.0,
                "revenue_growth_last_month": 0.042,
                "as_of": as_of,
            }
        )
        db["revenue_by_country"].insert_many(
            {
                "_id": c,
                "country": c,
                "total_revenue": 1000.0 * i,
                "total_orders": 10 * i,
                "avg_basket": 100.0,
            }
            for i, c in enumerate(COUNTRIES, 1)
        )
        db["revenue_by_product"].insert_many(
            {
                "_id": p,
                "product": p,
                "total_revenue": 500.0 * i,
                "total_orders": 5 * i,
                "avg_price": 100.0,
            }
            for i, p in enumerate(PRODUCTS, 1)
        )
        db["monthly_revenue"].insert_many(
            {
                "_id": f"2024-{m:02d}",
                "month": f"2024-{m:02d}",
                "total_revenue": 100.0 * m,
                "total_orders": m,
                "avg_basket": 100.0,
            }
            for m in range(1, 7)
        )
        col = db["customer_metrics"]
        col.drop()
        batch: list[dict[str, Any]] = []
        for cid in range(1, customers + 1):
            orders = rng.choice([0] + [rng.randint(1, 20)] * 9)
            spent = round(rng.uniform(5, 2000), 2) if orders else 0.0
            last = as_of - timedelta(days=rng.randint(0, 500)) if orders else None
            batch.append(
                {
                    "_id": cid,
                    "customer_id": cid,
                    "name": f"Customer {cid:06d}",
                    "email": f"customer{cid}@example.com",
                    "signup_date": datetime(2023, 1, 1) + timedelta(days=cid % 365),
                    "country": rng.choice(COUNTRIES),
                    "total_spent": spent,
                    "order_count": orders,
                    "avg_basket": round(spent / orders, 2) if orders else None,
                    "first_order": last - timedelta(days=30) if last else None,
                    "last_order": last,
                    "recency_days": (as_of - last).days if last else None,
                    "rfm_score": "".join(rng.choice("12345") for _ in range(3)) if orders else None,
                    "segment": rng.choice(SEGMENTS) if orders else "Inactive",
                }
            )
            if len(batch) == 5_000:
                col.insert_many(batch)
                batch = []
        if batch:
            col.insert_many(batch)
        col.create_index("email", unique=True)
        col.create_index("country")
        col.create_index("segment")
        col.create_index([("total_spent", -1), ("customer_id", 1)])
        gold = ("kpis", "revenue_by_country", "revenue_by_product", "monthly_revenue")
        adopt(db, {name: name for name in (*gold, "customer_metrics")})  # the API reads these


#: A request body drawn with a random generator.
Body = Callable[[random.Random], dict[str, Any]]


def scenarios(customers: int) -> list[tuple[str, Body]]:
    """The three queries measured, each with its request bodies (ids among ``customers``)."""
    return [
        ("kpis", lambda rng: {"query": KPIS}),
        (
            "customer(id)",
            lambda rng: {"query": CUSTOMER, "variables": {"id": rng.randint(1, customers)}},
        ),
        ("customers[20]", lambda rng: {"query": PAGE, "variables": {"first": 20}}),
    ]


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    httpx costs more CPU per request than the API itself; on a 2-core machine that
    CPU is taken from the server under test, so the load loop uses this instead.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length")
        )
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def load(
    port: int, make_body: Callable[[random.Random], dict[str, Any]], clients: int, seconds: float
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client_loop(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        client = RawClient("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                body = json.dumps(make_body(rng)).encode()
                started = time.perf_counter()
                try:
                    status, raw = await client.post_json("/graphql", body)
                    payload = json.loads(raw)
                    ok = status == 200 and "errors" not in payload and bool(payload["data"])
                except (OSError, asyncio.IncompleteReadError, ValueError, KeyError):
                    ok = False
                    await client.close()
                    client = RawClient("127.0.0.1", port)
                latencies.append(time.perf_counter() - started)
                errors += not ok
        finally:
            await client.close()

    await asyncio.gather(*(client_loop(i) for i in range(clients)))
    return latencies, errors


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def report(
    name: str, latencies: list[float], errors: int, seconds: float, cpu: tuple[float, float]
) -> str:
    """One line of the table; ``cpu`` is the API's and the server's CPU seconds in the run."""
    ms = sorted(x * 1000 for x in latencies)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    api_ms, db_ms = (1000 * c / len(ms) for c in cpu)
    return (
        f"{name:<14} {len(ms):>8} {len(ms) / seconds:>9.1f} {p50:>8.1f} {p99:>8.1f} {errors:>7}"
        f" {api_ms:>8.3f} {db_ms:>8.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per query")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per query, unmeasured")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp, ExitStack() as stack:
        mongo = stack.enter_context(mongo_server(Path(tmp) / "bench.db"))
        started = time.perf_counter()
        seed(mongo.uri, args.customers)
        print(f"seeded {args.customers} customers in {time.perf_counter() - started:.1f}s")
        api = stack.enter_context(api_server(mongo.uri, DB, Path(tmp) / "api.log"))
        port = int(api.url.rsplit(":", 1)[1])
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/health", timeout=10).status_code == 200
        print(f"{args.clients} clients, {args.duration:.0f}s per query, {os.cpu_count()} CPUs")
        columns = ("requests", "req/s", "p50 ms", "p99 ms", "errors", "api cpu", "db cpu")
        print(
            f"{'query':<14} " + " ".join(f"{c:>{w}}" for c, w in zip(columns, WIDTHS, strict=True))
        )
        assert mongo.process is not None
        processes = (psutil.Process(api.process.pid), psutil.Process(mongo.process.pid))
        for name, body in scenarios(args.customers):
            asyncio.run(load(port, body, args.clients, args.warmup))
            before = [cpu_seconds(p) for p in processes]
            latencies, errors = asyncio.run(load(port, body, args.clients, args.duration))
            after = [cpu_seconds(p) for p in processes]
            cpu = (after[0] - before[0], after[1] - before[1])
            print(report(name, latencies, errors, args.duration, cpu), flush=True)
        print("api cpu, db cpu: CPU milliseconds per request of the API and of nx-27017")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
