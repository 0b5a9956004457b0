"""Provenance types: the export being served, the pipeline runs, and their data quality.

All of it is published by the export with the gold tables (one manifest switch), holds no
personal data, and is public like the other aggregates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from graphql_api.manifest import Manifest
from graphql_api.store import Document
from medallion_kedro.run_stages import stage_rows


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@strawberry.type(description="One exported collection of the export run being served.")
class DatasetTable:
    table: str = strawberry.field(description="The table, e.g. `customer_metrics` or `runs`.")
    documents: int = strawberry.field(description="Documents written and checked.")
    checksum: str = strawberry.field(description="Order-independent checksum of its documents.")
    lake_version: str | None = strawberry.field(
        description="The version of the gold table in the lake it was exported from "
        "(null for collections that are not gold tables)."
    )
    lake_rows: int | None = strawberry.field(description="Rows of that lake table.")


@strawberry.type(
    description="The export run this response reads: every field of one response comes "
    "from this one run."
)
class Dataset:
    run_id: str = strawberry.field(description="The export run id (the manifest's `run_id`).")
    exported_at: datetime = strawberry.field(description="When that export was published.")
    age_seconds: float = strawberry.field(description="Seconds since it was published.")
    pipeline_run_id: str | None = strawberry.field(
        description="The `kedro run` that exported it: `runs { runId }` of that run."
    )
    lake_version: str | None = strawberry.field(
        description="The lake commit of the gold tables exported: the run that built them "
        "(null when gold tables of several runs were exported)."
    )
    lake_committed_at: datetime | None = strawberry.field(
        description="When that gold commit was made in the lake (freshness of gold)."
    )
    previous_run_id: str | None = strawberry.field(description="The export run it replaced.")
    tables: list[DatasetTable] = strawberry.field(description="Its collections.")

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> Dataset:
        doc = manifest.document
        lake = doc.get("lake_version") or {}
        sources = doc.get("sources") or {}
        tables = [
            DatasetTable(
                table=table,
                documents=int(entry.get("documents", 0)),
                checksum=str(entry.get("checksum", "")),
                lake_version=(sources.get(table) or {}).get("version"),
                lake_rows=_int((sources.get(table) or {}).get("rows")),
            )
            for table, entry in sorted(doc["collections"].items())
        ]
        previous = doc.get("previous") or {}
        return cls(
            run_id=manifest.run_id,
            exported_at=manifest.exported_at,
            age_seconds=round(manifest.age_seconds(), 1),
            pipeline_run_id=doc.get("pipeline_run_id"),
            lake_version=lake.get("run_id") if isinstance(lake, dict) else None,
            lake_committed_at=_utc(lake.get("committed_at")) if isinstance(lake, dict) else None,
            previous_run_id=previous.get("run_id"),
            tables=tables,
        )


@strawberry.type(description="Rows of one dataset a node read or wrote.")
class DatasetRows:
    dataset: str = strawberry.field(description="Catalog name, e.g. `silver.orders`.")
    rows: int | None = strawberry.field(description="Rows; null when not counted cheaply.")


def _rows(entries: Any) -> list[DatasetRows]:
    return [DatasetRows(dataset=str(d["dataset"]), rows=_int(d["rows"])) for d in entries or []]


@strawberry.type(description="One node of a pipeline run.")
class NodeRun:
    seq: int = strawberry.field(description="Order in which the node started.")
    node: str = strawberry.field(description="Node name.")
    stage: str | None = strawberry.field(description="Its stage (the node's tag).")
    status: str = strawberry.field(description="`succeeded`, `failed` or `running`.")
    seconds: float | None = strawberry.field(description="Load, run and save time.")
    rows_in: int | None = strawberry.field(description="Rows of the inputs counted.")
    rows_out: int | None = strawberry.field(description="Rows of the outputs counted.")
    inputs: list[DatasetRows] = strawberry.field(description="Rows per input dataset.")
    outputs: list[DatasetRows] = strawberry.field(description="Rows per output dataset.")
    error: str | None = strawberry.field(description="The error, when it failed.")

    @classmethod
    def from_document(cls, doc: Document) -> NodeRun:
        tags = doc.get("tags") or []
        return cls(
            seq=int(doc.get("seq") or 0),
            node=str(doc["node"]),
            stage=str(tags[0]) if tags else None,
            status=str(doc.get("status")),
            seconds=_float(doc.get("seconds")),
            rows_in=_int(doc.get("rows_in")),
            rows_out=_int(doc.get("rows_out")),
            inputs=_rows(doc.get("inputs")),
            outputs=_rows(doc.get("outputs")),
            error=doc.get("error"),
        )


@strawberry.type(description="Rows in and out and seconds of the nodes of one stage.")
class StageRows:
    stage: str = strawberry.field(description="`bronze`, `silver`, `gold`, `export`...")
    rows_in: int | None = strawberry.field(
        description="Rows of the datasets it read that none of its nodes wrote, each once."
    )
    rows_out: int | None = strawberry.field(
        description="Rows of the lake tables (and other outputs) it wrote, each once."
    )
    seconds: float = strawberry.field(description="Sum of its nodes' seconds.")


def _stages(docs: list[Document]) -> list[StageRows]:
    return [StageRows(**stage) for stage in stage_rows(docs)]


@strawberry.type(description="One `kedro run`, as recorded in the lake (`quality.runs`).")
class PipelineRun:
    run_id: str = strawberry.field(description="The run id (a UUIDv7, also OpenLineage's).")
    status: str = strawberry.field(description="`running`, `succeeded`, `failed` or `killed`.")
    pipelines: list[str] = strawberry.field(description="The pipelines it ran.")
    env: str | None = strawberry.field(description="Kedro environment.")
    project_version: str | None = strawberry.field(description="Project version.")
    git_commit: str | None = strawberry.field(description="Git commit of the code, if any.")
    started_at: datetime | None = strawberry.field(description="Start time.")
    finished_at: datetime | None = strawberry.field(description="End time.")
    seconds: float | None = strawberry.field(description="Duration.")
    nodes_total: int | None = strawberry.field(description="Nodes in its pipeline.")
    nodes_done: int | None = strawberry.field(description="Nodes that succeeded.")
    error: str | None = strawberry.field(description="The error of a failed or killed run.")
    export_run_id: str | None = strawberry.field(
        description="The export run it published (`dataset { runId }`), if it exported."
    )
    nodes: list[NodeRun] = strawberry.field(description="Its nodes, in start order.")
    stages: list[StageRows] = strawberry.field(description="Rows and seconds by stage.")

    @classmethod
    def from_document(cls, doc: Document) -> PipelineRun:
        docs = list(doc.get("nodes") or [])
        nodes = [NodeRun.from_document(n) for n in docs]
        return cls(
            run_id=str(doc["run_id"]),
            status=str(doc.get("status")),
            pipelines=[str(p) for p in doc.get("pipelines") or []],
            env=doc.get("env"),
            project_version=doc.get("project_version"),
            git_commit=doc.get("git_commit"),
            started_at=_utc(doc.get("started_at")),
            finished_at=_utc(doc.get("finished_at")),
            seconds=_float(doc.get("seconds")),
            nodes_total=_int(doc.get("nodes_total")),
            nodes_done=_int(doc.get("nodes_done")),
            error=doc.get("error"),
            export_run_id=doc.get("export_run_id"),
            nodes=nodes,
            stages=_stages(docs),
        )


@strawberry.type(
    description="The reconciliation of one table: bronze = silver + rejected + dupes + waiting."
)
class Reconciliation:
    table: str
    bronze_rows: int
    silver_rows: int
    rejected_rows: int
    duplicates_removed: int
    waiting_rows: int = strawberry.field(
        description="Orders whose customer is not in silver yet (quality.waiting_orders)."
    )
    balanced: bool


@strawberry.type(description="Rows of one table rejected (or kept with a warning) for one reason.")
class RejectedRows:
    table: str
    kind: str = strawberry.field(description="`rejected` (quarantined) or `warning` (kept).")
    reason: str
    rows: int


@strawberry.type(description="The data quality of one run that checked data (silver).")
class RunQuality:
    run_id: str
    status: str
    started_at: datetime | None
    reconciliation: list[Reconciliation]
    rejected: list[RejectedRows]

    @classmethod
    def from_document(cls, doc: Document) -> RunQuality:
        return cls(
            run_id=str(doc["run_id"]),
            status=str(doc.get("status")),
            started_at=_utc(doc.get("started_at")),
            reconciliation=[
                Reconciliation(
                    table=str(r["table"]),
                    bronze_rows=int(r["bronze_rows"] or 0),
                    silver_rows=int(r["silver_rows"] or 0),
                    rejected_rows=int(r["rejected_rows"] or 0),
                    duplicates_removed=int(r["duplicates_removed"] or 0),
                    waiting_rows=int(r.get("waiting_rows") or 0),
                    balanced=bool(r["balanced"]),
                )
                for r in doc.get("reconciliation") or []
            ],
            rejected=[
                RejectedRows(
                    table=str(q["table"]),
                    kind=str(q["kind"]),
                    reason=str(q["reason"]),
                    rows=int(q["rows"] or 0),
                )
                for q in doc.get("rejected") or []
            ],  # fmt: skip
        )
