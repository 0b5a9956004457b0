"""Benchmark: one 1% batch of keyed changes saved to a silver-shaped Delta table, by layout
and writer.

Builds ``silver.orders`` (``--orders`` rows; order ids follow time, as the generator's do)
and ``silver.customers`` (``--orders / 10`` rows; customer ids drawn at random, as the
generator's are, so they do not follow signup time), then saves one batch to each as
:class:`~medallion_kedro.lake.KeyedChanges`: 1% new rows, and corrections of 1% of the
rows already there, ``realistic`` (90% among the rows of the last 28 days of 730, 10%
anywhere, as the generator's default), ``recent`` (all within the last 28 days) or
``worst`` (anywhere). For each way of writing it prints the seconds of the
save and the rows the Delta version wrote (its ``rows_written``, from its add actions):

- ``whole``: the table after the batch written whole (an overwrite: the simple way);
- ``files``: the files that hold a changed key rewritten, new keys in new files, one
  commit (``keyed_writer: polars``), with the layout docs/design/lake-layout.md proposes
  (orders by ``order_id``, customers by ``signup_date``; customers by ``customer_id`` for
  comparison), and without layout (one file);
- ``merge``: delta-rs' ``DeltaTable.merge`` (``keyed_writer: delta-rs``).

    python bench/delta_keyed.py --orders 1000000 [--corrections worst]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from medallion_kedro.datasets import DeltaTableDataset
from medallion_kedro.lake import KeyedChanges
from medallion_kedro.schemas import SILVER

DAYS = 730
RECENT_DAYS = 28
PRODUCTS = ["laptop", "smartphone", "headphones", "monitor", "mouse", "charger"]


def orders(ids: np.ndarray, n_customers: int, rng: np.random.Generator, n: int) -> pl.DataFrame:
    """``silver.orders`` rows of order ids ``ids`` (of ``n``): times follow the ids."""
    start = int(dt.datetime(2024, 11, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000
    seconds = (ids.astype(np.float64) / max(n, 1) * DAYS * 86_400).astype(np.int64)
    return pl.DataFrame(
        {
            "order_id": ids,
            "customer_id": rng.integers(1, n_customers + 1, ids.size),
            "order_ts": pl.Series(seconds * 1_000_000 + start).cast(pl.Datetime("us")),
            "amount": pl.Series(rng.integers(100, 200_000, ids.size)).cast(pl.Decimal(18, 2)) / 100,
            "product": pl.Series(PRODUCTS).gather(rng.integers(0, len(PRODUCTS), ids.size)),
        }
    ).select(SILVER["orders"].names())


def customers(ids: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """``silver.customers`` rows of customer ids ``ids``, in signup order."""
    days = np.sort(rng.integers(0, DAYS, ids.size))
    return pl.DataFrame(
        {
            "customer_id": ids,
            "name": [f"Name {i}" for i in ids],
            "email": [f"name.{i}@example.com" for i in ids],
            "signup_date": pl.Series(days + (dt.date(2024, 11, 1) - dt.date(1970, 1, 1)).days)
            .cast(pl.Int32)
            .cast(pl.Date),
            "country": pl.Series(["France", "Germany", "Spain"]).gather(ids % 3),
        }
    )


def corrected(existing: int, mode: str, rng: np.random.Generator) -> np.ndarray:
    """Positions (in arrival order) of the 1% of ``existing`` rows a batch corrects."""
    count = existing // 100
    if mode == "worst":
        return rng.choice(existing, count, replace=False)
    recent = existing - existing * RECENT_DAYS // DAYS
    tail = rng.choice(recent, count // 10 if mode == "realistic" else 0, replace=False)
    near = recent + rng.choice(existing - recent, count - tail.size, replace=False)
    return np.concatenate([tail, near])


def measure(
    name: str, folder: str, save_args: dict[str, Any], first: pl.DataFrame,
    changes: KeyedChanges, whole: Callable[[pl.DataFrame], pl.DataFrame] | None,
) -> None:  # fmt: skip
    """Save ``first``, then time the save of ``changes`` (or the read of the table and the
    save of ``whole`` of it)."""
    path = os.path.join(folder, "silver", name)
    shutil.rmtree(path, ignore_errors=True)
    ds = DeltaTableDataset(filepath=path, save_args=save_args)
    ds.save(first)
    started = time.perf_counter()
    ds.save(changes if whole is None else whole(ds.load().collect()))
    took = time.perf_counter() - started
    entry = ds.current_entry() or {}
    files = len(ds.table().file_uris())
    print(f"    {name:<34} {took:6.2f} s  rows written {entry.get('rows_written', 0):>10,}"
          f"  ({files} files)")  # fmt: skip


def applied(changes: KeyedChanges, key: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """The table after ``changes``, computed whole (what an overwrite writes)."""

    def apply(table: pl.DataFrame) -> pl.DataFrame:
        kept = table.join(changes.keys, on=key, how="anti")
        return pl.concat([kept, changes.rows])

    return apply


def bench_table(
    table: str, key: str, layout: dict[str, Any], first: pl.DataFrame, changes: KeyedChanges,
    folder: str,
) -> None:  # fmt: skip
    print(f"  silver.{table}: {first.height:,} rows, batch of {changes.rows.height:,} rows")
    merge = {"mode": "merge", "keys": [key], "compression": "lz4"}
    measure(f"{table}_whole", folder, {"mode": "overwrite", "compression": "lz4"}, first,
            changes, applied(changes, key))  # fmt: skip
    measure(f"{table}_files_one_file", folder, {**merge, "target_file_rows": 10**9}, first,
            changes, None)  # fmt: skip
    measure(f"{table}_files_layout", folder, {**merge, **layout}, first, changes, None)
    measure(f"{table}_merge_layout", folder, {**merge, **layout, "keyed_writer": "delta-rs"},
            first, changes, None)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument(
        "--corrections", choices=("realistic", "recent", "worst"), default="realistic"
    )
    parser.add_argument("--file-rows", type=int, default=100_000, help="orders' target_file_rows")
    parser.add_argument(
        "--customer-file-rows", type=int, default=10_000, help="customers' target_file_rows"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    n, n_customers = args.orders, max(args.orders // 10, 1)
    folder = tempfile.mkdtemp(prefix="medallion-delta-keyed-")
    print(f"orders={n:,} corrections={args.corrections} file_rows={args.file_rows:,} "
          f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}")  # fmt: skip
    try:
        new = n // 100
        ids = np.arange(1, n + new + 1)
        every = orders(ids, n_customers, rng, n)
        fixed = every[np.sort(corrected(n, args.corrections, rng))].with_columns(
            amount=pl.col("amount") * 2
        )
        rows = pl.concat([every.slice(n), fixed])
        layout = {"cluster_by": ["order_id"], "target_file_rows": args.file_rows}
        bench_table("orders", "order_id", layout, every.head(n),
                    KeyedChanges(rows, rows.select("order_id")), folder)  # fmt: skip

        new_c = n_customers // 100
        people = customers(rng.permutation(n_customers + new_c) + 1, rng)
        fixed_c = people[np.sort(corrected(n_customers, args.corrections, rng))].with_columns(
            email=pl.concat_str(pl.lit("fixed."), "email")
        )
        rows_c = pl.concat([people.slice(n_customers), fixed_c])
        # ids do not follow time: by signup date (time), or by id for comparison
        layout_c = {"cluster_by": ["signup_date"], "target_file_rows": args.customer_file_rows}
        bench_table("customers", "customer_id", layout_c, people.head(n_customers),
                    KeyedChanges(rows_c, rows_c.select("customer_id")), folder)  # fmt: skip
        by_key = {"cluster_by": ["customer_id"], "target_file_rows": args.customer_file_rows}
        measure("customers_files_by_key", folder,
                {"mode": "merge", "keys": ["customer_id"], "compression": "lz4", **by_key},
                people.head(n_customers), KeyedChanges(rows_c, rows_c.select("customer_id")),
                None)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
