"""How silver types each raw text column, whatever the engine.

Each function names a parse (:class:`medallion_kedro.parsing.Parse`); :func:`parsing.with_parsed`
runs it with the engine's own parsers. A parse gives the typed value or null when the
text is not valid, so a rule is "the typed column is null" and its reason says which text
was wrong.

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

from medallion_kedro.parsing import Parse


def column(name: str) -> Parse:
    """The column as it is."""
    return Parse("column", name)


def text(name: str) -> Parse:
    """The column without control characters, trimmed, with empty strings as null."""
    return Parse("text", name)


def parse_int(name: str) -> Parse:
    """A whole number (``Int64``); anything else (blank included) is null."""
    return Parse("int", name)


def parse_amount(name: str) -> Parse:
    """An exact ``Decimal(18, 2)`` amount, or null when the text is not a plain decimal.

    Zero passes here (it is a number); the positive and maximum checks are separate rules
    so the quarantine says which one failed.
    """
    return Parse("amount", name)


def too_long(name: str, max_bytes: int) -> Parse:
    """True when the raw text of ``name`` is longer than ``max_bytes`` bytes."""
    return Parse("too_long", name, max_bytes)


def parse_date(name: str, fmt: str) -> Parse:
    """A date in the chrono format ``fmt`` (``%Y-%m-%d``), as polars' ``strptime`` reads it."""
    return Parse("date", name, fmt)


def parse_timestamp(name: str, fmt: str) -> Parse:
    """A timestamp (microseconds, no time zone) in the chrono format ``fmt``."""
    return Parse("timestamp", name, fmt)


def parse_email(name: str) -> Parse:
    """The text lower-cased, null unless it looks like ``local@domain.tld``."""
    return Parse("email", name)


def title(name: str) -> Parse:
    """The text in title case (polars' rule; computed on the distinct values)."""
    return Parse("title", name)
