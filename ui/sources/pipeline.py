"""Provenance and run history of a source: which run it serves, past runs, data quality.

The lake answers from the Kedro catalog (``lake.gold_versions``, ``quality.runs``,
``quality.node_runs``, ``quality.rejected_<table>``); the API from the export it serves
(``dataset``, ``runs``, ``dataQuality``). Both give the same frames, so the Pipeline tab and
the header draw them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import polars as pl

from medallion_kedro.run_stages import stage_rows
from medallion_kedro.runs.records import history, latest
from ui.sources.base import DataSource, SourceError, SourceUnavailableError
from ui.sources.graphql import GraphQLSource
from ui.sources.lake import LakeSource, kedro_catalog

_TEXT, _COUNT, _TIME = pl.String, pl.Int64, pl.Datetime("us", "UTC")
#: Columns of :meth:`PipelineSource.runs` and their types.
RUN_SCHEMA: dict[str, Any] = {
    "run_id": _TEXT,
    "status": _TEXT,
    "pipelines": _TEXT,
    "started_at": _TIME,
    "seconds": pl.Float64,
    "rows_by_stage": _TEXT,
    "export_run_id": _TEXT,
    "error": _TEXT,
}
#: Columns of :meth:`PipelineSource.quality` and their types.
QUALITY_SCHEMA: dict[str, Any] = {
    "run_id": _TEXT,
    "started_at": _TIME,
    "table": _TEXT,
    "kind": _TEXT,
    "reason": _TEXT,
    "rows": _COUNT,
}
#: Columns of :meth:`PipelineSource.reconciliation` and their types.
RECONCILIATION_SCHEMA: dict[str, Any] = {
    "table": _TEXT,
    "bronze_rows": _COUNT,
    "silver_rows": _COUNT,
    "rejected_rows": _COUNT,
    "duplicates_removed": _COUNT,
    "waiting_rows": _COUNT,  # orders whose customer is not in silver yet
    "balanced": pl.Boolean,
}
RUN_COLUMNS = tuple(RUN_SCHEMA)
QUALITY_COLUMNS = tuple(QUALITY_SCHEMA)
RECONCILIATION_COLUMNS = tuple(RECONCILIATION_SCHEMA)
#: Quarantined tables, their key, and the columns shown (never names or emails).
QUARANTINE: dict[str, tuple[str, tuple[str, ...]]] = {
    "orders": ("order_id", ("customer_id", "order_date", "amount", "product")),
    "customers": ("customer_id", ("signup_date", "country")),
}


@dataclass(frozen=True)
class Provenance:
    """Which data a source serves: the gold lake run, and for the API the export run."""

    gold_run: str | None
    gold_committed_at: datetime | None
    export_run: str | None = None
    exported_at: datetime | None = None
    pipeline_run: str | None = None


class PipelineSource(Protocol):
    """What the Pipeline tab reads from a source; methods raise :class:`SourceError`."""

    def provenance(self) -> Provenance: ...

    def runs(self, last: int) -> pl.DataFrame:
        """The ``last`` runs, newest first, with :data:`RUN_COLUMNS`."""
        ...

    def quality(self, last: int) -> pl.DataFrame:
        """Rejected (and warned) rows by reason of the last runs that checked data."""
        ...

    def reconciliation(self) -> tuple[str | None, pl.DataFrame]:
        """The last run that reconciled, and its counts (:data:`RECONCILIATION_COLUMNS`)."""
        ...

    def quarantine(self, n: int) -> pl.DataFrame | None:
        """Up to ``n`` quarantined rows per table with their reason; ``None`` if not served."""
        ...


def _utc(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _stage_text(stages: Sequence[Mapping[str, Any]]) -> str:
    def rows(n: Any) -> str:
        return "?" if n is None else f"{int(n):,}"

    return "; ".join(f"{s['stage']} {rows(s['rows_in'])} → {rows(s['rows_out'])}" for s in stages)


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    """``rows`` as a frame of ``schema``'s columns (other keys are left out)."""
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _snake(doc: dict[str, Any]) -> dict[str, Any]:
    """An API object with its field names as the frames' column names (``runId``: ``run_id``)."""
    return {_CAMEL.sub("_", k).lower(): v for k, v in doc.items()}


class LakePipeline:
    """The lake's own record of its runs, through the Kedro catalog."""

    def __init__(self, source: LakeSource) -> None:
        self._source = source

    def _load(self, name: str) -> Any:
        catalog = kedro_catalog(self._source._project_path, self._source._env)
        try:
            return catalog.load(name)
        except Exception as exc:
            raise SourceUnavailableError(
                f"The lake has no readable `{name}` ({self._source.describe()}): run the "
                f"pipelines with `kedro run` first. Cause: {str(exc).splitlines()[0][:200]}"
            ) from exc

    def provenance(self) -> Provenance:
        versions: dict[str, dict[str, Any]] = self._load("lake.gold_versions")
        if not versions:
            raise SourceUnavailableError(
                f"The lake has no gold tables yet ({self._source.describe()}): run `kedro run`."
            )
        runs = {e.get("run_id") for e in versions.values()}
        committed = [_utc(e.get("committed_at")) for e in versions.values()]
        return Provenance(
            gold_run=str(runs.pop()) if len(runs) == 1 else None,
            gold_committed_at=max((c for c in committed if c), default=None),
        )

    def _history(self, last: int | None = None) -> pl.DataFrame:
        runs = self._load("quality.runs")
        if not isinstance(runs, pl.DataFrame) or runs.is_empty():
            raise SourceUnavailableError("The lake has no run history yet: run `kedro run`.")
        node_runs = self._load("quality.node_runs")
        if not isinstance(node_runs, pl.DataFrame):
            node_runs = pl.DataFrame()
        return history(runs, node_runs if node_runs.width else pl.DataFrame(), last=last)

    def runs(self, last: int) -> pl.DataFrame:
        rows = [
            {
                **run,
                "pipelines": ", ".join(run.get("pipelines") or []),
                "rows_by_stage": _stage_text(list(stage_rows(run.get("nodes") or []))),
            }
            for run in self._history(last).iter_rows(named=True)
        ]
        return _frame(rows, RUN_SCHEMA)

    def quality(self, last: int) -> pl.DataFrame:
        current = latest(self._load("quality.runs"))
        rows = []
        checked = current.filter(pl.col("quality").list.len() > 0).head(last)
        for run in checked.iter_rows(named=True):
            for q in run["quality"]:
                rows.append({"run_id": run["run_id"], "started_at": run["started_at"], **q})
        return _frame(rows, QUALITY_SCHEMA)

    def reconciliation(self) -> tuple[str | None, pl.DataFrame]:
        current = latest(self._load("quality.runs"))
        done = current.filter(pl.col("reconciliation").list.len() > 0)
        if done.is_empty():
            return None, _frame([], RECONCILIATION_SCHEMA)
        run = done.row(0, named=True)
        return str(run["run_id"]), _frame(run["reconciliation"], RECONCILIATION_SCHEMA)

    def quarantine(self, n: int) -> pl.DataFrame | None:
        parts = []
        for table, (key, columns) in QUARANTINE.items():
            frame = self._load(f"quality.rejected_{table}")
            head = (
                frame.head(n) if isinstance(frame, pl.LazyFrame) else frame.lazy().head(n)
            ).collect()
            values = [
                pl.format(f"{c}={{}}", pl.col(c).cast(pl.String).fill_null("∅"))
                for c in columns
                if c in head.columns
            ]
            parts.append(
                head.select(
                    pl.lit(table).alias("table"),
                    pl.col(key).cast(pl.String).alias("key"),
                    pl.concat_str(values, separator=", ").alias("values"),
                    pl.col("reason"),
                )
            )
        return pl.concat(parts)


_RUNS_QUERY = """query($last: Int!) { runs(last: $last) { runId status pipelines startedAt
  seconds exportRunId error stages { stage rowsIn rowsOut } } }"""
_QUALITY_QUERY = """query($last: Int!) { dataQuality(last: $last) { runId startedAt
  reconciliation {
    table bronzeRows silverRows rejectedRows duplicatesRemoved waitingRows balanced
  }
  rejected { table kind reason rows } } }"""
_DATASET_QUERY = """{ dataset { runId exportedAt pipelineRunId lakeVersion lakeCommittedAt } }"""


class ApiPipeline:
    """The run history the API serves: published by the export with the gold tables."""

    def __init__(self, source: GraphQLSource) -> None:
        self._source = source

    def provenance(self) -> Provenance:
        d = self._source._query(_DATASET_QUERY)["dataset"]
        return Provenance(
            gold_run=d.get("lakeVersion"),
            gold_committed_at=_utc(d.get("lakeCommittedAt")),
            export_run=d.get("runId"),
            exported_at=_utc(d.get("exportedAt")),
            pipeline_run=d.get("pipelineRunId"),
        )

    def runs(self, last: int) -> pl.DataFrame:
        runs = self._source._query(_RUNS_QUERY, {"last": last})["runs"]
        rows = [
            {
                **_snake(run),
                "pipelines": ", ".join(run["pipelines"]),
                "started_at": _utc(run["startedAt"]),
                "rows_by_stage": _stage_text([_snake(stage) for stage in run["stages"]]),
            }
            for run in runs
        ]
        return _frame(rows, RUN_SCHEMA)

    def _quality(self, last: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._source._query(_QUALITY_QUERY, {"last": last})[
            "dataQuality"
        ]
        return result

    def quality(self, last: int) -> pl.DataFrame:
        rows = [
            {"run_id": run["runId"], "started_at": _utc(run["startedAt"]), **rejected}
            for run in self._quality(last)
            for rejected in run["rejected"]
        ]
        return _frame(rows, QUALITY_SCHEMA)

    def reconciliation(self) -> tuple[str | None, pl.DataFrame]:
        for q in self._quality(10):
            if q["reconciliation"]:
                rows = [_snake(r) for r in q["reconciliation"]]
                return str(q["runId"]), _frame(rows, RECONCILIATION_SCHEMA)
        return None, _frame([], RECONCILIATION_SCHEMA)

    def quarantine(self, n: int) -> pl.DataFrame | None:
        return None  # quarantined rows hold raw personal data: the API does not publish them


def pipeline_of(source: DataSource) -> PipelineSource:
    """The run history and provenance of ``source`` (the lake or the API)."""
    if isinstance(source, LakeSource):
        return LakePipeline(source)
    if isinstance(source, GraphQLSource):
        return ApiPipeline(source)
    pipeline = getattr(source, "pipeline", None)
    if callable(pipeline):
        result: PipelineSource = pipeline()
        return result
    raise SourceError(f"{source.label} has no run history to show.")
