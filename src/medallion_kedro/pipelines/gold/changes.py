"""Gold maintained from silver's changes: the arithmetic that turns a gold table built from
an older silver and the rows silver changed since into the table a full recompute builds.

Sums and counts are additive: the new rows are added and the previous values of changed
or deleted rows subtracted, exactly (decimal money). A minimum or maximum is not (the
first order of a customer whose first order was corrected cannot be found by
subtraction), so per-customer metrics are recomputed from silver for the customers the
changes touch. Everything here is polars on small frames: the changes, gold's previous
tables and their sums.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from medallion_kedro.lake import KeyedChanges

if TYPE_CHECKING:
    from medallion_kedro.datasets.table_changes import TableChanges

#: The exact type of a running money sum (the contract's MONEY once finished).
_SUM = pl.Decimal(38, 2)


def known(*changes: TableChanges) -> bool:
    """Whether every table's changes are known (else gold is recomputed from silver)."""
    return all(c.full is None for c in changes)


def _signed(rows: pl.DataFrame, key: pl.Expr, sign: int) -> pl.DataFrame | None:
    """Each order of ``rows`` as ``sign`` times its amount and one order, under ``key``."""
    if not rows.height:
        return None
    amount = pl.col("amount").cast(_SUM)
    return rows.select(
        key.alias("key"),
        total_revenue=amount if sign > 0 else -amount,
        total_orders=pl.lit(sign, pl.Int64),
    )


def updated_sums(
    previous: pl.DataFrame, changes: TableChanges, name: str, key: pl.Expr
) -> pl.DataFrame:
    """``total_revenue`` and ``total_orders`` per ``name`` (the gold table ``previous``'s
    key) after the order ``changes``: the previous sums, plus the new rows, minus the
    previous values of changed and deleted rows (``key`` computes an order's group). A
    group left without orders is dropped, as a recompute would not have it."""
    base = (
        previous.select(
            pl.col(name).alias("key"),
            pl.col("total_revenue").cast(_SUM),
            pl.col("total_orders").cast(pl.Int64),
        )
        if previous.width
        else None
    )
    parts = [base, _signed(changes.current, key, 1), _signed(changes.previous, key, -1)]
    frames = [p for p in parts if p is not None]
    if not frames:
        return pl.DataFrame(
            schema={name: pl.String, "total_revenue": _SUM, "total_orders": pl.Int64}
        )
    return (
        pl.concat(frames)
        .group_by("key")
        .agg(pl.col("total_revenue").sum(), pl.col("total_orders").sum())
        .filter(pl.col("total_orders") != 0)
        .rename({"key": name})
    )


def touched_customers(orders: TableChanges, customers: TableChanges) -> list[Any]:
    """The customers whose metrics the changes may move: of every changed order (old and
    new values) and every changed customer."""
    frames = [orders.previous, orders.current, customers.previous, customers.current]
    ids = [f.get_column("customer_id") for f in frames if f.height]
    if not ids:
        return []
    return pl.concat(ids).unique().sort().to_list()


def changed_rows(previous: pl.DataFrame, table: pl.DataFrame, keys: list[str]) -> KeyedChanges:
    """``table`` as the changes from ``previous``: its rows that differ (new or changed)
    and, besides their keys, the keys of ``previous`` it no longer has (deleted)."""
    if not previous.width:
        return KeyedChanges(rows=table, keys=table.select(keys))
    columns = table.columns
    rows = table.join(previous.select(columns), on=columns, how="anti", nulls_equal=True)
    gone = previous.select(keys).join(table.select(keys), on=keys, how="anti")
    return KeyedChanges(rows=rows, keys=pl.concat([rows.select(keys), gone]))
