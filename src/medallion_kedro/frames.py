"""Frames of any engine, through narwhals: the catalog gives polars frames by default and
PySpark DataFrames in the ``spark`` environment; the nodes written once take either.

Small results (counts, ledgers, per-batch reports) are brought to the driver as polars
frames (through Arrow on Spark).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl
from narwhals.typing import IntoFrame


def lazy(frame: IntoFrame) -> nw.LazyFrame[Any]:
    """Any catalog frame (polars eager or lazy, Spark) as a narwhals lazy frame."""
    return nw.from_native(frame).lazy()


def collect(frame: IntoFrame | nw.LazyFrame[Any]) -> pl.DataFrame:
    """A (small) frame brought to the driver as a polars frame."""
    native = frame if isinstance(frame, nw.LazyFrame) else lazy(frame)
    return native.collect(backend="polars").to_native()


def rows(frame: IntoFrame | nw.LazyFrame[Any]) -> int:
    """Row count; a lazy Parquet scan answers from the file footer without reading data."""
    native = frame if isinstance(frame, nw.LazyFrame) else lazy(frame)
    return int(collect(native.select(nw.len())).item())
