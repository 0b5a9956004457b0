"""Frames of any engine, through narwhals: the catalog gives polars frames by default and
PySpark DataFrames in the ``spark`` environment; the nodes written once take either.

Small results (counts, ledgers, per-batch reports) are brought to the driver as polars
frames (through Arrow on Spark).

The few steps narwhals cannot express identically on every engine are frame-level
primitives here, each with one implementation per engine chosen from the frame's
implementation (polars, else Spark): typed parsing (:func:`with_parsed`), lookups
(:func:`lookup`), membership (:func:`is_in`), the first failed check (:func:`first_failure`),
quarantine excerpts (:func:`excerpts`), the row key that finds a row again
(:func:`row_key`) and the physical row order (:func:`in_order`). On polars they are the
expressions silver has always used (non-strict casts, ``strptime``, ``len_bytes``,
``Enum`` lookups, row numbers), so the default pipeline keeps its plans; on Spark they are
``try_cast``, ``try_make_timestamp_ntz``, ``octet_length``, broadcast joins and the lineage
columns, with the same results.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw
import polars as pl
from narwhals.typing import IntoFrame

#: The physical row number of a polars frame (bronze rows come in ingestion order).
ROW_NUMBER = "_row_number"
#: The columns that give bronze rows their ingestion order and identify a row.
LINEAGE = ("_ingested_at", "_source_file", "_source_row")

MONEY = pl.Decimal(18, 2)
#: C0 control characters but tab, and DEL (removed from free text).
CONTROL = r"[\x00-\x08\x0a-\x1f\x7f]"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
#: Digits, then optionally a point and decimals whose third and later digits are zeros.
AMOUNT = r"^[0-9]{1,16}(\.[0-9]{0,2}0*)?$"
#: Java's forms of the patterns above: ``\z`` (Java's ``$`` also matches before a final
#: line break) and Unicode white space (Rust's ``\s``; Java's is ASCII only).
_JAVA_EMAIL = r"\A[^@\p{IsWhite_Space}]+@[^@\p{IsWhite_Space}]+\.[^@\p{IsWhite_Space}]+\z"
_JAVA_AMOUNT = r"\A[0-9]{1,16}(\.[0-9]{0,2}0*)?\z"
#: What polars' non-strict ``Int64`` cast accepts; Spark's cast also trims white space.
_JAVA_INT = r"\A[+-]?[0-9]+\z"

Kind = Literal["column", "int", "amount", "date", "timestamp", "text", "email", "title", "too_long"]


@dataclass(frozen=True)
class Parse:
    """How one typed column comes from a raw text ``column`` (see :mod:`.silver.rules`)."""

    kind: Kind
    column: str
    arg: str | int | None = None


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
    """A frame read more than once: computed now on polars (streaming engine); on Spark it
    stays a plan (each use recomputes it on the executors)."""
    if is_polars(frame):
        return _wrap(frame.to_native().collect(engine="streaming"))
    return frame


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


# Parsing ---------------------------------------------------------------------------------


def _pl_trimmed(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars(" \t")


def _pl_text(column: str) -> pl.Expr:
    value = pl.col(column).str.replace_all(CONTROL, "").str.strip_chars(" \t")
    return pl.when(value.str.len_bytes() > 0).then(value)


def _polars(spec: Parse) -> pl.Expr:  # noqa: PLR0911
    column = spec.column
    if spec.kind == "column":
        return pl.col(column)
    if spec.kind == "int":
        return _pl_trimmed(column).cast(pl.Int64, strict=False)
    if spec.kind == "amount":
        value = _pl_trimmed(column)
        return pl.when(value.str.contains(AMOUNT)).then(value.cast(MONEY, strict=False))
    if spec.kind == "date":
        return _pl_trimmed(column).str.strptime(pl.Date, str(spec.arg), strict=False)
    if spec.kind == "timestamp":
        # cache=False: timestamps are mostly distinct, so a parse cache only costs time
        return _pl_trimmed(column).str.strptime(
            pl.Datetime("us"), str(spec.arg), strict=False, cache=False
        )
    if spec.kind == "text":
        return _pl_text(column)
    if spec.kind == "email":
        value = _pl_text(column).str.to_lowercase()
        return pl.when(value.str.contains(EMAIL)).then(value).otherwise(None)
    if spec.kind == "title":
        return _pl_text(column).str.to_titlecase()
    return pl.col(column).str.len_bytes() > int(spec.arg or 0)


#: chrono directives silver's formats may use, as (regular expression, field).
_FIELDS = {
    "%Y": (r"\+?([0-9]{1,4})", "year"),
    "%m": (r" *([0-9]{1,2})", "month"),
    "%d": (r" *([0-9]{1,2})", "day"),
    "%H": (r" *([0-9]{1,2})", "hour"),
    "%M": (r" *([0-9]{1,2})", "minute"),
    "%S": (r" *([0-9]{1,2})", "second"),
}


def _java_datetime(fmt: str) -> tuple[str, list[str]]:
    """A Java pattern accepting what polars' ``strptime(fmt, strict=False)`` accepts, and
    the field of each of its groups."""
    pattern, fields = [r"\A"], []
    for token in re.findall(r"%.|\s+|.", fmt, flags=re.DOTALL):
        if token in _FIELDS:
            regex, field = _FIELDS[token]
            pattern.append(regex)
            fields.append(field)
        elif token.startswith("%"):
            raise ValueError(
                f"the date format {fmt!r} uses {token}, which silver does not parse on Spark "
                "(only %Y %m %d %H %M %S): change silver.date_format / timestamp_format"
            )
        elif token.isspace():
            pattern.append(r"\s*")
        else:
            pattern.append(re.escape(token))
    return "".join(pattern) + r"\z", fields


def _spark(spec: Parse) -> Any:  # noqa: PLR0911
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    column, raw = spec.column, F.col(spec.column)
    trimmed = F.btrim(raw, F.lit(" \t"))
    if spec.kind == "column":
        return raw
    if spec.kind == "int":
        return F.when(trimmed.rlike(_JAVA_INT), trimmed.try_cast("bigint"))
    if spec.kind == "amount":
        return F.when(trimmed.rlike(_JAVA_AMOUNT), trimmed.try_cast("decimal(18,2)"))
    if spec.kind in ("date", "timestamp"):
        pattern, fields = _java_datetime(str(spec.arg))
        part = {
            f: F.regexp_extract(trimmed, pattern, i + 1).cast("int") for i, f in enumerate(fields)
        }
        zero = F.lit(0)
        stamp = F.try_make_timestamp_ntz(
            part["year"], part["month"], part["day"],
            part.get("hour", zero), part.get("minute", zero), part.get("second", zero),
        )  # fmt: skip
        typed = stamp.cast("date") if spec.kind == "date" else stamp
        return F.when(trimmed.rlike(pattern), typed)
    if spec.kind == "too_long":
        return F.octet_length(raw) > int(spec.arg or 0)
    value = F.btrim(F.regexp_replace(raw, CONTROL, ""), F.lit(" \t"))
    text = F.when(F.octet_length(value) > 0, value)
    if spec.kind == "text":
        return text
    if spec.kind == "email":
        lower = F.lower(text)
        return F.when(lower.rlike(_JAVA_EMAIL), lower)
    raise ValueError(f"{spec.kind} of {column} has no Spark form: use frames.lookup")


def with_parsed(frame: nw.LazyFrame[Any], columns: Mapping[str, Parse]) -> nw.LazyFrame[Any]:
    """``frame`` with each typed column of ``columns`` added (null where the text is not
    valid), by the engine's own parsers."""
    if is_polars(frame):
        polars = {name: _polars(spec) for name, spec in columns.items()}
        return _wrap(frame.to_native().with_columns(**polars))
    spark = {name: _spark(spec) for name, spec in columns.items()}
    return _wrap(frame.to_native().withColumns(spark))


def parse_values(values: pl.Series, spec: Parse) -> pl.Series:
    """``spec`` applied (by polars, on the driver) to a few distinct ``values``."""
    return values.to_frame(spec.column).select(_polars(spec)).to_series()


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
