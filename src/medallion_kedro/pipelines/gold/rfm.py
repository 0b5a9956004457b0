"""RFM scoring and segments.

Only customers with at least one order are scored, each from 1 to 5 on:

* **Recency** (R), in fixed bands of ``active_window_days`` (``w``, 90 by default) so the
  score means the same on sparse data (one or two orders per customer) and on dense data
  (a hundred): R = 5 when the last order is at most ``w / 3`` days before ``as_of``
  (``3 * recency <= w``), 4 at most ``w`` days (an *active* customer), 3 at most ``2 w``,
  2 at most ``4 w``, else 1.
* **Frequency** (F, order count) and **monetary value** (M, total spent), by quintile
  among scored customers::

      score = floor((rank - 1) * 5 / n) + 1

  where ``rank`` is the 1-based "min" rank (ties share the lowest rank) and ``n`` the
  number of scored customers. On sparse data most customers tie at one order, so they all
  get F = 1 and a second order is what lifts a customer up.

``rfm_score`` is the three digits R, F, M (e.g. ``"545"``). The segment follows from R and
F, first match wins:

==================  ===========================
Champions           R >= 4 and F >= 4
Loyal               R >= 3 and F >= 3
New                 R >= 4 and F <= 2
At Risk             R <= 2 and F >= 3
Hibernating         R <= 2 and F <= 2
Needs Attention     R == 3 and F <= 2
Inactive            no order at all (no score)
==================  ===========================

An active customer (last order at most ``active_window_days`` before ``as_of``) has
R >= 4, so it is never "At Risk" or "Hibernating"; those need no order for over
``2 * active_window_days``.
"""

from __future__ import annotations

import polars as pl

SEGMENTS = ("Champions", "Loyal", "New", "At Risk", "Hibernating", "Needs Attention", "Inactive")


def is_active(recency_days: pl.Expr, window: int) -> pl.Expr:
    """True when the last order is at most ``window`` days before ``as_of``."""
    return recency_days <= window


def recency_score(recency_days: pl.Expr, window: int) -> pl.Expr:
    """R from 1 to 5 in bands of ``window`` days (null stays null)."""
    return (
        pl.when(recency_days.is_null())
        .then(None)
        .when(recency_days * 3 <= window)
        .then(5)
        .when(is_active(recency_days, window))
        .then(4)
        .when(recency_days <= 2 * window)
        .then(3)
        .when(recency_days <= 4 * window)
        .then(2)
        .otherwise(1)
        .cast(pl.Int8)
    )


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


def score(customers: pl.DataFrame, window: int) -> pl.DataFrame:
    """Add ``rfm_score`` and ``segment`` from recency_days, order_count and total_spent."""
    ordered = pl.col("order_count") > 0
    scores = customers.with_columns(
        _r=recency_score(pl.when(ordered).then(pl.col("recency_days")), window),
        _f=quintile(pl.when(ordered).then(pl.col("order_count"))),
        _m=quintile(pl.when(ordered).then(pl.col("total_spent"))),
    )
    return scores.with_columns(
        rfm_score=pl.when(ordered).then(pl.concat_str(pl.col("_r"), pl.col("_f"), pl.col("_m"))),
        segment=segment(pl.col("_r"), pl.col("_f")),
    ).drop("_r", "_f", "_m")
