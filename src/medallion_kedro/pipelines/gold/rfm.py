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

The quintiles are computed without ranking every customer in one place (a global rank
sends every row through one partition on Spark): a histogram of the scored values (one
row per distinct value, aggregated where the data lives) gives the four boundaries
``t_k``, the value of rank ``ceil((k - 1) * n / 5)``, and a customer scores 1 plus the
number of boundaries below its value. This is the rank formula above, ties included:
``floor((rank - 1) * 5 / n) >= k - 1`` exactly when at least ``ceil((k - 1) * n / 5)``
values are below it.

The expression helpers take polars or narwhals expressions alike (they use only what
both have), so the rules are written once.

An active customer (last order at most ``active_window_days`` before ``as_of``) has
R >= 4, so it is never "At Risk" or "Hibernating"; those need no order for over
``2 * active_window_days``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import narwhals as nw
import polars as pl

SEGMENTS = ("Champions", "Loyal", "New", "At Risk", "Hibernating", "Needs Attention", "Inactive")
#: The number of score bands of F and M.
BANDS = 5


def _ns(expr: Any) -> ModuleType:
    """The expression library of ``expr`` (polars or narwhals): both spell these the same."""
    return pl if isinstance(expr, pl.Expr) else nw


def is_active(recency_days: Any, window: int) -> Any:
    """True when the last order is at most ``window`` days before ``as_of``."""
    return recency_days <= window


def recency_score(recency_days: Any, window: int) -> Any:
    """R from 1 to 5 in bands of ``window`` days (null stays null)."""
    x = _ns(recency_days)
    return (
        x.when(recency_days.is_null())
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
        .cast(x.Int8)
    )


def quintile(value: Any, *, higher_is_better: bool = True) -> Any:
    """Score 1..5 of ``value`` among non-null rows (nulls stay null), by global rank.

    The definition the distributed :func:`bands` reproduces; a window over every row.
    """
    ranked = (value if higher_is_better else -value).rank(method="min")
    n = value.count()
    return (((ranked - 1) * BANDS) // n + 1).cast(_ns(value).Int8)


def boundaries(histogram: pl.DataFrame, column: str) -> list[Any]:
    """The values ``t_2 .. t_5`` of ranks ``ceil((k - 1) * n / 5)`` from a histogram
    (``column``, ``count``) of the non-null values; none when there is no value."""
    ordered = histogram.sort(column)
    cumulative = ordered.get_column("count").cum_sum()
    n = int(cumulative[-1]) if len(cumulative) else 0
    if n == 0:
        return []
    ranks = pl.Series([-(-(k - 1) * n // BANDS) for k in range(2, BANDS + 1)])
    positions = cumulative.search_sorted(ranks, side="left")
    return ordered.get_column(column).gather(positions).to_list()


def bands(value: Any, bounds: list[Any]) -> Any:
    """1 plus the number of ``bounds`` strictly below ``value``: the quintile score."""
    x = _ns(value)
    above = [(value > bound).cast(x.Int8) for bound in bounds]
    return (x.sum_horizontal(x.lit(1, x.Int8), *above)).cast(x.Int8)


def segment(r: Any, f: Any) -> Any:
    x = _ns(r)
    return (
        x.when(r.is_null())
        .then(x.lit("Inactive"))
        .when((r >= 4) & (f >= 4))
        .then(x.lit("Champions"))
        .when((r >= 3) & (f >= 3))
        .then(x.lit("Loyal"))
        .when(r >= 4)
        .then(x.lit("New"))
        .when((r <= 2) & (f >= 3))
        .then(x.lit("At Risk"))
        .when(r <= 2)
        .then(x.lit("Hibernating"))
        .otherwise(x.lit("Needs Attention"))
    )


def _histogram(customers: nw.LazyFrame[Any], column: str) -> pl.DataFrame:
    """Scored customers per distinct value of ``column``: a small aggregate."""
    scored = customers.filter(nw.col("order_count") > 0)
    counts = scored.group_by(column).agg(count=nw.len())
    return counts.collect(backend="polars").to_native()


def score(customers: nw.LazyFrame[Any], window: int) -> nw.LazyFrame[Any]:
    """Add ``rfm_score`` and ``segment`` from recency_days, order_count and total_spent."""
    f_bounds, m_bounds = (
        boundaries(_histogram(customers, c), c) for c in ("order_count", "total_spent")
    )
    ordered = nw.col("order_count") > 0
    scores = customers.with_columns(
        _r=recency_score(nw.when(ordered).then(nw.col("recency_days")), window),
        _f=nw.when(ordered).then(bands(nw.col("order_count"), f_bounds)),
        _m=nw.when(ordered).then(bands(nw.col("total_spent"), m_bounds)),
    )
    digits = (nw.col(c).cast(nw.String) for c in ("_r", "_f", "_m"))
    return scores.with_columns(
        rfm_score=nw.when(ordered).then(nw.concat_str(*digits)),
        segment=segment(nw.col("_r"), nw.col("_f")),
    ).drop("_r", "_f", "_m")
