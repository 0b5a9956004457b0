"""Checks of client arguments; each failure names the argument and the accepted values."""

from __future__ import annotations

import math
import re

from graphql_api.errors import UserInputError

MAX_PAGE_SIZE = 100
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def bounded_int(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise UserInputError(f"`{name}` must be between {low} and {high}; got {value}.")
    return value


def page_size(name: str, value: int) -> int:
    return bounded_int(name, value, 1, MAX_PAGE_SIZE)


def month(name: str, value: str | None) -> str | None:
    if value is not None and not MONTH.fullmatch(value):
        raise UserInputError(
            f"`{name}` must be a month written YYYY-MM, e.g. 2024-03; got {value!r}."
        )
    return value


def text(name: str, value: str | None, max_length: int) -> str | None:
    """A non-blank string of at most ``max_length`` characters, stripped; None stays None."""
    if value is None:
        return None
    stripped = value.strip()
    if not stripped or len(stripped) > max_length:
        raise UserInputError(
            f"`{name}` must be 1 to {max_length} characters long (blank is not allowed)."
        )
    return stripped


def non_negative(name: str, value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise UserInputError(f"`{name}` must be a number of at least 0; got {value}.")
    return value
