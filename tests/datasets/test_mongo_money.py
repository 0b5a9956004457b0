"""Exact gold money (``Decimal(18, 2)``) becomes BSON doubles that print the same cents."""

from __future__ import annotations

import random
from decimal import Decimal

import polars as pl

from medallion_kedro.datasets._mongo_convert import bson_ready

#: A double round-trips any decimal of 15 significant digits, so every amount below
#: 10**13 units (10 trillion) comes back with the same cents. (2**53 cents is not enough:
#: at 7e13 units a double's step is 0.016.)
LIMIT = 10**15


def test_decimal_money_becomes_doubles_with_the_same_cents() -> None:
    rng = random.Random(7)
    cents = [rng.randrange(LIMIT) for _ in range(20_000)] + [0, 1, 29, 57, 99, LIMIT - 1]
    texts = [f"{c // 100}.{c % 100:02d}" for c in cents]
    frame = pl.DataFrame({"total": pl.Series(texts).cast(pl.Decimal(18, 2))})
    docs = bson_ready(frame)
    assert docs.schema["total"] == pl.Float64
    for text, value in zip(texts, docs["total"].to_list(), strict=True):
        assert Decimal(repr(value)).quantize(Decimal("0.01")) == Decimal(text), text
        assert value == float(text)
