"""Benchmark: exact money as ``Decimal(18, 2)`` or as integer cents (``Int64``).

Times what differs between the two on N orders: parsing and validating the text amount
in silver, then gold's sums and half-to-even averages by customer, product and month and
the grand total. Prints the least CPU time (all threads) of ``--repeat`` runs for each.

    python bench/money.py --orders 1000000 [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import polars as pl

from medallion_kedro.pipelines.gold.nodes import money_avg
from medallion_kedro.pipelines.silver.rules import parse_amount

_CENTS_TEXT = r"^([0-9]{1,16})(?:\.([0-9]{0,2})0*)?$"


def parse_cents(column: str) -> pl.Expr:
    """Integer cents from the text, without a float: split on the decimal point."""
    parts = pl.col(column).str.strip_chars(" \t").str.extract_groups(_CENTS_TEXT)
    units = parts.struct.field("1").cast(pl.Int64, strict=False)
    decimals = parts.struct.field("2").fill_null("").str.pad_end(2, "0").cast(pl.Int64)
    return units * 100 + decimals


def cents_avg(total: pl.Expr, count: pl.Expr) -> pl.Expr:
    q = total // count
    twice_r = (total - q * count) * 2
    up = (twice_r > count) | ((twice_r == count) & (q % 2 == 1))
    return pl.when(up).then(q + 1).otherwise(q)


def gold(orders: pl.DataFrame, avg: Callable[[pl.Expr, pl.Expr], pl.Expr]) -> None:
    for key in ("customer_id", "product", "month"):
        orders.group_by(key).agg(t=pl.col("amount").sum(), n=pl.len()).with_columns(
            a=avg(pl.col("t"), pl.col("n"))
        )
    orders.select(pl.col("amount").sum())


def best(repeat: int, work: Callable[[], object]) -> float:
    """Least CPU time (all threads) of ``repeat`` runs: steadier than wall time on a
    shared machine."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    n = args.orders
    cents = rng.integers(100, 200_000, n)
    bronze = pl.DataFrame(
        {
            "amount": [f"{c // 100}.{c % 100:02d}" for c in cents],
            "customer_id": rng.integers(0, n // 10, n),
            "product": rng.integers(0, 20, n),
            "month": rng.integers(0, 24, n),
        }
    )
    kinds = {
        "Decimal(18,2)": (parse_amount("amount"), money_avg),
        "Int64 cents (split)": (parse_cents("amount"), cents_avg),
        "Int64 cents (via decimal)": (
            parse_amount("amount").to_physical().cast(pl.Int64),
            cents_avg,
        ),
    }
    print(f"orders={n:,}")
    for name, (parse, avg) in kinds.items():
        silver = bronze.with_columns(amount=parse)
        assert silver["amount"].null_count() == 0
        t_parse = best(args.repeat, partial(bronze.with_columns, amount=parse))
        t_gold = best(args.repeat, partial(gold, silver, avg))
        print(
            f"{name:<26} silver parse {t_parse * 1000:7.1f} ms CPU   "
            f"gold sums+avgs {t_gold * 1000:7.1f} ms CPU"
        )


if __name__ == "__main__":
    main()
