"""Provenance and run history of a source: which run it serves, past runs, data quality.

The lake answers from the Kedro catalog (``lake.gold_versions``, ``quality.runs``,
``quality.node_runs``, ``quality.rejected_<table>``); the API from the export it serves
(``dataset``, ``runs``, ``dataQuality``). Both give the same frames, so the Pipeline tab and
the header draw them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import polars as pl

from medallion_kedro.runs.records import history, latest
from ui.sources.base import DataSource, SourceError, SourceUnavailableError
from ui.sources.graphql import GraphQLSource
from ui.sources.lake import LakeSource, kedro_catalog

#: Columns of :meth:`PipelineSource.runs`.
RUN_COLUMNS = ("run_id", "status", "pipelines", "started_at", "seconds", "rows_by_stage",
               "export_run_id", "error")  # fmt: skip
#: Columns of :meth:`PipelineSource.quality`.
QUALITY_COLUMNS = ("run_id", "started_at", "table", "kind", "reason", "rows")
#: Columns of :meth:`PipelineSource.reconciliation`.
RECONCILIATION_COLUMNS = ("table", "bronze_rows", "silver_rows", "rejected_rows",
                          "duplicates_removed", "balanced")  # fmt: skip
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


def _stage_text(stages: list[dict[str, Any]]) -> str:
    def rows(n: Any) -> str:
        return "?" if n is None else f"{int(n):,}"

    return "; ".join(f"{s['stage']} {rows(s['rows_in'])} → {rows(s['rows_out'])}" for s in stages)


def _stages(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for node in nodes:
        tags = node.get("tags") or []
        stage = out.setdefault(
            tags[0] if tags else "other",
            {"stage": tags[0] if tags else "other", "rows_in": None, "rows_out": None},
        )
        for key in ("rows_in", "rows_out"):
            if node.get(key) is not None:
                stage[key] = (stage[key] or 0) + int(node[key])
    return list(out.values())


def _runs_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema: dict[str, Any] = {"run_id": pl.String, "status": pl.String, "pipelines": pl.String,
              "started_at": pl.Datetime("us", "UTC"), "seconds": pl.Float64,
              "rows_by_stage": pl.String, "export_run_id": pl.String,
              "error": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def _quality_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema: dict[str, Any] = {"run_id": pl.String, "started_at": pl.Datetime("us", "UTC"),
              "table": pl.String, "kind": pl.String, "reason": pl.String,
              "rows": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def _reconciliation_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema: dict[str, Any] = {"table": pl.String, "bronze_rows": pl.Int64, "silver_rows": pl.Int64,
              "rejected_rows": pl.Int64, "duplicates_removed": pl.Int64,
              "balanced": pl.Boolean}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


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
            {**{k: r.get(k) for k in ("run_id", "status", "started_at", "seconds",
                                      "export_run_id", "error")},
             "pipelines": ",".join(r.get("pipelines") or []),
             "rows_by_stage": _stage_text(_stages(r.get("nodes") or []))}
            for r in self._history(last).iter_rows(named=True)
        ]  # fmt: skip
        return _runs_frame(rows)

    def quality(self, last: int) -> pl.DataFrame:
        current = latest(self._load("quality.runs"))
        rows = []
        checked = current.filter(pl.col("quality").list.len() > 0).head(last)
        for run in checked.iter_rows(named=True):
            for q in run["quality"]:
                rows.append({"run_id": run["run_id"], "started_at": run["started_at"], **q})
        return _quality_frame(rows)

    def reconciliation(self) -> tuple[str | None, pl.DataFrame]:
        current = latest(self._load("quality.runs"))
        done = current.filter(pl.col("reconciliation").list.len() > 0)
        if done.is_empty():
            return None, _reconciliation_frame([])
        run = done.row(0, named=True)
        return str(run["run_id"]), _reconciliation_frame(run["reconciliation"])

    def quarantine(self, n: int) -> pl.DataFrame | None:
        parts = []
        for table, (key, columns) in QUARANTINE.items():
            frame = self._load(f"quality.rejected_{table}")
            head = (
                frame.head(n) if isinstance(frame, pl.LazyFrame) else frame.lazy().head(n)
            ).collect()
            shown = [c for c in (key, *columns) if c in head.columns]
            parts.append(
                head.select(
                    pl.lit(table).alias("table"),
                    pl.col(key).cast(pl.String).alias("key"),
                    pl.concat_str(
                        [pl.format(f"{c}={{}}", pl.col(c).cast(pl.String).fill_null("∅"))
                         for c in shown if c != key], separator=", "
                    ).alias("values"),
                    pl.col("reason"),
                )
            )  # fmt: skip
        return pl.concat(parts)


_RUNS_QUERY = """query($last: Int!) { runs(last: $last) { runId status pipelines startedAt
  seconds exportRunId error stages { stage rowsIn rowsOut } } }"""
_QUALITY_QUERY = """query($last: Int!) { dataQuality(last: $last) { runId startedAt
  reconciliation { table bronzeRows silverRows rejectedRows duplicatesRemoved balanced }
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
            {"run_id": r["runId"], "status": r["status"], "pipelines": ",".join(r["pipelines"]),
             "started_at": _utc(r["startedAt"]), "seconds": r["seconds"],
             "export_run_id": r["exportRunId"], "error": r["error"],
             "rows_by_stage": _stage_text([{"stage": s["stage"], "rows_in": s["rowsIn"],
                                            "rows_out": s["rowsOut"]} for s in r["stages"]])}
            for r in runs
        ]  # fmt: skip
        return _runs_frame(rows)

    def _quality(self, last: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._source._query(_QUALITY_QUERY, {"last": last})[
            "dataQuality"
        ]
        return result

    def quality(self, last: int) -> pl.DataFrame:
        rows = [
            {"run_id": q["runId"], "started_at": _utc(q["startedAt"]), "table": r["table"],
             "kind": r["kind"], "reason": r["reason"], "rows": r["rows"]}
            for q in self._quality(last) for r in q["rejected"]
        ]  # fmt: skip
        return _quality_frame(rows)

    def reconciliation(self) -> tuple[str | None, pl.DataFrame]:
        for q in self._quality(10):
            if q["reconciliation"]:
                rows = [
                    {"table": r["table"], "bronze_rows": r["bronzeRows"],
                     "silver_rows": r["silverRows"], "rejected_rows": r["rejectedRows"],
                     "duplicates_removed": r["duplicatesRemoved"], "balanced": r["balanced"]}
                    for r in q["reconciliation"]
                ]  # fmt: skip
                return str(q["runId"]), _reconciliation_frame(rows)
        return None, _reconciliation_frame([])

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
