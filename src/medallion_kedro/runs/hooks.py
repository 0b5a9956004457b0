"""``RunRecordHooks``: every ``kedro run`` leaves a record in the lake and OpenLineage events.

Timeline of one run (sequential runner):

* ``before_pipeline_run`` (after the other hooks' checks passed): runs an earlier run left
  ``running`` on this host whose process is gone are marked ``killed``; this run gets an
  id (:func:`current_run_id`), a ``running`` row in ``quality.runs`` and an OpenLineage START.
* each node: the rows of every dataset it loads and saves are counted when that is cheap
  (:mod:`medallion_kedro.runs.counting`); when its last output is saved it logs one INFO
  line, its row joins ``quality.node_runs`` (the run's file there is rewritten, so a killed
  run keeps the nodes that finished) and its own OpenLineage START/COMPLETE pair is sent.
* ``after_pipeline_run`` / ``on_pipeline_error``: the final row (``succeeded``, or ``failed``
  with the error) with the reconciliation counts and the quarantined rows by reason, and the
  run's COMPLETE or FAIL event with its inputs, outputs and row counts. A run that exported
  (or kept the export current) then refreshes the run history that export serves, so the
  API shows this run's final state (:func:`~medallion_kedro.runs.provenance.publish_history`).

Writing the history never fails a run: a record that cannot be written is logged as an
error and the run's own outcome stands.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from kedro import __version__ as kedro_version
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node

from medallion_kedro.datasets.parquet_folder import ParquetFolderDataset
from medallion_kedro.lake.changes import KeyedChanges
from medallion_kedro.mongo_auth import redact
from medallion_kedro.public_errors import public_text
from medallion_kedro.runs.counting import cheap_rows, is_table, rows_by_reason, table_parts
from medallion_kedro.runs.provenance import (
    git_commit,
    process_gone,
    project_version,
    publish_history,
)
from medallion_kedro.runs.records import (
    FAILED,
    KILLED,
    RUNNING,
    SUCCEEDED,
    NodeRecord,
    latest,
    node_runs_frame,
    runs_frame,
)

if TYPE_CHECKING:
    from medallion_kedro.runs.lineage import LineageEmitter

log = logging.getLogger(__name__)

# OpenLineage's client (a heavy import) is imported by the first run that emits an event,
# not with the project's settings: a run with nothing new never needs it.


def _new_uuid(at: datetime) -> str:
    """A time-ordered run id (UUIDv7), as OpenLineage expects."""
    from openlineage.client.uuid import generate_new_uuid

    return str(generate_new_uuid(at))


RUNS_DATASET = "quality.runs"
NODE_RUNS_DATASET = "quality.node_runs"
RECONCILIATION_DATASET = "quality.reconciliation"
QUALITY_PREFIXES = {"quality.rejected_": "rejected", "quality.warnings_": "warning"}
#: Environment variable holding the id of the ``kedro run`` in progress (set for its
#: duration, read by the export to name the run it publishes).
RUN_ID_VARIABLE = "MEDALLION_RUN_ID"
PROJECT = "medallion_kedro"

_current: str | None = None


def current_run_id() -> str | None:
    """The id of the run in progress in this process (also in ``$MEDALLION_RUN_ID``)."""
    return _current


def _now() -> datetime:
    return datetime.now(UTC)


def _forks_workers(run_params: dict[str, Any]) -> bool:
    """True for Kedro's ParallelRunner, which forks worker processes."""
    return "ParallelRunner" in str(run_params.get("runner") or "")


def _describe_error(error: BaseException) -> str:
    """What the records and lineage events keep of an error: its public form, which never
    quotes a landing file's values (:mod:`medallion_kedro.public_errors`)."""
    return public_text(error)


def _console_error(error: BaseException) -> str:
    """An error as the run's console shows it: whole, MongoDB passwords redacted."""
    return redact(f"{type(error).__name__}: {error}")


def _stage_tags(node: Node) -> list[str]:
    return sorted(node.tags)


@dataclass
class _Run:
    """State of the run in progress."""

    run_id: str
    catalog: Any
    base: dict[str, Any]
    pipeline: Pipeline
    lineage: LineageEmitter
    job: str
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    saved: set[str] = field(default_factory=set)
    done: list[NodeRecord] = field(default_factory=list)
    reconciliation: list[dict[str, Any]] = field(default_factory=list)
    quality: list[dict[str, Any]] = field(default_factory=list)
    persisted: dict[str, bool] = field(default_factory=dict)
    #: rows of each table of a dataset saved as several tables at once (``mongo.gold``)
    part_rows: dict[str, dict[str, int | None]] = field(default_factory=dict)
    #: The MongoDB export run this run published (the manifest's ``run_id``), if any.
    export_run_id: str | None = None
    #: (dataset, export run) serving this run's history: the run it published or kept.
    served_export: tuple[str, str] | None = None

    def is_persisted(self, name: str) -> bool:
        if name not in self.persisted:
            try:
                dataset = self.catalog.get(name)
            except Exception:  # noqa: BLE001 - an unresolvable name is simply not counted
                dataset = None
            self.persisted[name] = dataset is not None and not isinstance(dataset, MemoryDataset)
        return self.persisted[name]


class RunRecordHooks:
    """Record each run in ``quality.runs``/``quality.node_runs`` and emit OpenLineage events."""

    def __init__(self) -> None:
        self._context: KedroContext | None = None
        self._run: _Run | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._context = context

    # -- run --------------------------------------------------------------------------

    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        from openlineage.client.event_v2 import RunState

        global _current
        started = _now()
        run_id = _new_uuid(started)
        project_path = Path(run_params.get("project_path") or Path.cwd())
        commit, dirty = git_commit(project_path)
        names = run_params.get("pipeline_names") or ["__default__"]
        job = f"{PROJECT}.{'+'.join(names)}"
        base = {
            "run_id": run_id,
            "session_id": run_params.get("run_id") or run_params.get("session_id"),
            "pipelines": list(names),
            "env": run_params.get("env") or "local",  # Kedro's default run environment
            "project_version": project_version(),
            "kedro_version": kedro_version,
            "git_commit": commit,
            "git_dirty": dirty,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": started,
            "nodes_total": len(pipeline.nodes),
        }
        self._run = _Run(run_id, catalog, base, pipeline, self._lineage(catalog), job)
        _current = run_id
        os.environ[RUN_ID_VARIABLE] = run_id
        if _forks_workers(run_params):
            # polars must not start its thread pool before the runner forks its workers (the
            # children would deadlock), so this run is recorded only once it has ended.
            log.info("run %s: ParallelRunner, recorded when it ends", run_id)
        else:
            self._mark_orphans_killed(catalog)
            self._write_run(RUNNING)
        log.info("run %s started: pipelines %s, env %s", run_id, ",".join(names), base["env"])
        run = self._run
        run.lineage.emit(
            RunState.START, run_id=run_id, job=job, at=started,
            inputs=sorted(pipeline.inputs()), outputs=sorted(pipeline.outputs()),
        )  # fmt: skip

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._finish(SUCCEEDED, None)

    @hook_impl
    def on_pipeline_error(self, error: Exception) -> None:
        self._finish(FAILED, error)

    def _finish(self, status: str, error: BaseException | None) -> None:
        from openlineage.client.event_v2 import RunState

        global _current
        run = self._run
        if run is None:
            return
        ended = _now()
        for record in list(run.nodes.values()):  # started, never finished: the failing node
            record.status, record.finished_at = FAILED, ended
            record.error = record.error or (_describe_error(error) if error else None)
            self._node_done(record)
        self._write_run(status, finished_at=ended, error=error)
        self._publish_history()
        state = RunState.COMPLETE if status == SUCCEEDED else RunState.FAIL
        run.lineage.emit(
            state, run_id=run.run_id, job=run.job, at=ended,
            inputs=sorted({d for n in run.done for d in n.inputs} - set(run.saved)),
            outputs={d: n.outputs[d] for n in run.done for d in n.outputs},
            error=_describe_error(error) if error else None, part_rows=run.part_rows,
        )  # fmt: skip
        run.lineage.close()
        seconds = (ended - run.base["started_at"]).total_seconds()
        log.info("run %s %s in %.1f s (%d nodes)", run.run_id, status, seconds, len(run.done))
        self._run = None
        _current = None
        os.environ.pop(RUN_ID_VARIABLE, None)

    # -- nodes ------------------------------------------------------------------------

    def _node(self, node: Node) -> NodeRecord:
        from openlineage.client.event_v2 import RunState

        assert self._run is not None
        record = self._run.nodes.get(node.name)
        if record is None:
            record = NodeRecord(
                seq=len(self._run.done) + len(self._run.nodes) + 1,
                node=node.name,
                tags=_stage_tags(node),
                started_at=_now(),
            )
            self._run.nodes[node.name] = record
            self._run.lineage.emit(
                RunState.START, run_id=self._node_run_id(record), job=self._node_job(node),
                at=record.started_at, inputs=sorted(node.inputs), outputs=sorted(node.outputs),
                parent=(self._run.run_id, self._run.job),
            )  # fmt: skip
        return record

    def _node_job(self, node: Node | NodeRecord) -> str:
        return f"{PROJECT}.{getattr(node, 'node', None) or getattr(node, 'name', '')}"

    def _node_run_id(self, record: NodeRecord) -> str:
        if not record.lineage_run_id:
            record.lineage_run_id = _new_uuid(record.started_at)
        return record.lineage_run_id

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Node) -> None:
        if self._run is not None:
            self._node(node)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Node) -> None:
        if self._run is not None and is_table(data):
            self._node(node).inputs[dataset_name] = self._count(dataset_name, data, saved=False)

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        if self._run is not None:
            self._node(node)

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        if self._run is not None and not node.outputs:
            self._complete(self._node(node))

    @hook_impl
    def on_node_error(self, error: Exception, node: Node) -> None:
        if self._run is not None:
            self._node(node).error = _describe_error(error)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        run = self._run
        if run is None:
            return
        record = self._node(node)
        record.saved += 1
        if isinstance(data, KeyedChanges) and run.is_persisted(dataset_name):
            data = run.catalog.load(dataset_name)  # a change of some keys: the table as saved
        if is_table(data):
            rows = self._count(dataset_name, data, saved=True)
            record.outputs[dataset_name] = rows
            run.saved.add(dataset_name)
            self._collect_quality(dataset_name, data)
        elif (parts := table_parts(data)) is not None:  # several tables in one save
            counts = {table: cheap_rows(frame) for table, frame in parts.items()}
            known = [n for n in counts.values() if n is not None]
            record.outputs[dataset_name] = sum(known) if len(known) == len(counts) else None
            run.part_rows[dataset_name] = counts
            run.saved.add(dataset_name)
            self._collect_export(dataset_name)
        else:
            self._collect_export(dataset_name)
        if record.saved == len(node.outputs):
            self._complete(record)

    def _count(self, name: str, data: Any, *, saved: bool) -> int | None:
        assert self._run is not None
        rows = cheap_rows(data)
        if rows is None and saved and self._run.is_persisted(name):
            try:  # the saved table's scan answers from the file footers
                rows = cheap_rows(self._run.catalog.load(name))
            except Exception:  # noqa: BLE001 - a count is a nicety, never a failure
                rows = None
        return rows

    def _collect_quality(self, name: str, data: Any) -> None:
        assert self._run is not None
        if name == RECONCILIATION_DATASET and isinstance(data, pl.DataFrame):
            self._run.reconciliation = data.to_dicts()
            return
        for prefix, kind in QUALITY_PREFIXES.items():
            if name.startswith(prefix):
                table = name.removeprefix(prefix)
                self._run.quality = [
                    q for q in self._run.quality if q["table"] != table or q["kind"] != kind
                ]
                self._run.quality.extend(rows_by_reason(data, table, kind))

    def _collect_export(self, name: str) -> None:
        """An export dataset names the export run it published: the run record keeps it."""
        assert self._run is not None
        try:
            dataset = self._run.catalog.get(name)
        except Exception:  # noqa: BLE001 - not a dataset of the catalog: nothing to record
            return
        published = getattr(dataset, "published_run_id", None)
        served = published or getattr(dataset, "kept_run_id", None)
        if isinstance(served, str):
            self._run.served_export = (name, served)
        if isinstance(published, str):
            self._run.export_run_id = published
            log.info("run %s published export run %s (%s)", self._run.run_id, published, name)

    def _complete(self, record: NodeRecord) -> None:
        assert self._run is not None
        record.status, record.finished_at = SUCCEEDED, _now()
        self._node_done(record)
        log.info(
            "node %s: rows in %s, out %s, %.2f s",
            record.node, _rows_text(record.inputs), _rows_text(record.outputs), record.seconds,
        )  # fmt: skip

    def _node_done(self, record: NodeRecord) -> None:
        from openlineage.client.event_v2 import RunState

        run = self._run
        assert run is not None
        run.nodes.pop(record.node, None)
        run.done.append(record)
        state = RunState.COMPLETE if record.status == SUCCEEDED else RunState.FAIL
        run.lineage.emit(
            state, run_id=self._node_run_id(record), job=self._node_job(record),
            at=record.finished_at or _now(), inputs=sorted(record.inputs), outputs=record.outputs,
            parent=(run.run_id, run.job),
            error=record.error, part_rows=run.part_rows,
        )  # fmt: skip
        if os.getpid() == run.base["pid"]:  # not from a worker the runner forked
            self._save(NODE_RUNS_DATASET, node_runs_frame(run.run_id, run.done))

    # -- writing ----------------------------------------------------------------------

    def _publish_history(self) -> None:
        run = self._run
        assert run is not None
        if run.served_export is None or os.getpid() != run.base["pid"]:
            return
        name, export_run = run.served_export
        try:
            publish_history(run.catalog, name, export_run)
        except Exception as exc:  # noqa: BLE001 - the history must not fail the run
            log.error(
                "could not refresh the run history of export run %s (%s); the API shows it "
                "as of the export. The next export publishes it again.",
                export_run, _describe_error(exc),
            )  # fmt: skip

    def _write_run(
        self,
        status: str,
        *,
        finished_at: datetime | None = None,
        error: BaseException | None = None,
    ) -> None:
        run = self._run
        assert run is not None
        row = {
            **run.base,
            "status": status,
            "updated_at": _now(),
            "finished_at": finished_at,
            "seconds": (
                (finished_at - run.base["started_at"]).total_seconds() if finished_at else None
            ),
            "nodes_done": sum(1 for n in run.done if n.status == SUCCEEDED),
            "error": _describe_error(error) if error else None,
            "export_run_id": run.export_run_id,
            "reconciliation": run.reconciliation,
            "quality": run.quality,
        }
        self._save(RUNS_DATASET, runs_frame([row]))

    def _save(self, name: str, frame: pl.DataFrame) -> None:
        assert self._run is not None
        try:
            # through the dataset, not ``catalog.save``: the history is not pipeline data,
            # so it adds no "Saving data to ..." line to the run log after every node
            self._run.catalog.get(name).save(frame)
        except Exception as exc:  # noqa: BLE001 - the history must not fail the run
            log.error(
                "could not write %s for run %s (%s); the run itself goes on. Check the catalog "
                "entry %s and that the lake is writable.",
                name, self._run.run_id, _console_error(exc), name,
            )  # fmt: skip

    def _mark_orphans_killed(self, catalog: Any) -> None:
        """Runs left ``running`` by a process of this host that is gone become ``killed``."""
        try:
            history = _unfinished_runs(catalog)
        except Exception as exc:  # noqa: BLE001
            log.warning(
                "could not read %s to find killed runs: %s", RUNS_DATASET, _console_error(exc)
            )
            return
        if history.is_empty():
            return
        host = socket.gethostname()
        orphans = latest(history).filter((pl.col("status") == RUNNING) & (pl.col("host") == host))
        for row in orphans.iter_rows(named=True):
            if not process_gone(row["pid"], row["started_at"]):
                continue
            assert self._run is not None
            row.update(
                status=KILLED,
                updated_at=_now(),
                error=(
                    f"process {row['pid']} on {host} ended without recording an outcome "
                    f"(killed or crashed); found by run {self._run.run_id}"
                ),
            )
            self._save(RUNS_DATASET, runs_frame([row]))
            log.warning("run %s was killed before it finished: marked %s", row["run_id"], KILLED)

    def _lineage(self, catalog: Any) -> LineageEmitter:
        from medallion_kedro.runs.lineage import (
            LineageEmitter,
            make_locator,
            transport_from_environment,
        )

        lake, credentials, mongo_uri = self._lake_settings()
        try:
            transport = transport_from_environment(lake, credentials)
        except Exception as exc:  # noqa: BLE001 - lineage is best effort
            log.warning("OpenLineage events are off: %s", _console_error(exc))
            transport = None
        database = _described(catalog, "database")
        locator = make_locator(lake, mongo_uri, database, _collections_of(catalog))
        return LineageEmitter(transport, locator)

    def _lake_settings(self) -> tuple[str, dict[str, Any], str]:
        """(lake root, S3 credentials, MongoDB URI) from the project's configuration."""
        if self._context is None:
            return "data/lake", {}, ""
        loader = self._context.config_loader
        lake = str(loader["globals"].get("lake", "data/lake"))
        if "://" not in lake:
            lake = str(self._context.project_path / lake)
        try:
            credentials = loader["credentials"]
        except Exception:  # noqa: BLE001 - missing variables: no credentials then
            credentials = {}
        s3 = dict(credentials.get("lake") or {}) if lake.startswith("s3://") else {}
        return lake, s3, str((credentials.get("mongo") or {}).get("uri", ""))


def _unfinished_runs(catalog: Any) -> pl.DataFrame:
    """Rows of ``quality.runs`` that may still be ``running``.

    A :class:`ParquetFolderDataset` named ``<run_id>.<status>.parquet`` is listed and only
    the runs without a final file are read, so the check stays cheap as the history grows;
    any other dataset is read whole.
    """
    dataset = catalog.get(RUNS_DATASET)
    if not isinstance(dataset, ParquetFolderDataset):
        return catalog.load(RUNS_DATASET)
    names = dataset.file_names()
    states: dict[str, set[str]] = {}
    for name in names:
        run_id, _, rest = name.partition(".")
        states.setdefault(run_id, set()).add(rest.removesuffix(".parquet"))
    open_runs = {run for run, seen in states.items() if seen == {RUNNING}}
    return dataset.load_files([n for n in names if n.partition(".")[0] in open_runs])


def _described(catalog: Any, key: str) -> Callable[[str], str | None]:
    """``key`` of what a catalog dataset describes itself with (MongoDB datasets name their
    ``database``)."""

    def value(name: str) -> str | None:
        try:
            described = catalog.get(name)._describe()
        except Exception:  # noqa: BLE001 - not a dataset that describes that
            return None
        found = described.get(key) if isinstance(described, dict) else None
        return str(found) if found else None

    return value


def _collections_of(catalog: Any) -> Callable[[str], list[str] | None]:
    """The tables a catalog dataset publishes together (``collections``), if it does."""

    def collections(name: str) -> list[str] | None:
        try:
            described = catalog.get(name)._describe()
        except Exception:  # noqa: BLE001 - not a dataset that describes collections
            return None
        found = described.get("collections") if isinstance(described, dict) else None
        return [str(c) for c in found] if isinstance(found, list | tuple) else None

    return collections


def _rows_text(rows: dict[str, int | None]) -> str:
    if not rows:
        return "-"
    return ", ".join(f"{name}={'?' if n is None else f'{n:,}'}" for name, n in rows.items())
