"""Load on the API with ``wrk`` while a loop of exports publishes new runs to the same server.

Starts its own nx-27017 server and API process on free loopback ports, publishes a first
export of ``--customers`` customers, then starts a loop of exports (the export pipeline's
dataset, ``MongoExportDataset.save``, alternating two lakes of different sizes) and, for
``kpis`` and a 20-item customers page, runs ``wrk -t2 -c50 -d15s`` with a Lua script that
POSTs the query and counts as an error every non-200 answer and every 200 whose body holds
GraphQL ``errors`` or an empty page. Prints req/s, p50, p99 and errors per query, and how
many exports landed during each (errors expected: 0).

    KEDRO_DISABLE_TELEMETRY=1 python bench/api_during_exports.py \\
        [--customers 50000] [--threads 2 --connections 50 --duration 15]

Needs ``wrk`` (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from medallion_dev.api import api_server
from medallion_dev.gold_samples import gold_tables
from medallion_dev.mongo import mongo_server
from medallion_kedro.datasets import MongoExportDataset

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")


DB = "bench"
QUERIES = {
    "kpis": "{ kpis { totalRevenue totalOrders totalCustomers activeCustomers avgBasket } }",
    "customers[20]": (
        "{ customers(first: 20) { totalCount edges { cursor node { id name country "
        "totalSpent segment } } pageInfo { hasNextPage endCursor } } }"
    ),
}
#: wrk script: POST the body; count non-200s, GraphQL errors and empty data as errors.
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = %s
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) or body:find('"edges":[]', 1, true)
     or body:find('"data":null', 1, true) then
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do bad_total = bad_total + t:get("bad") end
  io.write(string.format(
    "RESULT requests=%%d seconds=%%.3f p50_ms=%%.2f p99_ms=%%.2f graphql_errors=%%d " ..
    "http_errors=%%d socket_errors=%%d\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, bad_total, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
"""


def export_config(uri: str) -> MongoExportDataset:
    return MongoExportDataset(
        database=DB,
        credentials={"uri": uri},
        save_args={"grace_seconds": 30},
    )


class ExportLoop(threading.Thread):
    """Publishes exports back to back, alternating two table sets, until stopped."""

    def __init__(self, dataset: MongoExportDataset, customers: int) -> None:
        super().__init__(daemon=True)
        self.dataset = dataset
        self.tables = [gold_tables(customers), gold_tables(customers + 1)]
        self.stop = threading.Event()
        self.landed = 0
        self.failed: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.dataset.save(self.tables[self.landed % 2])
                self.landed += 1
            except Exception as exc:  # noqa: BLE001 - reported at the end
                self.failed.append(str(exc)[:200])


def run_wrk(url: str, query: str, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    script = tmp / "post.lua"
    script.write_text(LUA % json.dumps(json.dumps({"query": query})))
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(script),
        f"{url}/graphql",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    match = re.search(r"RESULT (.*)", out)
    if match is None:
        raise RuntimeError(f"wrk printed no RESULT line:\n{out}")
    return {k: float(v) for k, v in (p.split("=") for p in match[1].split())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15, help="seconds per query")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="api-exports-") as tmp, ExitStack() as stack:
        mongo = stack.enter_context(mongo_server(Path(tmp) / "bench.db"))
        dataset = export_config(mongo.uri)
        started = time.perf_counter()
        dataset.save(gold_tables(args.customers))
        print(f"first export of {args.customers} customers: {time.perf_counter() - started:.1f}s")
        api = stack.enter_context(api_server(mongo.uri, DB, Path(tmp) / "api.log"))
        assert httpx.get(f"{api.url}/health", timeout=10).status_code == 200
        print(
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, exports looping, "
            f"{os.cpu_count()} CPUs"
        )
        print(
            f"{'query':<14} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'errors':>7} {'exports':>8}"
        )
        total_errors = 0
        for name, query in QUERIES.items():
            loop = ExportLoop(dataset, args.customers)
            loop.start()
            try:
                result = run_wrk(api.url, query, args, Path(tmp))
            finally:
                loop.stop.set()
                loop.join(timeout=300)
            errors = int(result["graphql_errors"] + result["http_errors"] + result["socket_errors"])
            total_errors += errors + len(loop.failed)
            print(
                f"{name:<14} {int(result['requests']):>9} "
                f"{result['requests'] / result['seconds']:>8.1f} {result['p50_ms']:>8.1f} "
                f"{result['p99_ms']:>8.1f} {errors:>7} {loop.landed:>8}  (GraphQL errors or "
                f"empty {int(result['graphql_errors'])}, non-200 {int(result['http_errors'])}, "
                f"socket {int(result['socket_errors'])})",
                flush=True,
            )
            for failure in loop.failed:
                print(f"  export failed: {failure}")
    return 0 if total_errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
