"""DataFrames to BSON-ready documents and back.

Dates become BSON dates (a datetime at midnight), decimals and floats become doubles (NaN
becomes null; an exact 2-decimal amount below 10**13 becomes the nearest double, which
prints the same cents, as a double holds any 15 significant digits), ints stay ints, nulls
stay nulls, timezone-aware datetimes are stored in UTC. BSON datetimes have millisecond
precision. Binary, time-of-day and duration columns are refused before anything is
written; so are nested (list and struct) columns unless ``nested=True``, which keeps those
whose leaves are strings, integers, floats, booleans or datetimes as arrays and
sub-documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
from kedro.io.core import DatasetError

ID = "_id"
_PASS_THROUGH = (pl.Boolean, pl.String, pl.Null, pl.Int8, pl.Int16, pl.Int32, pl.Int64)
_TO_INT64 = (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
_TO_FLOAT64 = (pl.Float32, pl.Float64, pl.Decimal)
_TO_STRING = (pl.Categorical, pl.Enum)
#: Loaded columns keep their integer and boolean types even when they hold nulls.
_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def as_polars(data: Any) -> pl.DataFrame:
    """``data`` (a polars DataFrame or LazyFrame, or a pandas DataFrame) as a polars DataFrame."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, pd.DataFrame):
        try:
            return pl.from_pandas(data)
        except (TypeError, ValueError, pa.ArrowException, pl.exceptions.PolarsError) as exc:
            raise DatasetError(
                f"Cannot store this pandas DataFrame in MongoDB: {exc}. Columns must hold "
                f"one scalar type each (dtypes: {data.dtypes.astype(str).to_dict()})."
            ) from exc
    raise DatasetError(
        f"MongoDBDataset saves a pandas or polars DataFrame, not {type(data).__name__}."
    )


def _column(name: str, dtype: pl.DataType) -> pl.Expr | None:
    col = pl.col(name)
    if isinstance(dtype, _PASS_THROUGH):
        return col
    if isinstance(dtype, _TO_INT64):
        return col.cast(pl.Int64, strict=True)
    if isinstance(dtype, _TO_FLOAT64):
        return col.cast(pl.Float64).fill_nan(None)
    if isinstance(dtype, _TO_STRING):
        return col.cast(pl.String)
    if isinstance(dtype, pl.Date):
        return col.cast(pl.Datetime("ms"))
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return col.dt.cast_time_unit("ms")
    return None


_NESTED_LEAVES = (*_PASS_THROUGH, pl.Float64, pl.Datetime)


def _nested_ok(dtype: Any) -> bool:
    """A list or struct whose leaves need no conversion (pymongo encodes them as they are)."""
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        return _nested_ok(inner) or isinstance(inner, _NESTED_LEAVES)
    if isinstance(dtype, pl.Struct):
        return all(_nested_ok(f.dtype) or isinstance(f.dtype, _NESTED_LEAVES) for f in dtype.fields)
    return False


def _check_names(columns: list[str]) -> None:
    bad = [c for c in columns if not isinstance(c, str) or not c or c.startswith("$") or "." in c]
    if bad:
        raise DatasetError(
            f"Column names {bad} cannot be MongoDB field names (empty, starting with '$' or "
            "containing '.'): rename them before saving."
        )


def bson_ready(
    df: pl.DataFrame, key: str | None = None, fixed_id: str | None = None, *, nested: bool = False
) -> pl.DataFrame:
    """``df`` with BSON-friendly types and the document ``_id`` as its first column.

    ``key`` names the business-key column copied to ``_id`` (it stays a normal field too);
    ``fixed_id`` is the ``_id`` of a one-row table. Raises ``DatasetError`` before any
    write if a column type is unsupported or the key is missing, null or duplicated.
    """
    _check_names(df.columns)
    exprs, unsupported = [], {}
    for name, dtype in df.schema.items():
        expr = _column(name, dtype)
        if expr is None and nested and _nested_ok(dtype):
            expr = pl.col(name)
        if expr is None:
            unsupported[name] = str(dtype)
        else:
            exprs.append(expr)
    if unsupported:
        raise DatasetError(
            f"Unsupported column types for MongoDB: {unsupported}. Supported: booleans, "
            "integers, floats, decimals, strings, categoricals, dates and datetimes; "
            "cast or drop these columns first. Nothing was written."
        )
    try:
        out = df.select(exprs)
    except pl.exceptions.InvalidOperationError as exc:
        raise DatasetError(
            f"Cannot store unsigned integers above 2**63-1 in MongoDB ({exc})."
        ) from exc
    return _with_id(out, key, fixed_id)


def _with_id(df: pl.DataFrame, key: str | None, fixed_id: str | None) -> pl.DataFrame:
    if key is not None and fixed_id is not None:
        raise DatasetError("save_args: set either `key` (a column) or `fixed_id`, not both.")
    if fixed_id is not None:
        if df.height > 1:
            raise DatasetError(
                f"save_args.fixed_id={fixed_id!r} needs a one-row table, got {df.height} rows; "
                "use `key: <column>` for tables with several rows."
            )
        return df.select(pl.lit(fixed_id).alias(ID), pl.exclude(ID))
    if key is None:
        return df
    if key not in df.columns:
        raise DatasetError(f"save_args.key {key!r} is not a column; columns: {df.columns}.")
    ids = df.get_column(key)
    if ids.null_count():
        raise DatasetError(f"Key column {key!r} has {ids.null_count()} null values.")
    if ids.is_duplicated().any():
        dupes = ids.filter(ids.is_duplicated()).unique().head(5).to_list()
        raise DatasetError(f"Key column {key!r} has duplicate values, e.g. {dupes}.")
    return df.select(pl.col(key).alias(ID), pl.exclude(ID))


def batches(df: pl.DataFrame, size: int) -> Iterator[list[dict[str, Any]]]:
    """The rows of ``df`` as documents, ``size`` at a time."""
    for offset in range(0, df.height, size):
        yield df.slice(offset, size).to_dicts()


def to_pandas(docs: list[dict[str, Any]], dtypes: dict[str, str] | None = None) -> pd.DataFrame:
    """Documents as a pandas DataFrame; integer and boolean columns stay nullable ints/bools.

    ``dtypes`` (column -> pandas dtype) types columns BSON cannot, e.g. all-null ones.
    """
    if not docs:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (dtypes or {}).items()})
    frame = pl.from_dicts(docs, infer_schema_length=None).to_pandas(types_mapper=_NULLABLE.get)
    wanted = {c: t for c, t in (dtypes or {}).items() if c in frame.columns}
    try:
        return frame.astype(wanted) if wanted else frame
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"load_args.dtypes {wanted} do not fit the documents: {exc}") from exc
