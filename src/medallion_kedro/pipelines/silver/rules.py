"""How silver types each raw text column, whatever the engine.

:func:`of` gives the parse a source column declares in :data:`medallion_kedro.schemas.SOURCES`
and :func:`invalid_reason` the reason its row gets when the parse gives null. Each other
function names a parse (:class:`medallion_kedro.parsing.Parse`); :func:`parsing.with_parsed`
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

from collections.abc import Callable, Mapping
from typing import Any

from medallion_kedro.parsing import Parse
from medallion_kedro.schemas import FORMAT_PARAMETER, ContractError, SourceColumn


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


#: The parse of each kind a source column declares that runs on every row (``title`` and
#: ``country`` are looked up per distinct value instead, see ``silver/nodes.py``).
_ROW_PARSES: dict[str, Callable[[str], Parse]] = {
    "int": parse_int,
    "text": text,
    "email": parse_email,
    "amount": parse_amount,
}


def _format(column: SourceColumn, rules: Mapping[str, Any]) -> str:
    parameter = FORMAT_PARAMETER[column.parse]
    if parameter not in rules:
        raise ContractError(
            f"source column {column.name} is parsed as a {column.parse} but silver.{parameter} "
            "is not set: add it to conf/base/parameters_silver.yml"
        )
    return str(rules[parameter])


def of(column: SourceColumn, rules: Mapping[str, Any]) -> Parse:
    """The parse ``column`` declares, with its format from the ``silver`` parameters."""
    if column.parse == "date":
        return parse_date(column.name, _format(column, rules))
    if column.parse == "timestamp":
        return parse_timestamp(column.name, _format(column, rules))
    if column.parse == "title":
        return title(column.name)
    if column.parse in _ROW_PARSES:
        return _ROW_PARSES[column.parse](column.name)
    raise ContractError(
        f"source column {column.name}: silver has no row parse {column.parse!r} "
        "(pipelines/silver/rules.py)"
    )


def invalid_reason(column: SourceColumn, rules: Mapping[str, Any]) -> str:
    """``column.invalid`` with its parse's ``{format}`` filled in."""
    if column.parse in FORMAT_PARAMETER:
        return column.invalid.format(format=_format(column, rules))
    return column.invalid
