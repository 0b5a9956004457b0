"""Parsing and normalising expressions shared by the silver nodes.

Each ``parse_*`` returns the typed value or null when the text is not valid, so a rule is
"the typed column is null" and its reason says which text was wrong.

Control characters: in free text (names, emails, products, countries) every C0 control
character but tab (U+0000-U+0008, U+000A-U+001F) and DEL (U+007F) is removed before the
value is trimmed and checked, so a NUL byte never reaches silver. In numbers, dates and
keys they make the value invalid, and the row is quarantined with that column's reason.

Amounts are parsed exactly, never through a float: the trimmed text must be digits with
an optional decimal point and at most 2 significant decimals (``12``, ``12.5``, ``12.50``,
``12.500``); anything else (``-3``, ``1e308``, ``inf``, ``NaN``, ``12.345``, ``1,000``) is
invalid, so no amount is ever rounded.
"""

from __future__ import annotations

import polars as pl

from medallion_kedro.schemas import MONEY

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_CONTROL = r"[\x00-\x08\x0a-\x1f\x7f]"
#: Digits, then optionally a point and decimals whose third and later digits are zeros.
_AMOUNT = r"^[0-9]{1,16}(\.[0-9]{0,2}0*)?$"


def _trimmed(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars(" \t")


def text(column: str) -> pl.Expr:
    """The column without control characters, trimmed, with empty strings as null."""
    value = pl.col(column).str.replace_all(_CONTROL, "").str.strip_chars(" \t")
    return pl.when(value.str.len_bytes() > 0).then(value)


def parse_int(column: str) -> pl.Expr:
    """A whole number; anything else (blank included) is null."""
    return _trimmed(column).cast(pl.Int64, strict=False)


def parse_amount(column: str) -> pl.Expr:
    """An exact ``Decimal(18, 2)`` amount, or null when the text is not a plain decimal.

    Zero passes here (it is a number); the positive and maximum checks are separate rules
    so the quarantine says which one failed.
    """
    value = _trimmed(column)
    return pl.when(value.str.contains(_AMOUNT)).then(value.cast(MONEY, strict=False))


def too_long(column: str, max_bytes: int) -> pl.Expr:
    """True when the raw text of ``column`` is longer than ``max_bytes`` bytes."""
    return pl.col(column).str.len_bytes() > max_bytes


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


def first_failure(checks: list[tuple[pl.Expr, str]], dtype: pl.DataType) -> pl.Expr:
    """The reason of the first failing check, or null when all pass.

    ``dtype`` is an ``Enum`` of the possible reasons: 4 bytes a row instead of a string.
    """
    reason: pl.Expr = pl.lit(None, dtype=dtype)
    for failed, why in reversed(checks):
        reason = pl.when(failed).then(pl.lit(why, dtype=dtype)).otherwise(reason)
    return reason
