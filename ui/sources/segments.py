"""The segment breakdown, computed from ``gold.customer_metrics`` (gold has no table of it).

Same definition as the API's ``segments``: customers counted, ``total_spent`` summed, and
the average basket as total spent over orders, both rounded to 2 decimals after summing.
"""

from __future__ import annotations

import polars as pl

from ui.sources.base import SEGMENT_COLUMNS


def summarise_segments(customers: pl.DataFrame) -> pl.DataFrame:
    """One row per segment, biggest total spent first."""
    sums = customers.group_by("segment").agg(
        pl.len().alias("customers"),
        pl.col("total_spent").sum().alias("spent"),
        pl.col("order_count").sum().alias("orders"),
    )
    rows = [
        (
            row["segment"],
            int(row["customers"]),
            round(float(row["spent"]), 2),
            round(float(row["spent"]) / row["orders"], 2) if row["orders"] else None,
        )
        for row in sums.iter_rows(named=True)
    ]
    schema = dict(zip(SEGMENT_COLUMNS, (pl.String, pl.Int64, pl.Float64, pl.Float64), strict=True))
    return pl.DataFrame(rows, schema=schema, orient="row").sort(
        ["total_spent", "segment"], descending=[True, False]
    )
