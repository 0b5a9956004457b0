"""``customer(customerId)`` on the GraphQL API vs an original-style REST endpoint, with wrk.

Starts nx-27017, seeds ``--customers`` customers (``bench/api_load.py``'s data), the API
(uvicorn) and ``bench/rest_baseline.py`` (Flask, a new ``MongoClient`` per request) on the
same server and data, then measures each in the same run with ``wrk`` (``--connections``
connections, ``--threads`` threads, ``--duration`` seconds after ``--warmup`` unmeasured
seconds), a random customer id per request. Errors are socket errors, non-2xx answers and
GraphQL answers with ``errors`` or without the customer. Prints req/s, p50, p99, errors
and the ratio of the API to the baseline.

    KEDRO_DISABLE_TELEMETRY=1 python bench/api_vs_rest.py [--customers 50000 --duration 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from api_load import CUSTOMER, DB, seed

from medallion_dev.api import api_server
from medallion_dev.mongo import mongo_server
from medallion_dev.processes import free_port, start_server

ROOT = Path(__file__).resolve().parents[1]


#: wrk script: a random customer id per request; counts bad answers; prints one JSON line.
LUA = r"""
local max_id = %(max_id)d
local graphql = %(graphql)s
local query = %(query)s
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
wrk.method = graphql and "POST" or "GET"
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function request()
  local id = math.random(1, max_id)
  if graphql then
    return wrk.format(nil, "/graphql", nil,
      '{"query":' .. query .. ',"variables":{"id":' .. id .. '}}')
  end
  return wrk.format(nil, "/customers/" .. id)
end
function response(status, headers, body)
  if status ~= 200 or (graphql and (body:find('"errors"', 1, true)
      or not body:find('"customerId"', 1, true))) then
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do bad_total = bad_total + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%%d,"seconds":%%f,"p50":%%f,"p99":%%f,"errors":%%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3,
    e.connect + e.read + e.write + e.timeout + e.status + bad_total))
end
"""


def wrk(url: str, script: Path, threads: int, connections: int, seconds: float) -> dict[str, Any]:
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
         "--timeout", "5s", "-s", str(script), url],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, unmeasured")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="api-vs-rest-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        mongo = stack.enter_context(mongo_server(folder / "bench.db"))
        seed(mongo.uri, args.customers)
        api = stack.enter_context(api_server(mongo.uri, DB, folder / "api.log"))
        port = free_port()
        env = {**os.environ, "MONGO_URI": mongo.uri, "MONGO_DB": DB}
        rest = start_server(
            [sys.executable, str(ROOT / "bench" / "rest_baseline.py"), "--port", str(port)],
            env, port, folder / "rest.log",
        )  # fmt: skip
        stack.callback(rest.stop)
        rest_url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{rest_url}/customers/1", timeout=10).status_code == 200
        api_url = api.url.removesuffix("/graphql")
        assert httpx.get(f"{api_url}/health", timeout=10).status_code == 200

        targets = [("REST (Flask, client per request)", rest_url, False),
                   ("GraphQL customer(customerId)", api_url, True)]  # fmt: skip
        results = {}
        for name, url, graphql in targets:
            script = folder / f"{'graphql' if graphql else 'rest'}.lua"
            script.write_text(LUA % {"max_id": args.customers, "graphql": str(graphql).lower(),
                                     "query": json.dumps(json.dumps(CUSTOMER))})  # fmt: skip
            wrk(url, script, args.threads, args.connections, args.warmup)
            results[name] = wrk(url, script, args.threads, args.connections, args.duration)

        print(f"{args.customers} customers, {args.connections} connections, {args.threads} wrk "
              f"threads, {args.duration:.0f} s each, {os.cpu_count()} CPUs")  # fmt: skip
        print(
            f"{'endpoint':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}"
        )
        base = next(iter(results.values()))
        base_rate = base["requests"] / base["seconds"]
        for name, r in results.items():
            rate = r["requests"] / r["seconds"]
            print(f"{name:<34} {rate:>9.1f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
                  f"{r['errors']:>7} {rate / base_rate:>5.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
