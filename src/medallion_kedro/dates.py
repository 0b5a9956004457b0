"""The ``as_of`` parameter: the reference date shared by the generate and gold pipelines."""

from __future__ import annotations

import datetime as dt

from typing_extensions import TypeAliasType

#: The ``as_of`` parameter as a node receives it: ``null``, ``YYYY-MM-DD`` text, or a date
#: (``--params as_of=2026-11-01`` is parsed to one). A named alias, not a bare union, so
#: Kedro's parameter validation does not warn that it cannot validate a union.
AsOf = TypeAliasType("AsOf", "str | dt.date | None")


def parse_date(value: object, name: str, where: str) -> dt.date:
    """``value`` as a date; otherwise an error naming the parameter ``name`` and ``where``
    to fix it (a parameters file and the matching ``--params`` option)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a date: use YYYY-MM-DD in {where}") from exc


def parse_as_of(as_of: str | dt.date) -> dt.date:
    """``as_of`` as a date; a clear error naming where to fix it otherwise."""
    return parse_date(as_of, "as_of", "conf/base/parameters.yml or --params as_of=2026-11-01")
