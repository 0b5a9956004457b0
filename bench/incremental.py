"""Benchmark: a full rebuild, a 1% batch and a run with nothing new, on one lake.

Generates ``--orders`` orders as 100 export files per table (``--params batches=100``:
late orders, corrections of earlier rows), holds the last file of each table back, and
times, each in a ``kedro run --pipelines bronze,silver,gold`` process of its own (Kedro
start-up included):

1. the full rebuild: the 99 first batches into an empty lake;
2. the 1% batch: the held-back files dropped into landing, bronze -> silver -> gold;
3. the no-op: the same command again, with nothing new.

Then where the 1% batch's time went: each stage's nodes (their seconds, reads and writes
included, from the run's ``quality/node_runs``), the rest of the process (Kedro's start-up,
lake commits, hooks), and every gold node (one per gold table).

    python bench/incremental.py --orders 10000000 [--customers 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
BATCHES = 100


def kedro(args: list[str], lake: str) -> tuple[float, str]:
    """Run ``kedro <args>`` on ``lake``; return (wall seconds, its standard output)."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "LAKE_PATH": lake}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kedro", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"kedro {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall, done.stdout


def stage_of_nodes() -> dict[str, str]:
    """Node name -> the pipeline (stage) it belongs to."""
    from medallion_kedro.pipelines.bronze.pipeline import create_pipeline as bronze
    from medallion_kedro.pipelines.gold.pipeline import create_pipeline as gold
    from medallion_kedro.pipelines.silver.pipeline import create_pipeline as silver

    with warnings.catch_warnings():  # the lake's dotted dataset names, on purpose
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        stages = {"bronze": bronze(), "silver": silver(), "gold": gold()}
    return {n.name: stage for stage, pipe in stages.items() for n in pipe.nodes}


def split(lake: str, started: float, wall: float) -> None:
    """Print where the run started at ``started`` spent its ``wall`` seconds: before the
    pipeline (process start-up, the nothing-new check, the Kedro session), each stage's
    nodes (reads and writes included), the lake's commits and hooks between them, and what
    follows the run record (the last hooks, session close, interpreter exit); then each
    gold node."""
    since = pl.lit(int(started * 1e6))
    run = (
        pl.read_parquet(Path(lake) / "quality" / "runs" / "*.parquet")
        .filter(pl.col("status") == "succeeded", pl.col("started_at").dt.epoch("us") >= since)
        .row(0, named=True)
    )
    nodes = (
        pl.read_parquet(Path(lake) / "quality" / "node_runs" / "*.parquet")
        .filter(pl.col("run_id") == run["run_id"])
        .with_columns(stage=pl.col("node").replace_strict(stage_of_nodes(), default="?"))
    )
    before = run["started_at"].timestamp() - started
    in_nodes = float(nodes["seconds"].sum())
    seconds = dict(nodes.group_by("stage").agg(pl.col("seconds").sum()).iter_rows())
    print(f"  {'start-up, nothing-new check':<26} {before:7.2f} s")
    for stage in ("bronze", "silver", "gold"):
        print(f"  {stage + ' nodes':<26} {seconds.get(stage, 0.0):7.2f} s")
    print(f"  {'commits, hooks':<26} {run['seconds'] - in_nodes:7.2f} s")
    print(f"  {'exit':<26} {wall - before - run['seconds']:7.2f} s")
    gold = nodes.filter(pl.col("stage") == "gold").sort("seconds", descending=True)
    for node, took in gold.select("node", "seconds").iter_rows():
        print(f"    gold {node:<21} {took:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 10")
    parser.add_argument("--lake", default=None, help="default: a temporary folder")
    args = parser.parse_args()
    customers = args.customers or max(args.orders // 10, 1)
    lake = args.lake or tempfile.mkdtemp(prefix="medallion-incremental-")
    print(f"orders={args.orders:,} customers={customers:,} lake={lake} cpus={os.cpu_count()}")

    params = f"n_orders={args.orders},n_customers={customers},batches={BATCHES}"
    wall, _ = kedro(["run", "--pipelines", "generate", "--params", params], lake)
    print(f"{'generate':<28} {wall:7.2f} s")
    held = Path(lake) / "held-back"
    held.mkdir()
    for table in ("customers", "orders"):
        last = sorted((Path(lake) / "landing" / table).glob("*.csv"))[-1]
        shutil.move(last, held / f"{table}__{last.name}")

    command = ["run", "--pipelines", "bronze,silver,gold"]
    full, _ = kedro(command, lake)
    print(f"{'full rebuild (99 batches)':<28} {full:7.2f} s")
    for file in held.iterdir():
        table, name = file.name.split("__", 1)
        shutil.move(file, Path(lake) / "landing" / table / name)
    started = time.time()
    batch, _ = kedro(command, lake)
    print(f"{'1% batch':<28} {batch:7.2f} s  ({batch / full:.0%} of the full rebuild)")
    split(lake, started, batch)
    noop, out = kedro(command, lake)
    said = next((line for line in out.splitlines() if line.startswith("Nothing new")), "?")
    print(f"{'no-op run':<28} {noop:7.2f} s  ({said[:40]}...)")


if __name__ == "__main__":
    main()
