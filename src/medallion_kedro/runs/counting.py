"""Counting rows without paying for it.

A ``polars.DataFrame`` knows its height. A ``polars.LazyFrame`` that is a bare Parquet scan
(what a lake table loads as) answers ``select(pl.len())`` from the file footers. Any other
lazy plan would have to be computed to be counted, so it is left uncounted (``None``) rather
than run twice; the hook counts such an output again after it was saved, from its scan.
CSV scans are not counted either (that reads the whole file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

REASON = "reason"


def is_bare_parquet_scan(frame: pl.LazyFrame) -> bool:
    """True when ``frame`` only scans Parquet files (no filter, join or projection on top)."""
    try:
        plan = frame.explain(optimized=False)
    except Exception:  # noqa: BLE001 - an unexplainable plan is simply not counted
        return False
    return plan.lstrip().startswith("Parquet SCAN")


def is_table(data: Any) -> bool:
    """True for data frames (polars, eager or lazy, and pandas-like); False for parameters."""
    if isinstance(data, pl.DataFrame | pl.LazyFrame):
        return True
    return hasattr(data, "shape") and hasattr(data, "columns")


def table_parts(data: Any) -> Mapping[str, Any] | None:
    """The tables of data saved as several tables at once: a ``{name: frame}`` mapping, or an
    object holding one in ``tables`` (the export batch); None for anything else."""
    tables = getattr(data, "tables", data)
    if isinstance(tables, Mapping) and tables and all(is_table(t) for t in tables.values()):
        return tables
    return None


def cheap_rows(data: Any) -> int | None:
    """The number of rows of ``data`` when it costs next to nothing to know, else ``None``."""
    if isinstance(data, pl.DataFrame):
        return data.height
    if isinstance(data, pl.LazyFrame) and is_bare_parquet_scan(data):
        return int(data.select(pl.len()).collect().item())
    if hasattr(data, "shape") and hasattr(data, "columns"):  # pandas and friends
        return int(data.shape[0])
    return None


def rows_by_reason(data: Any, table: str, kind: str) -> list[dict[str, Any]]:
    """``[{table, kind, reason, rows}]`` for a quarantine frame with a ``reason`` column.

    A DataFrame or a bare Parquet scan is grouped (reading only ``reason``); anything else
    gives an empty list.
    """
    if isinstance(data, pl.LazyFrame) and not is_bare_parquet_scan(data):
        return []
    if not isinstance(data, pl.DataFrame | pl.LazyFrame):
        return []
    if REASON not in data.collect_schema().names():
        return []
    counts = (
        data.lazy()
        .group_by(pl.col(REASON).cast(pl.String))
        .agg(pl.len().alias("rows"))
        .sort("rows", descending=True)
        .collect()
    )
    return [
        {"table": table, "kind": kind, "reason": r[REASON], "rows": r["rows"]}
        for r in counts.iter_rows(named=True)
    ]
