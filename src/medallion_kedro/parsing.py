"""Typed parsing of raw text, one implementation per engine: the parse of each silver
column is named once (:class:`Parse`, see :mod:`.pipelines.silver.rules`) and
:func:`with_parsed` adds the typed columns with the engine's own parsers.

polars: the expressions silver has always used (non-strict casts, ``strptime``,
``len_bytes``). Spark: the same validity checks as Java regular expressions, then
``try_cast`` and ``try_make_timestamp_ntz``, and ``octet_length``, with the same results
(``tests/spark/test_spark_silver_rules.py`` compares them on edge cases).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw
import polars as pl

from medallion_kedro.frames import is_polars
from medallion_kedro.schemas import MONEY

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


def _lazy(native: Any) -> nw.LazyFrame[Any]:
    return nw.from_native(native).lazy()


def with_parsed(frame: nw.LazyFrame[Any], columns: Mapping[str, Parse]) -> nw.LazyFrame[Any]:
    """``frame`` with each typed column of ``columns`` added (null where the text is not
    valid), by the engine's own parsers."""
    if is_polars(frame):
        polars = {name: _polars(spec) for name, spec in columns.items()}
        return _lazy(frame.to_native().with_columns(**polars))
    spark = {name: _spark(spec) for name, spec in columns.items()}
    return _lazy(frame.to_native().withColumns(spark))


def parse_values(values: pl.Series, spec: Parse) -> pl.Series:
    """``spec`` applied (by polars, on the driver) to a few distinct ``values``."""
    return values.to_frame(spec.column).select(_polars(spec)).to_series()
