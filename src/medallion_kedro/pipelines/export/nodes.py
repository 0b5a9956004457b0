"""Export nodes: hand each gold table to its MongoDB collection, checked against its contract.

The writing itself (staging collection, indexes, swap, logging of documents and time)
is done by ``MongoDBDataset`` when Kedro saves the node's output to ``mongo.<table>``.
"""

from __future__ import annotations

import polars as pl

from medallion_kedro.schemas import GOLD, check_schema


def to_collection(table: pl.DataFrame | pl.LazyFrame, name: str) -> pl.DataFrame:
    """Gold table ``name``, collected, once it matches its contract in ``schemas.GOLD``."""
    frame = table.collect() if isinstance(table, pl.LazyFrame) else table
    return check_schema(frame, GOLD[name], f"gold.{name} (export to MongoDB)")
