"""Benchmark: the fixed cost of a ``kedro run`` (start-up, hooks, commits, exit).

Generates ``--orders`` orders and ``--customers`` customers as ``--batches`` export files
per table, holds the last orders file back and builds the lake from the others; then, each
``--repeat`` times, in a ``kedro run --pipelines bronze,silver,gold`` process of its own:

1. the tiny batch: a copy of the built lake, the held-back file dropped into landing;
2. the no-op: the same command on the built lake, with nothing new.

The fixed cost of the batch run is its wall time minus the seconds of its nodes (their
reads and writes included, from the run's ``quality/node_runs``), split into what comes
before the run record starts (interpreter and Kedro start-up, the nothing-new check, the
session and catalog), what the run spends outside its nodes (hooks, lake commits, run
records) and what follows its record (the last hooks, session close, interpreter exit).
The no-op run has no node: its wall time is all fixed cost. Medians are printed.

``--project`` runs another checkout of the project (its ``src`` first on the path) with
this interpreter; given several times, the checkouts' runs alternate, so two versions are
measured in the same sitting::

    python bench/fixed_cost.py [--orders 3000] [--repeat 5] [--project A --project B]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ["run", "--pipelines", "bronze,silver,gold"]
#: Per project: the batch runs' splits, and the no-op runs' (wall, CPU) seconds.
Runs = tuple[list[dict[str, float]], list[tuple[float, float]]]


def kedro(project: Path, args: list[str], lake: Path) -> tuple[float, float]:
    """Run ``kedro <args>`` in ``project`` on ``lake``; return its wall and CPU seconds (user
    and system: on a shared machine the CPU seconds vary less than the wall time)."""
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "LAKE_PATH": str(lake),
        "PYTHONPATH": str(project / "src"),
    }
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kedro", *args], cwd=project, env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"kedro {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall, after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime


def split(lake: Path, started: float, wall: float, cpu: float) -> dict[str, float]:
    """Where the run started at ``started`` (epoch seconds) spent its ``wall`` seconds."""
    since = pl.lit(int(started * 1e6))
    run = (
        pl.read_parquet(lake / "quality" / "runs" / "*.parquet")
        .filter(pl.col("status") == "succeeded", pl.col("started_at").dt.epoch("us") >= since)
        .row(0, named=True)
    )
    nodes = pl.read_parquet(lake / "quality" / "node_runs" / "*.parquet").filter(
        pl.col("run_id") == run["run_id"]
    )
    before = run["started_at"].timestamp() - started
    in_nodes = float(nodes["seconds"].sum())
    return {
        "wall": wall,
        "nodes (reads and writes included)": in_nodes,
        "start-up, session, catalog": before,
        "hooks, commits outside nodes": run["seconds"] - in_nodes,
        "last hooks, close, exit": wall - before - run["seconds"],
        "fixed cost (wall - nodes)": wall - in_nodes,
        "CPU seconds of the process": cpu,
    }


def build(project: Path, lake: Path, orders: int, customers: int, batches: int) -> Path:
    """Generate and build ``lake``; return the orders file held back for the batch."""
    params = f"n_orders={orders},n_customers={customers},batches={batches}"
    kedro(project, ["run", "--pipelines", "generate", "--params", params], lake)
    held = sorted((lake / "landing" / "orders").glob("*.csv"))[-1]
    kept = lake.parent / held.name
    held.rename(kept)
    kedro(project, COMMAND, lake)
    return kept


def report(project: Path, args: argparse.Namespace, customers: int, runs: Runs) -> None:
    batch, noop = runs
    print(f"{project} — {args.orders:,} orders, {customers:,} customers, {args.batches} files")
    print(f"tiny batch (1 orders file of {args.batches}), median of {args.repeat}:")
    for key in batch[0]:
        print(f"  {key:<36} {statistics.median(b[key] for b in batch):6.2f} s")
    print(f"nothing new, median of {args.repeat}:")
    print(f"  {'wall (all fixed cost)':<36} {statistics.median(w for w, _ in noop):6.2f} s")
    print(f"  {'CPU seconds of the process':<36} {statistics.median(c for _, c in noop):6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 10")
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--project", type=Path, action="append",
        help="a checkout of the project (default: this one); give several to compare them, "
        "their runs alternate",
    )  # fmt: skip
    args = parser.parse_args()
    projects = [p.resolve() for p in args.project or [ROOT]]
    customers = args.customers or max(args.orders // 10, 1)
    with tempfile.TemporaryDirectory(prefix="fixed_cost_") as tmp:
        built: dict[Path, Path] = {}
        held: dict[Path, Path] = {}
        runs: dict[Path, Runs] = {}
        for i, project in enumerate(projects):
            built[project] = Path(tmp) / str(i) / "built" / "lake"
            held[project] = build(project, built[project], args.orders, customers, args.batches)
            runs[project] = ([], [])
        for _ in range(args.repeat):
            for project in projects:
                lake = Path(tmp) / "batch" / "lake"
                shutil.rmtree(lake.parent, ignore_errors=True)
                shutil.copytree(built[project], lake)
                shutil.copy2(held[project], lake / "landing" / "orders" / held[project].name)
                started = time.time()
                runs[project][0].append(split(lake, started, *kedro(project, COMMAND, lake)))
                runs[project][1].append(kedro(project, COMMAND, built[project]))
    for project in projects:
        report(project, args, customers, runs[project])


if __name__ == "__main__":
    main()
