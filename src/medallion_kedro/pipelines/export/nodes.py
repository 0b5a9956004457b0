"""Export node: every gold table, checked against its contract, as one export batch.

The writing itself (run-specific collections, indexes, the manifest switch, logging of
documents and time per collection) is done by ``MongoExportDataset`` when Kedro saves the
node's output to ``mongo.gold``: all tables are published together or not at all.
"""

from __future__ import annotations

import polars as pl

from medallion_kedro.datasets.mongo_export_dataset import ExportBatch
from medallion_kedro.schemas import GOLD, check_schema


def to_collection(table: pl.DataFrame | pl.LazyFrame, name: str) -> pl.DataFrame:
    """Gold table ``name``, collected, once it matches its contract in ``schemas.GOLD``."""
    frame = table.collect() if isinstance(table, pl.LazyFrame) else table
    return check_schema(frame, GOLD[name], f"gold.{name} (export to MongoDB)")


def source_facts(frame: pl.DataFrame) -> dict[str, object]:
    """What the manifest records of a gold table: rows and a content fingerprint.

    When the lake commits versioned tables, their version belongs here too (the manifest
    stores this mapping as it is, under ``sources.<table>``).
    """
    fingerprint = int(frame.hash_rows(seed=0).sum()) if frame.height else 0
    return {"rows": frame.height, "fingerprint": f"{fingerprint & (2**64 - 1):016x}"}


def to_export(**tables: pl.DataFrame | pl.LazyFrame) -> ExportBatch:
    """All gold tables, each checked against its contract, with their source facts."""
    checked = {name: to_collection(table, name) for name, table in tables.items()}
    return ExportBatch(
        tables=checked, sources={name: source_facts(f) for name, f in checked.items()}
    )
