"""Benchmark: gold after a 1% batch, maintained from silver's changes vs recomputed whole.

Generates ``--orders`` orders and ``--customers`` customers as 100 export files per table
(late orders, corrections of earlier rows as ``--corrections`` places them), builds the 99
first batches with ``kedro run --pipelines bronze,silver,gold``, lands the last file of
each table and runs ``kedro run --pipelines bronze,silver``. Then, on two copies of that
lake, times ``kedro run --pipelines gold``:

- maintained: ``--params gold_max_change_share=1`` (gold from silver's changes, whatever
  share of silver's files the batch rewrote);
- recomputed: ``--params gold_max_change_share=0`` (gold from every silver row).

For each it prints the wall time, every gold node's seconds (reads and writes included,
from the run's ``quality/node_runs``) and the rows the run wrote to each gold table (the
``numRecords`` of the ``add`` actions of the Delta versions it committed); and, apart,
the seconds ``changes.silver_orders`` and ``changes.silver_customers`` take to load.

    python bench/gold_incremental.py --orders 1000000 [--customers 100000] [--corrections worst]
        [--as-of 2026-11-02]

``--as-of`` runs every step with ``--params as_of=<date>``: recency then does not move with
the batch's latest order, so fewer customer metrics differ.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl
from incremental import (
    delta_versions,
    generate,
    hold_back_last_files,
    kedro,
    land_held_back,
)
from incremental import rows_written as lake_rows_written

VARIANTS = {"maintained": 1, "recomputed": 0}


def _params(values: list[str]) -> list[str]:
    return ["--params", ",".join(values)] if values else []


def gold_versions(lake: Path) -> dict[str, int]:
    """Each gold table's latest Delta version."""
    versions = delta_versions(str(lake))
    return {k.removeprefix("gold."): v for k, v in versions.items() if k.startswith("gold.")}


def rows_written(lake: Path, before: dict[str, int]) -> dict[str, int]:
    """Gold table -> rows added by its Delta versions after ``before`` (from the log)."""
    written = lake_rows_written(str(lake), {f"gold.{t}": v for t, v in before.items()})
    return {k.removeprefix("gold."): v for k, v in written.items() if k.startswith("gold.")}


def gold_nodes(lake: Path, started: float) -> dict[str, float]:
    """Seconds of each node of the run that started after ``started`` (epoch seconds)."""
    runs = pl.read_parquet(lake / "quality" / "runs" / "*.parquet")
    run_id = (
        runs.filter(
            pl.col("status") == "succeeded",
            pl.col("started_at").dt.epoch("us") >= int(started * 1e6),
        )
        .get_column("run_id")
        .item(0)
    )
    nodes = pl.read_parquet(lake / "quality" / "node_runs" / "*.parquet")
    mine = nodes.filter(pl.col("run_id") == run_id).select("node", "seconds")
    return dict(mine.iter_rows())


def rows_that_differ(lake: Path, before: dict[str, int], table: str) -> int:
    """Rows of gold ``table`` new or changed since Delta version ``before[table]`` (what a
    merge of the node's KeyedChanges writes, whatever the table's layout)."""
    uri = str(lake / "gold" / table)
    old = pl.read_delta(uri, version=before[table])
    new = pl.read_delta(uri)
    return new.join(old, on=new.columns, how="anti", nulls_equal=True).height


def changes_load(lake: Path) -> dict[str, float]:
    """Seconds to load silver's changes since the published gold (both tables)."""
    from medallion_kedro.datasets.table_changes import TableChangesDataset

    out = {}
    for table in ("orders", "customers"):
        dataset = TableChangesDataset(
            filepath=str(lake / "silver" / table), since="gold", load_args={"max_share": 1}
        )
        start = time.perf_counter()
        changes = dataset.load()
        took = time.perf_counter() - start
        rows = f"{changes.previous.height:,} previous, {changes.current.height:,} new rows"
        print(f"  changes.silver_{table:<10} {took:6.2f} s  ({changes.full or rows})")
        out[table] = took
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 10")
    parser.add_argument("--corrections", choices=("realistic", "worst"), default="realistic")
    parser.add_argument("--lake", default=None, help="default: a temporary folder")
    parser.add_argument("--as-of", default=None, help="as_of of every run (YYYY-MM-DD)")
    args = parser.parse_args()
    fixed = [f"as_of={args.as_of}"] if args.as_of else []
    customers = args.customers or max(args.orders // 10, 1)
    lake = Path(args.lake or tempfile.mkdtemp(prefix="medallion-gold-"))
    print(
        f"orders={args.orders:,} customers={customers:,} corrections={args.corrections} "
        f"lake={lake} cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}"
    )
    generated = generate(lake, args.orders, customers, args.corrections)
    print(f"{'generate':<24} {generated:7.2f} s")
    held = lake.parent / f"{lake.name}-held-back"
    hold_back_last_files(lake, held)
    full, _ = kedro(["run", "--pipelines", "bronze,silver,gold", *_params(fixed)], lake)
    print(f"{'build (99 batches)':<24} {full:7.2f} s")
    land_held_back(held, lake)
    silver, _ = kedro(["run", "--pipelines", "bronze,silver", *_params(fixed)], lake)
    print(f"{'1% batch: bronze,silver':<24} {silver:7.2f} s")
    changes_load(lake)
    for variant, share in VARIANTS.items():
        copy = lake.parent / f"{lake.name}-{variant}"
        shutil.copytree(lake, copy)
        before = gold_versions(copy)
        started = time.time()
        params = _params([f"gold_max_change_share={share}", *fixed])
        wall, _ = kedro(["run", "--pipelines", "gold", *params], copy)
        nodes = gold_nodes(copy, started)
        written = rows_written(copy, before)
        print(f"gold {variant}: {wall:.2f} s wall, {sum(nodes.values()):.2f} s in nodes")
        for node, took in sorted(nodes.items(), key=lambda item: -item[1]):
            print(f"  {node:<24} {took:6.2f} s")
        for table, rows in sorted(written.items()):
            print(f"  rows written gold.{table:<20} {rows:>10,}")
        differ = rows_that_differ(copy, before, "customer_metrics")
        print(f"  customer_metrics rows that differ     {differ:>10,}")
        shutil.rmtree(copy)


if __name__ == "__main__":
    main()
