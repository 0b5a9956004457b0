"""The ``as_of`` parameter: the reference date shared by the generate and gold pipelines."""

from __future__ import annotations

import datetime as dt


def parse_as_of(as_of: str | dt.date) -> dt.date:
    """``as_of`` as a date; a clear error naming where to fix it otherwise."""
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError as exc:
        raise ValueError(
            f"as_of={as_of!r} is not a date: use YYYY-MM-DD in "
            "conf/base/parameters.yml or --params as_of=2026-11-01"
        ) from exc
