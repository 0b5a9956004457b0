"""Descriptions of the types and fields that serve gold tables, taken from the gold contract.

The contract (``medallion_kedro.schemas.GOLD_TABLES``) says what each table and column
means; the API publishes those words, and ``tests/test_contracts.py`` checks each such
type field by field (name, type, nullability) against the table it serves.
"""

from __future__ import annotations

from typing import Any

import strawberry

from medallion_kedro.schemas import GOLD_TABLES


def table_description(table: str, note: str = "") -> str:
    """The description of the type serving ``gold.<table>`` (``note`` appended)."""
    return " ".join(filter(None, (GOLD_TABLES[table].description, note)))


def column_description(table: str, column: str, note: str = "") -> str:
    """The description of ``gold.<table>.<column>`` (``note`` appended)."""
    return " ".join(filter(None, (GOLD_TABLES[table].column(column).description, note)))


def column(table: str, name: str) -> Any:
    """A field serving ``gold.<table>.<name>`` as stored, described by the contract."""
    return strawberry.field(description=column_description(table, name))
