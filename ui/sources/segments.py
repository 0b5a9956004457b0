"""The segment breakdown, computed from ``gold.customer_metrics`` (gold has no table of it)."""

from __future__ import annotations

import polars as pl

from ui.sources.base import SEGMENT_COLUMNS


def summarise_segments(customers: pl.DataFrame) -> pl.DataFrame:
    """One row per segment: customers, total spent, and spend per order (2 decimals)."""
    total = pl.col("total_spent").sum()
    orders = pl.col("order_count").sum()
    return (
        customers.group_by("segment")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            total.round(2).alias("total_spent"),
            pl.when(orders > 0).then((total / orders).round(2)).alias("avg_basket"),
        )
        .select(SEGMENT_COLUMNS)
        .sort(["total_spent", "segment"], descending=[True, False])
    )
