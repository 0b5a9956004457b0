"""The run history's two tables, ``quality.runs`` and ``quality.node_runs``, as polars frames.

``quality.runs`` holds one row per *state* of a run: ``running`` when it starts, then
``succeeded``, ``failed`` or ``killed``. The table is append-only; :func:`latest` gives the
current state of each run (the row with the latest ``updated_at``). ``quality.node_runs``
holds one row per node that ran, with its seconds and rows in and out per dataset.
``run_id`` joins the two (and anything else a run produced, such as an export manifest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from polars.datatypes import DataType

from medallion_kedro.schemas import RECONCILIATION

RUNNING, SUCCEEDED, FAILED, KILLED = "running", "succeeded", "failed", "killed"

UTC_TIME = pl.Datetime("us", "UTC")
DATASET_ROWS = pl.List(pl.Struct({"dataset": pl.String(), "rows": pl.Int64()}))
#: the rows of ``quality.reconciliation`` as the run produced them (same columns)
RECONCILIATION_ROWS = pl.List(pl.Struct(dict(RECONCILIATION)))
QUALITY_ROWS = pl.List(
    pl.Struct(
        {"table": pl.String(), "kind": pl.String(), "reason": pl.String(), "rows": pl.Int64()}
    )
)

_RUNS: dict[str, DataType] = {
    "run_id": pl.String(),
    "status": pl.String(),
    "updated_at": UTC_TIME,
    "session_id": pl.String(),
    "pipelines": pl.List(pl.String()),
    "env": pl.String(),
    "project_version": pl.String(),
    "kedro_version": pl.String(),
    "git_commit": pl.String(),
    "git_dirty": pl.Boolean(),
    "host": pl.String(),
    "pid": pl.Int64(),
    "started_at": UTC_TIME,
    "finished_at": UTC_TIME,
    "seconds": pl.Float64(),
    "nodes_total": pl.Int64(),
    "nodes_done": pl.Int64(),
    "error": pl.String(),
    "reconciliation": RECONCILIATION_ROWS,
    "quality": QUALITY_ROWS,
}
RUNS = pl.Schema(_RUNS)

_NODE_RUNS: dict[str, DataType] = {
    "run_id": pl.String(),
    "seq": pl.Int64(),
    "node": pl.String(),
    "tags": pl.List(pl.String()),
    "status": pl.String(),
    "started_at": UTC_TIME,
    "finished_at": UTC_TIME,
    "seconds": pl.Float64(),
    "rows_in": pl.Int64(),
    "rows_out": pl.Int64(),
    "inputs": DATASET_ROWS,
    "outputs": DATASET_ROWS,
    "error": pl.String(),
}
NODE_RUNS = pl.Schema(_NODE_RUNS)


@dataclass
class NodeRecord:
    """What one node did: when, how long, and the rows of each dataset it read and wrote.

    ``rows`` is ``None`` for a dataset that could not be counted cheaply (see
    :func:`medallion_kedro.runs.counting.cheap_rows`).
    """

    seq: int
    node: str
    tags: list[str]
    started_at: datetime
    finished_at: datetime | None = None
    status: str = RUNNING
    error: str | None = None
    inputs: dict[str, int | None] = field(default_factory=dict)
    outputs: dict[str, int | None] = field(default_factory=dict)
    lineage_run_id: str = ""  # this node's own OpenLineage run (not a column)
    saved: int = 0  # outputs saved so far, tables or not (not a column)

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def row(self, run_id: str) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "seq": self.seq,
            "node": self.node,
            "tags": self.tags,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": self.seconds,
            "rows_in": _total(self.inputs),
            "rows_out": _total(self.outputs),
            "inputs": _dataset_rows(self.inputs),
            "outputs": _dataset_rows(self.outputs),
            "error": self.error,
        }


def _total(rows: dict[str, int | None]) -> int | None:
    counted = [n for n in rows.values() if n is not None]
    return sum(counted) if counted else None


def _dataset_rows(rows: dict[str, int | None]) -> list[dict[str, Any]]:
    return [{"dataset": name, "rows": n} for name, n in rows.items()]


def runs_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows of ``quality.runs`` (missing keys are null) in the table's schema."""
    return pl.DataFrame([{k: r.get(k) for k in RUNS} for r in rows], schema=RUNS, orient="row")


def node_runs_frame(run_id: str, nodes: list[NodeRecord]) -> pl.DataFrame:
    """Rows of ``quality.node_runs`` for the nodes of one run, in the table's schema."""
    return pl.DataFrame([n.row(run_id) for n in nodes], schema=NODE_RUNS, orient="row")


def latest(runs: pl.DataFrame) -> pl.DataFrame:
    """The current state of each run: its row with the latest ``updated_at``, newest run first."""
    if runs.is_empty():
        return runs_frame([])
    return (
        runs.sort("updated_at")
        .unique("run_id", keep="last", maintain_order=True)
        .sort("started_at", descending=True)
    )


def history(runs: pl.DataFrame, node_runs: pl.DataFrame, last: int | None = None) -> pl.DataFrame:
    """The ``last`` runs (newest first, current state) each with its nodes in a ``nodes`` list.

    One row per run, ready to export as one document per run (``_id`` = ``run_id``).
    """
    current = latest(runs)
    if last is not None:
        current = current.head(last)
    if node_runs.is_empty():
        return current.with_columns(nodes=pl.lit([], dtype=pl.List(pl.Struct(NODE_RUNS))))
    nodes = (
        node_runs.filter(pl.col("run_id").is_in(current["run_id"].implode()))
        .sort("run_id", "seq")
        .group_by("run_id", maintain_order=True)
        .agg(nodes=pl.struct(pl.all().exclude("run_id")))
    )
    return current.join(nodes, on="run_id", how="left", maintain_order="left").with_columns(
        pl.col("nodes").fill_null([])
    )
