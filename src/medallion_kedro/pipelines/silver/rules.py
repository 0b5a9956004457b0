"""Parsing and normalising expressions shared by the silver nodes.

Each ``parse_*`` returns the typed value or null when the text is not valid, so a rule is
"the typed column is null" and its reason says which text was wrong.
"""

from __future__ import annotations

import polars as pl

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _trimmed(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars(" \t")


def text(column: str) -> pl.Expr:
    """The column trimmed, with empty strings as null."""
    value = _trimmed(column)
    return pl.when(value.str.len_bytes() > 0).then(value)


def parse_int(column: str) -> pl.Expr:
    """A whole number; anything else (blank included) is null."""
    return _trimmed(column).cast(pl.Int64, strict=False)


def parse_amount(column: str) -> pl.Expr:
    """A positive amount; non-numbers, zero and negatives are null."""
    value = _trimmed(column).cast(pl.Float64, strict=False)
    return pl.when(value > 0).then(value).otherwise(None)


def parse_date(column: str, fmt: str) -> pl.Expr:
    return _trimmed(column).str.strptime(pl.Date, fmt, strict=False)


def parse_timestamp(column: str, fmt: str) -> pl.Expr:
    # cache=False: timestamps are mostly distinct, so a parse cache only costs time
    return _trimmed(column).str.strptime(pl.Datetime("us"), fmt, strict=False, cache=False)


def parse_email(column: str) -> pl.Expr:
    value = text(column).str.to_lowercase()
    return pl.when(value.str.contains(_EMAIL)).then(value).otherwise(None)


def title(column: str) -> pl.Expr:
    return text(column).str.to_titlecase()


def country_lookup(countries: list[str], aliases: dict[str, str]) -> dict[str, str]:
    """Lower-cased spelling -> canonical country."""
    lookup = {str(c).lower(): str(c) for c in countries}
    lookup.update({str(k).lower(): str(v) for k, v in aliases.items()})
    unknown = sorted({v for v in lookup.values() if v not in set(map(str, countries))})
    if unknown:
        raise ValueError(
            f"parameters_silver.yml country_aliases map to {unknown}, which are not in "
            "silver.countries: add them there or fix the alias."
        )
    return lookup


def parse_country(column: str, lookup: dict[str, str]) -> pl.Expr:
    return (
        text(column).str.to_lowercase().replace_strict(lookup, default=None, return_dtype=pl.String)
    )


def first_failure(checks: list[tuple[pl.Expr, str]], dtype: pl.DataType) -> pl.Expr:
    """The reason of the first failing check, or null when all pass.

    ``dtype`` is an ``Enum`` of the possible reasons: 4 bytes a row instead of a string.
    """
    reason: pl.Expr = pl.lit(None, dtype=dtype)
    for failed, why in reversed(checks):
        reason = pl.when(failed).then(pl.lit(why, dtype=dtype)).otherwise(reason)
    return reason
