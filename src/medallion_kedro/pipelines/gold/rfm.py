"""RFM scoring and segments.

Only customers with at least one order are scored. Each of recency (days since the last
order, fewer is better), frequency (order count) and monetary value (total spent) gets a
score from 1 to 5 by quintile among scored customers::

    score = floor((rank - 1) * 5 / n) + 1

where ``rank`` is the 1-based "min" rank (ties share the lowest rank) in the direction where
better is higher, and ``n`` is the number of scored customers. ``rfm_score`` is the three
digits R, F, M (e.g. ``"545"``). The segment follows from R and F, first match wins:

==================  ===========================
Champions           R >= 4 and F >= 4
Loyal               R >= 3 and F >= 3
New                 R >= 4 and F <= 2
At Risk             R <= 2 and F >= 3
Hibernating         R <= 2 and F <= 2
Needs Attention     R == 3 and F <= 2
Inactive            no order at all (no score)
==================  ===========================
"""

from __future__ import annotations

import polars as pl

SEGMENTS = ("Champions", "Loyal", "New", "At Risk", "Hibernating", "Needs Attention", "Inactive")


def quintile(value: pl.Expr, *, higher_is_better: bool = True) -> pl.Expr:
    """Score 1..5 of ``value`` among non-null rows (nulls stay null)."""
    ranked = (value if higher_is_better else -value).rank(method="min")
    n = value.count()
    return (((ranked - 1) * 5) // n + 1).cast(pl.Int8)


def segment(r: pl.Expr, f: pl.Expr) -> pl.Expr:
    return (
        pl.when(r.is_null())
        .then(pl.lit("Inactive"))
        .when((r >= 4) & (f >= 4))
        .then(pl.lit("Champions"))
        .when((r >= 3) & (f >= 3))
        .then(pl.lit("Loyal"))
        .when(r >= 4)
        .then(pl.lit("New"))
        .when((r <= 2) & (f >= 3))
        .then(pl.lit("At Risk"))
        .when(r <= 2)
        .then(pl.lit("Hibernating"))
        .otherwise(pl.lit("Needs Attention"))
    )


def score(customers: pl.DataFrame) -> pl.DataFrame:
    """Add ``rfm_score`` and ``segment`` from recency_days, order_count and total_spent."""
    ordered = pl.col("order_count") > 0
    recency = pl.when(ordered).then(pl.col("recency_days"))
    scores = customers.with_columns(
        _r=quintile(recency, higher_is_better=False),
        _f=quintile(pl.when(ordered).then(pl.col("order_count"))),
        _m=quintile(pl.when(ordered).then(pl.col("total_spent"))),
    )
    return scores.with_columns(
        rfm_score=pl.when(ordered).then(pl.concat_str(pl.col("_r"), pl.col("_f"), pl.col("_m"))),
        segment=segment(pl.col("_r"), pl.col("_f")),
    ).drop("_r", "_f", "_m")
