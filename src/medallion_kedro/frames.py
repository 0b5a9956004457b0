"""Frames of any engine, through narwhals: the catalog gives polars frames by default and
PySpark DataFrames in the ``spark`` environment; the nodes written once take either.

Small results (counts, ledgers, per-batch reports) are brought to the driver as polars
frames (through Arrow on Spark).

The few steps narwhals cannot express identically on every engine are frame-level
primitives here, each with one implementation per engine chosen from the frame's
implementation (polars, else Spark): lookups
(:func:`lookup`), membership (:func:`is_in`), the first failed check (:func:`first_failure`),
quarantine excerpts (:func:`excerpts`), the row key that finds a row again
(:func:`row_key`) and the physical row order (:func:`in_order`). On polars they are the
expressions silver has always used (non-strict casts, ``strptime``, ``len_bytes``,
``Enum`` lookups, row numbers), so the default pipeline keeps its plans; on Spark they are
``try_cast``, ``try_make_timestamp_ntz``, ``octet_length``, broadcast joins and the lineage
columns, with the same results. Typed parsing of raw text has its own module,
:mod:`medallion_kedro.parsing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw
import polars as pl
from narwhals.typing import IntoFrame

from medallion_kedro.schemas import INGESTED_AT, SOURCE_FILE, SOURCE_ROW

#: The physical row number of a polars frame (bronze rows come in ingestion order).
ROW_NUMBER = "_row_number"
#: The columns that give bronze rows their export order (landing file name, row in the
#: file) and identify a row (a file name's earlier batches are no longer live, see
#: ``pipelines/bronze/ledger.py``; the ingestion time tells them apart).
LINEAGE = (SOURCE_FILE, SOURCE_ROW, INGESTED_AT)


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


def is_polars(frame: nw.LazyFrame[Any]) -> bool:
    return frame.implementation.is_polars()


def _wrap(native: Any) -> nw.LazyFrame[Any]:
    return nw.from_native(native).lazy()


def materialize(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """A frame read more than once, computed now: on polars by the streaming engine; on
    Spark checkpointed on the executors (``localCheckpoint``, eager), so each reader scans
    the computed rows. A Spark plan read by several branches of one query (a self-join, a
    semi-join with its own group-by) would otherwise run whole once per branch, and Spark
    runs those branches as separate jobs that do not share their work."""
    if is_polars(frame):
        return _wrap(frame.to_native().collect(engine="streaming"))
    return _wrap(frame.to_native().localCheckpoint(eager=True))


def to_native(frame: nw.LazyFrame[Any], *, streaming: bool = False) -> Any:
    """The result of a node: a polars ``DataFrame`` on polars (``streaming``: computed by
    the streaming engine, so a lazy bronze scan is never held whole), a Spark DataFrame on
    Spark."""
    if is_polars(frame):
        return frame.to_native().collect(engine="streaming" if streaming else "auto")
    return frame.to_native()


# Row identity and order ------------------------------------------------------------------


def row_key(frame: nw.LazyFrame[Any]) -> tuple[nw.LazyFrame[Any], tuple[str, ...]]:
    """``frame`` with the columns that find one of its rows again, and their names.

    polars: the row number (the scan order is stable, and bronze rows come in ingestion
    order); Spark, which has no row order: the lineage columns.
    """
    if is_polars(frame):
        return _wrap(frame.to_native().with_row_index(ROW_NUMBER)), (ROW_NUMBER,)
    missing = [c for c in LINEAGE if c not in frame.collect_schema().names()]
    if missing:
        raise ValueError(
            f"bronze has no {', '.join(missing)} column: its rows cannot be told apart on "
            "Spark. Re-ingest it with this release (`kedro run --pipelines bronze`)."
        )
    return frame, LINEAGE


def rows_of(
    frame: nw.LazyFrame[Any], wanted: nw.LazyFrame[Any], key: Sequence[str]
) -> nw.LazyFrame[Any]:
    """The rows of ``frame`` (keyed by :func:`row_key`) whose ``key`` is in ``wanted``, with
    the other columns of ``wanted``, in the order of ``frame``'s rows.

    polars: an ``is_in`` of the (few) wanted row numbers, then a join that keeps the
    order; Spark: a join, sorted by the key (the lineage columns).
    """
    if is_polars(frame):
        picked = wanted.collect().to_native()
        numbers = picked.get_column(ROW_NUMBER)
        native = frame.to_native()
        if numbers.is_empty():  # no row wanted: bronze is not read at all
            native = native.head(0)
        else:
            native = native.filter(pl.col(ROW_NUMBER).is_in(numbers.implode()))
        joined = native.join(picked.lazy(), on=ROW_NUMBER, how="left", maintain_order="left")
        return _wrap(joined)
    return frame.join(wanted, on=list(key), how="inner").sort(*key)


def in_order(frame: nw.LazyFrame[Any], order: Sequence[str]) -> nw.LazyFrame[Any]:
    """``frame`` in the order of ``order`` where rows have a physical order (polars: kept
    lazy when the scan already gives it, checked on those columns only); on Spark rows
    have no order, the nodes order by columns where it matters."""
    if not is_polars(frame) or not order:
        return frame
    native = frame.to_native()
    later = pl.lit(True)  # each row compared with the one before it, last column first
    for column in reversed(order):
        value, before = pl.col(column), pl.col(column).shift(1)
        later = (value > before) | ((value == before) & later)
    if bool(native.select(order).select(later.fill_null(True).all()).collect().item()):
        return frame
    return _wrap(native.collect().sort(order, maintain_order=True).lazy())


def lookup(
    frame: nw.LazyFrame[Any], column: str, keys: pl.Series, values: pl.Series, name: str
) -> nw.LazyFrame[Any]:
    """``frame`` with ``name``: ``values[i]`` for each row whose ``column`` is ``keys[i]``
    (keys distinct, not null), null for any other value.

    polars: the row's position among the keys (an ``Enum`` cast) is gathered from the
    values; unlike a ``replace_strict`` this streams. Spark: a broadcast join with the
    small table of keys and values.
    """
    if is_polars(frame):
        if keys.is_empty():
            found = pl.lit(None, dtype=values.dtype)
        else:
            position = pl.col(column).cast(pl.Enum(keys), strict=False).to_physical()
            found = pl.lit(values).gather(position)
        return _wrap(frame.to_native().with_columns(found.alias(name)))
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    native = frame.to_native()
    key = f"{name}__key"
    table = pl.DataFrame({key: keys.cast(pl.String), name: values})
    small = native.sparkSession.createDataFrame(table.to_arrow())
    joined = native.join(F.broadcast(small), native[column] == small[key], "left")
    return _wrap(joined.drop(key))


def is_in(frame: nw.LazyFrame[Any], column: str, keys: IntoFrame, name: str) -> nw.LazyFrame[Any]:
    """``frame`` with ``name``: whether ``column`` is one of the values of the one-column
    frame ``keys`` (polars: ``is_in`` of the collected keys; Spark: a left join with the
    distinct keys, so no list of keys enters the plan)."""
    if is_polars(frame):
        values = collect(keys).to_series()
        known = pl.col(column).is_in(values.implode())
        return _wrap(frame.to_native().with_columns(known.alias(name)))
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    native = frame.to_native()
    given = lazy(keys)
    if given.implementation.is_polars():
        given = _wrap(native.sparkSession.createDataFrame(collect(given).to_arrow()))
    key = f"{name}__key"
    other = given.to_native()
    small = other.select(other[other.columns[0]].alias(key)).distinct()
    marked = small.withColumn(name, F.lit(True))
    joined = native.join(marked, native[column] == marked[key], "left").drop(key)
    return _wrap(joined.withColumn(name, F.coalesce(F.col(name), F.lit(False))))


def first_failure(
    frame: nw.LazyFrame[Any], checks: Sequence[tuple[str, str]], name: str, reasons: Sequence[str]
) -> nw.LazyFrame[Any]:
    """``frame`` with ``name``: the reason of the first true boolean column of ``checks``
    (column, reason), or null when none is.

    polars: an ``Enum`` of ``reasons`` (4 bytes a row instead of a string); Spark: text.
    """
    if is_polars(frame):
        dtype = pl.Enum(list(reasons))
        reason: pl.Expr = pl.lit(None, dtype=dtype)
        for failed, why in reversed(checks):
            reason = pl.when(pl.col(failed)).then(pl.lit(why, dtype=dtype)).otherwise(reason)
        return _wrap(frame.to_native().with_columns(reason.alias(name)))
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    spark: Any = F.lit(None).cast("string")
    for failed, why in reversed(checks):
        spark = F.when(F.col(failed), F.lit(why)).otherwise(spark)
    return _wrap(frame.to_native().withColumn(name, spark))


def excerpts(frame: nw.LazyFrame[Any], columns: Sequence[str], chars: int) -> nw.LazyFrame[Any]:
    """Each of ``columns`` longer than ``chars`` bytes cut to its first ``chars``
    characters, followed by `` … [<size> bytes]``."""
    if is_polars(frame):
        cut = {}
        for column in columns:
            value = pl.col(column)
            short = pl.concat_str(
                value.str.slice(0, chars),
                pl.lit(" … ["),
                value.str.len_bytes().cast(pl.String),
                pl.lit(" bytes]"),
            )
            cut[column] = pl.when(value.str.len_bytes() > chars).then(short).otherwise(value)
        return _wrap(frame.to_native().with_columns(**cut))
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    spark = {}
    for column in columns:
        size = F.octet_length(F.col(column))
        head = F.substring(F.col(column), 1, chars)
        marked = F.concat(head, F.lit(" … ["), size.cast("string"), F.lit(" bytes]"))
        spark[column] = F.when(size > chars, marked).otherwise(F.col(column))
    return _wrap(frame.to_native().withColumns(spark))
