"""Recency from year and day of year (what Spark has) equals the calendar's day count."""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import polars as pl

from medallion_kedro.pipelines.gold import nodes


def test_day_number_is_the_proleptic_ordinal_across_leap_rules() -> None:
    days = [
        dt.datetime(1900, 2, 28, 23, 59),  # 1900: not a leap year
        dt.datetime(1900, 3, 1),
        dt.datetime(2000, 2, 29, 12),  # 2000: a leap year
        dt.datetime(2000, 12, 31, 23, 59, 59),
        dt.datetime(2024, 2, 29),
        dt.datetime(2026, 1, 1),
        dt.datetime(2026, 12, 31, 23),
    ]
    frame = nw.from_native(pl.DataFrame({"ts": days}))
    got = frame.select(nodes._day_number(nw.col("ts"))).to_native().to_series().to_list()
    assert got == [d.date().toordinal() for d in days]
