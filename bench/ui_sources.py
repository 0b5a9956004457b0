"""Latency of the Sources tab's views from the lake and from the GraphQL API.

Builds a lake with the real pipelines in a temporary copy of the project (50k customers
by default), exports it to an nx-27017 server, serves it with the GraphQL API under
uvicorn, then runs exactly what the Sources tab runs (``ui.compare.compare_sources``)
and prints the median and p25-p75 spread per view and source, and whether they agree.

    KEDRO_DISABLE_TELEMETRY=1 .venv/bin/python bench/ui_sources.py --customers 50000
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from medallion_dev.mongo import mongo_server
from medallion_dev.processes import free_port, wait_for_port
from ui.compare import compare_sources
from ui.sources import GraphQLSource, LakeSource

ROOT = Path(__file__).resolve().parents[1]


ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def _kedro(project: Path, *args: str, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args], cwd=project, env=env or ENV, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def _project(target: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", target)
    shutil.copytree(ROOT / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    (target / "src").mkdir()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--orders", type=int, default=None, help="default: 10 per customer")
    parser.add_argument("--repeats", type=int, default=20, help="loads per view and source")
    args = parser.parse_args()
    orders = args.orders or args.customers * 10

    with tempfile.TemporaryDirectory(prefix="ui_bench_") as tmp:
        project = _project(Path(tmp))
        params = f"n_customers={args.customers},n_orders={orders}"
        print(f"building the lake: {args.customers:,} customers, {orders:,} orders", flush=True)
        print(f"  generate {_kedro(project, '--pipelines', 'generate', '--params', params):.1f} s")
        print(f"  bronze+silver+gold {_kedro(project, '--pipelines', 'bronze,silver,gold'):.1f} s")
        with mongo_server(Path(tmp) / "mongo.db") as mongo:
            env = {**ENV, "MONGO_URI": mongo.uri, "MONGO_DB": "bench"}
            print(f"  export {_kedro(project, '--pipelines', 'export', env=env):.1f} s", flush=True)
            port = free_port()
            api = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "graphql_api.app:app", "--port", str(port),
                 "--log-level", "warning"],
                env=env, start_new_session=True,
            )  # fmt: skip
            try:
                wait_for_port(port, timeout=30)
                sources = [
                    LakeSource(project, None),
                    GraphQLSource(f"http://127.0.0.1:{port}/graphql"),
                ]
                compare_sources(sources, 1)  # warm up: Kedro bootstrap, HTTP connection
                results = compare_sources(sources, args.repeats)
            finally:
                os.killpg(api.pid, signal.SIGTERM)
                api.wait(timeout=10)

    labels = [s.label for s in sources]
    print(f"\n{args.repeats} loads per view and source, sources interleaved (ms)\n")
    print(f"{'view':<20}" + "".join(f"{label + ' median':>24}{'p25-p75':>16}" for label in labels)
          + "  same numbers")  # fmt: skip
    for r in results:
        cells = ""
        for label in labels:
            lat = r.latency.get(label)
            cells += (f"{'failed':>24}{'':>16}" if lat is None else
                      f"{lat.median:>24.1f}{f'{lat.p25:.1f}-{lat.p75:.1f}':>16}")  # fmt: skip
        failed = "; ".join(r.errors.values())
        verdict = "yes" if r.agree else ", ".join(r.differing_fields) or failed
        print(f"{r.view:<20}{cells}  {verdict}")


if __name__ == "__main__":
    main()
