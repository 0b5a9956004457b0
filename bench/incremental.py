"""Benchmark: a full rebuild, a 1% batch and a run with nothing new, on one lake.

Generates ``--orders`` orders and ``--customers`` customers as 100 export files per table
(``--params batches=100``: late orders, corrections of earlier rows placed as
``--corrections`` says: ``realistic``, mostly recent, or ``worst``, spread over the whole
history), holds the last file of each table back, and times, each in a
``kedro run --pipelines bronze,silver,gold`` process of its own (Kedro start-up included):

1. the full rebuild: the 99 first batches into an empty lake;
2. the 1% batch: the held-back files dropped into landing, bronze -> silver -> gold;
3. the no-op: the same command again, with nothing new.

For the 1% batch it prints the rows the run wrote to each silver, quality and gold table,
silver and gold's, quality's and in all, read from the Delta log (the ``numRecords`` of
the ``add`` actions of the Delta versions the run committed), and their ratio to the
batch's rows; where its time went: each stage's nodes (their seconds, reads and writes
included, from the run's ``quality/node_runs``), the rest of the process (Kedro's
start-up, lake commits, hooks, exit), and every gold node. The run's fixed cost is
printed twice: the batch's wall time minus its nodes' seconds, and the wall time of the
no-op run.

    python bench/incremental.py --orders 10000000 [--customers 1000000] [--corrections worst]
"""

from __future__ import annotations

import argparse
import json
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
#: The layers whose Delta tables the 1% batch's rows written are counted in.
WRITTEN_LAYERS = ("silver", "quality", "gold")


def kedro(args: list[str], lake: str | Path) -> tuple[float, str]:
    """Run ``kedro <args>`` on ``lake``; return (wall seconds, its standard output)."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "LAKE_PATH": str(lake)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kedro", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"kedro {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall, done.stdout


def generate(lake: str | Path, orders: int, customers: int, corrections: str) -> float:
    """Generate the shop as :data:`BATCHES` export files per table; return the seconds."""
    params = (
        f"n_orders={orders},n_customers={customers},batches={BATCHES},"
        f"corrections.mode={corrections}"
    )
    wall, _ = kedro(["run", "--pipelines", "generate", "--params", params], lake)
    return wall


def hold_back_last_files(lake: str | Path, held: Path) -> None:
    """Move the last export file of each table out of landing into ``held`` (the 1% batch)."""
    held.mkdir()
    for table in ("customers", "orders"):
        last = sorted((Path(lake) / "landing" / table).glob("*.csv"))[-1]
        shutil.move(last, held / f"{table}__{last.name}")


def land_held_back(held: Path, lake: str | Path) -> None:
    """Drop the held-back files into landing: the 1% batch arrives."""
    for file in held.iterdir():
        table, name = file.name.split("__", 1)
        shutil.move(file, Path(lake) / "landing" / table / name)


def stage_of_nodes() -> dict[str, str]:
    """Node name -> the pipeline (stage) it belongs to."""
    from medallion_kedro.pipelines.bronze.pipeline import create_pipeline as bronze
    from medallion_kedro.pipelines.gold.pipeline import create_pipeline as gold
    from medallion_kedro.pipelines.silver.pipeline import create_pipeline as silver

    with warnings.catch_warnings():  # the lake's dotted dataset names, on purpose
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        stages = {"bronze": bronze(), "silver": silver(), "gold": gold()}
    return {n.name: stage for stage, pipe in stages.items() for n in pipe.nodes}


def delta_versions(lake: str) -> dict[str, int]:
    """``<layer>.<table>`` -> the latest Delta version in its ``_delta_log``, for every
    table of :data:`WRITTEN_LAYERS` in ``lake`` (a local folder)."""
    versions = {}
    for layer in WRITTEN_LAYERS:
        for log in sorted((Path(lake) / layer).glob("*/_delta_log")):
            commits = [int(f.stem) for f in log.glob("*.json") if f.stem.isdigit()]
            if commits:
                versions[f"{layer}.{log.parent.name}"] = max(commits)
    return versions


def rows_written(lake: str, before: dict[str, int]) -> dict[str, int]:
    """``<layer>.<table>`` -> the rows the Delta versions committed since ``before`` (a
    :func:`delta_versions` taken before the run) added: the sum of ``numRecords`` of their
    ``add`` actions, read from the ``_delta_log/<version>.json`` commit files."""
    written = {}
    for table, latest in delta_versions(lake).items():
        layer, name = table.split(".", 1)
        log = Path(lake) / layer / name / "_delta_log"
        rows = 0
        for version in range(before.get(table, -1) + 1, latest + 1):
            for line in (log / f"{version:020d}.json").read_text().splitlines():
                add = json.loads(line).get("add") if line.strip() else None
                if add and add.get("stats"):
                    rows += int(json.loads(add["stats"]).get("numRecords", 0))
        written[table] = rows
    return written


def batch_rows(files: list[Path]) -> int:
    """Data rows of the export files ``files`` (the held-back batch)."""
    return sum(pl.scan_csv(f, infer_schema=False).select(pl.len()).collect().item() for f in files)


def print_rows_written(written: dict[str, int], batch: int) -> None:
    """Each table's rows written, silver and gold's, quality's and the total, with their
    ratio to the batch's rows."""
    print(f"rows written by the 1% batch (Delta log), batch of {batch:,} rows:")

    def line(name: str, rows: int) -> None:
        print(f"  {name:<26} {rows:>12,}  ({rows / max(batch, 1):6.1f}x)")

    for table, rows in sorted(written.items()):
        if rows:
            line(table, rows)
    layers = {
        layer: sum(n for t, n in written.items() if t.startswith(f"{layer}."))
        for layer in WRITTEN_LAYERS
    }
    line("silver + gold", layers["silver"] + layers["gold"])  # the measure of issue 22
    line("quality", layers["quality"])
    line("silver + quality + gold", sum(layers.values()))


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
    print(f"  {'fixed cost (wall - nodes)':<26} {wall - in_nodes:7.2f} s")
    gold = nodes.filter(pl.col("stage") == "gold").sort("seconds", descending=True)
    for node, took in gold.select("node", "seconds").iter_rows():
        print(f"    gold {node:<21} {took:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 10")
    parser.add_argument(
        "--corrections",
        choices=("realistic", "worst"),
        default="realistic",
        help="where later batches' corrections land: mostly recent rows (realistic) or "
        "anywhere in the history (worst)",
    )
    parser.add_argument("--lake", default=None, help="default: a temporary folder")
    args = parser.parse_args()
    customers = args.customers or max(args.orders // 10, 1)
    lake = args.lake or tempfile.mkdtemp(prefix="medallion-incremental-")
    print(
        f"orders={args.orders:,} customers={customers:,} corrections={args.corrections} "
        f"lake={lake} cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}"
    )

    wall = generate(lake, args.orders, customers, args.corrections)
    print(f"{'generate':<28} {wall:7.2f} s")
    held = Path(lake) / "held-back"
    hold_back_last_files(lake, held)

    command = ["run", "--pipelines", "bronze,silver,gold"]
    full, _ = kedro(command, lake)
    print(f"{'full rebuild (99 batches)':<28} {full:7.2f} s")
    held_rows = batch_rows(sorted(held.iterdir()))
    land_held_back(held, lake)
    versions = delta_versions(lake)
    started = time.time()
    batch, _ = kedro(command, lake)
    print(f"{'1% batch':<28} {batch:7.2f} s  ({batch / full:.0%} of the full rebuild)")
    split(lake, started, batch)
    print_rows_written(rows_written(lake, versions), held_rows)
    noop, out = kedro(command, lake)
    said = next((line for line in out.splitlines() if line.startswith("Nothing new")), "?")
    print(f"{'no-op run (fixed cost)':<28} {noop:7.2f} s  ({said[:40]}...)")


if __name__ == "__main__":
    main()
