"""Export node: every gold table, checked against its contract, as one export batch.

The writing itself (run-specific collections, indexes, the manifest switch, logging of
documents and time per collection) is done by ``MongoExportDataset`` when Kedro saves the
node's output to ``mongo.gold``: all tables are published together or not at all. The run
history (``quality.runs``/``quality.node_runs``) and the data quality of the last runs go
in the same batch, so readers switch to them together with the gold tables. Runs still
``running`` are left out (the run exporting is one of them): once the exporting run has
ended, its hook refreshes both collections with its final state
(:func:`medallion_kedro.runs.provenance.publish_history`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from medallion_kedro.datasets.export_batch import ExportBatch
from medallion_kedro.runs.records import NODE_RUNS, RUNNING, conform, history, latest
from medallion_kedro.schemas import GOLD, check_schema

#: Runs published with each export (newest first); older ones stay in the lake.
HISTORY_RUNS = 100
#: Collections of the export that are not gold tables.
RUNS_COLLECTION, QUALITY_COLLECTION = "runs", "data_quality"
#: Columns of ``quality.runs`` left out of the published history (process details).
_PRIVATE = ("session_id", "host", "pid", "updated_at", "reconciliation", "quality")


def to_collection(table: pl.DataFrame | pl.LazyFrame, name: str) -> pl.DataFrame:
    """Gold table ``name``, collected, once it matches its contract in ``schemas.GOLD``."""
    frame = table.collect() if isinstance(table, pl.LazyFrame) else table
    return check_schema(frame, GOLD[name], f"gold.{name} (export to MongoDB)")


def source_facts(frame: pl.DataFrame, entry: Mapping[str, Any] | None = None) -> dict[str, object]:
    """What the manifest records of a gold table: rows, a content fingerprint, its version.

    ``entry`` is the table's entry in the lake's commit record (``lake.gold_versions``):
    the version exported and the lake run that wrote it (``None`` for a table that has no
    entry, e.g. one of an earlier release).
    """
    fingerprint = int(frame.hash_rows(seed=0).sum()) if frame.height else 0
    return {
        "rows": frame.height,
        "fingerprint": f"{fingerprint & (2**64 - 1):016x}",
        "version": entry.get("version") if entry else None,
        "lake_run_id": entry.get("run_id") if entry else None,
    }


def lake_version(versions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The lake commit the export read: the gold run (when one run built every table),
    the latest commit time, and each table's version and rows."""
    runs = {str(e.get("run_id")) for e in versions.values()}
    committed = [str(e["committed_at"]) for e in versions.values() if e.get("committed_at")]
    return {
        "run_id": runs.pop() if len(runs) == 1 else None,
        "committed_at": max(committed) if committed else None,
        "tables": {
            key: {k: e.get(k) for k in ("version", "run_id", "rows", "committed_at")}
            for key, e in versions.items()
        },
    }


def _ended(runs: pl.DataFrame) -> pl.DataFrame:
    """The current state of each run that has ended (not ``running``), newest first."""
    current = latest(runs)
    return current.filter(pl.col("status") != RUNNING)


def run_documents(runs: pl.DataFrame, node_runs: pl.DataFrame) -> pl.DataFrame:
    """The last ``HISTORY_RUNS`` runs that ended, one row per run with its nodes nested
    (``nodes``)."""
    nodes = conform(node_runs, NODE_RUNS) if node_runs.width else node_runs
    frame = history(_ended(runs), nodes, last=HISTORY_RUNS)
    return frame.drop([c for c in _PRIVATE if c in frame.columns])


def quality_documents(runs: pl.DataFrame) -> pl.DataFrame:
    """Per run that ended and checked data: its reconciliation counts and rejected rows by
    reason."""
    checked = _ended(runs).filter(
        (pl.col("reconciliation").list.len() > 0) | (pl.col("quality").list.len() > 0)
    )
    return checked.head(HISTORY_RUNS).select(
        "run_id",
        "status",
        "pipelines",
        "started_at",
        "finished_at",
        "reconciliation",
        pl.col("quality").alias("rejected"),
    )


def history_tables(runs: pl.DataFrame, node_runs: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The run-history collections an export publishes: runs and data quality."""
    return {
        RUNS_COLLECTION: run_documents(runs, node_runs),
        QUALITY_COLLECTION: quality_documents(runs),
    }


def to_export(
    gold_versions: Mapping[str, Mapping[str, Any]],
    runs: pl.DataFrame,
    node_runs: pl.DataFrame,
    lake: Mapping[str, str] | None = None,
    **tables: pl.DataFrame | pl.LazyFrame,
) -> ExportBatch:
    """All gold tables, each checked against its contract, with their source facts and the
    lake (its id and version) they come from, plus the run history and data quality of the
    last runs."""
    checked = {name: to_collection(table, name) for name, table in tables.items()}
    sources = {
        name: source_facts(frame, gold_versions.get(f"gold.{name}"))
        for name, frame in checked.items()
    }
    published: dict[str, pl.DataFrame] = {**checked, **history_tables(runs, node_runs)}
    return ExportBatch(
        tables=published,
        sources=sources,
        lake_version=lake_version(gold_versions),
        lake=dict(lake) if lake is not None else None,
    )
