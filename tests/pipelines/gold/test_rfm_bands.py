"""The distributed quintiles (histogram boundaries, then bands) equal the global rank."""

from __future__ import annotations

import random
from decimal import Decimal

import narwhals as nw
import polars as pl
import pytest

from medallion_kedro.pipelines.gold import rfm


def _by_bands(values: list[object], dtype: pl.DataType) -> list[object]:
    frame = pl.DataFrame({"v": values}, schema={"v": dtype})
    histogram = frame.drop_nulls().group_by("v").agg(count=pl.len())
    bounds = rfm.boundaries(histogram, "v")
    scored = nw.from_native(frame).select(
        nw.when(~nw.col("v").is_null()).then(rfm.bands(nw.col("v"), bounds))
    )
    return scored.to_native().to_series().to_list()


def _by_rank(values: list[object], dtype: pl.DataType) -> list[object]:
    frame = pl.DataFrame({"v": values}, schema={"v": dtype})
    return frame.select(rfm.quintile(pl.col("v"))).to_series().to_list()


@pytest.mark.parametrize("seed", range(40))
def test_bands_equal_the_min_rank_quintile_with_ties(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice([1, 2, 3, 4, 5, 6, 7, 11, 50, 333])
    spread = rng.choice([1, 2, 3, 10, 1000])  # 1: every value ties
    counts = [rng.randint(1, spread) if rng.random() > 0.1 else None for _ in range(n)]
    assert _by_bands(counts, pl.Int64()) == _by_rank(counts, pl.Int64())
    money = [None if c is None else Decimal(c) / 100 for c in counts]
    assert _by_bands(money, pl.Decimal(18, 2)) == _by_rank(money, pl.Decimal(18, 2))


def test_boundaries_are_the_values_of_the_band_ranks() -> None:
    histogram = pl.DataFrame({"v": [1, 2, 9], "count": [6, 3, 1]})
    # n = 10: ranks ceil(10 k / 5) = 2, 4, 6, 8 -> sorted values 1 1 1 1 1 1 2 2 2 9
    assert rfm.boundaries(histogram, "v") == [1, 1, 1, 2]
    assert rfm.boundaries(histogram.head(0), "v") == []
