"""Conversions from stored BSON values to the Python values Strawberry serialises."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def to_date(value: Any) -> date:
    """BSON datetimes at midnight (how dates are stored) become plain dates."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def to_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
