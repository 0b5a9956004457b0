"""Project hooks: data contracts on save; the lake's pre-flight check, lock, consistency
gate and commits."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import polars as pl
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol
from kedro.pipeline import Node, Pipeline

from medallion_kedro.datasets import _commit, is_a
from medallion_kedro.lake import check_consistent, check_lake, lake_at
from medallion_kedro.lake_lock import LakeLock
from medallion_kedro.schemas import check_schema, contract_of

if TYPE_CHECKING:
    from medallion_kedro.datasets.delta_table import DeltaTableDataset
    from medallion_kedro.datasets.parquet_table import ParquetTableDataset

    LakeTable = ParquetTableDataset | DeltaTableDataset

log = logging.getLogger(__name__)

#: The dataset types that are lake tables published through the commit record (by name:
#: see ``datasets.is_a``).
LAKE_TABLES = ("ParquetTableDataset", "DeltaTableDataset")


def _commit_units(pipeline: Pipeline, tables: dict[str, LakeTable]) -> list[set[str]]:
    """Groups of lake tables the pipeline writes that are published together.

    A layer is published when all its tables the pipeline writes are saved; layers written
    by one node (silver and quality, by ``reconcile``) are one group.
    """
    outputs = {name for name in pipeline.all_outputs() if name in tables}
    groups: list[set[str]] = []
    for layer in sorted({tables[n].layer for n in outputs}):
        groups.append({tables[n].key for n in outputs if tables[n].layer == layer})
    for node in pipeline.nodes:
        layers = {tables[o].layer for o in node.outputs if o in tables}
        touched = [g for g in groups if any(k.split(".", 1)[0] in layers for k in g)]
        if len(touched) > 1:
            groups = [g for g in groups if g not in touched] + [set().union(*touched)]
    return groups


class ContractHooks:
    """Check every saved table that has a contract (``silver.*``, ``gold.*``, the quality
    tables of fixed shape) against it, before anything is written: a node whose output
    drifts from ``medallion_kedro/schemas.py`` fails the run, naming table and column."""

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        expected = contract_of(dataset_name)
        if expected is None:
            return
        if type(data).__module__.startswith("pyspark."):
            from medallion_kedro.datasets.spark_lake import polars_schema

            # checked on the types it is written with, without running a Spark job
            data = pl.LazyFrame(schema=polars_schema(data))
        check_schema(data, expected, f"{dataset_name} (output of node {node.name})")


class LakePreflightHooks:
    """Guard every run that touches the lake.

    Before the first node: check the lake is reachable and writable; take the lake lock
    when the run writes to the lake (a second run fails cleanly); remove what killed runs
    left (temporary files, unpublished versions); refuse input tables that do not belong
    together (bronze of different batches, silver or gold of different runs). During the
    run: publish each stage's tables together once all are saved. On error: publish
    nothing more, remove the unpublished versions. Always: release the lock.
    """

    def __init__(self) -> None:
        self._context: KedroContext | None = None
        self._lock: LakeLock | None = None
        self._transaction: _commit.Transaction | None = None
        self._units: list[set[str]] = []

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._context = context

    def _lake_root(self) -> tuple[str, dict[str, Any] | None]:
        assert self._context is not None
        loader = self._context.config_loader
        lake = str(loader["globals"].get("lake", "data/lake"))
        if lake.startswith("s3://"):
            return lake, loader["credentials"].get("lake")
        return str(self._context.project_path / lake), None

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        if self._context is None:
            return
        uri, credentials = self._lake_root()
        check_lake(uri, credentials)
        if "ParallelRunner" in str(run_params.get("runner", "")):
            raise RuntimeError(
                "The lake's commit protocol needs the runs' nodes in one process: use the "
                "default runner or `--runner ThreadRunner`, not ParallelRunner."
            )
        datasets = {name: catalog.get(name) for name in sorted(pipeline.datasets())}
        tables = {n: cast("LakeTable", d) for n, d in datasets.items() if is_a(d, *LAKE_TABLES)}
        writes_lake = any(
            is_a(datasets[n], *LAKE_TABLES, "LandingCSVDataset") for n in pipeline.all_outputs()
        )
        if not tables and not writes_lake:
            return
        lake = lake_at(uri, credentials)
        run_id = _commit.new_run_id()
        if writes_lake:
            self._lock = LakeLock(lake, run_id)
            self._lock.acquire()
        try:
            record = lake.read_record()
            if writes_lake:
                known = set(record.get("tables", {})) | {t.key for t in tables.values()}
                lake.prune(known, record, keep=set())
                restored = [
                    cast("DeltaTableDataset", table).restore_named(record)
                    for table in tables.values()
                    if is_a(table, "DeltaTableDataset")
                ]
                if any(restored):
                    lake.write_record(record)
            inputs = {tables[n].key: tables[n] for n in pipeline.inputs() if n in tables}
            check_consistent(inputs, record)
        except BaseException:
            self._release()
            raise
        if tables:
            # the version of every lake table the run reads: committed, or its own
            read = {tables[n].key for node in pipeline.nodes for n in node.inputs if n in tables}
            sources = {
                key: str(record["tables"].get(key, {}).get("version", "single file"))
                if key in inputs
                else run_id
                for key in sorted(read)
            }
            self._transaction = _commit.Transaction(lake, run_id, sources)
            self._units = _commit_units(pipeline, tables)
            _commit.begin(self._transaction)
            log.info("lake: run %s on %s", run_id, lake.uri)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        # after each save, not after_node_run: Kedro calls that before the node's outputs
        # are saved, so a stage's last table would wait for the next node to be published
        transaction = self._transaction
        if transaction is None:
            return
        transaction.commit_complete(self._units)

    @hook_impl
    def after_pipeline_run(self) -> None:
        transaction = self._transaction
        try:
            if transaction is not None and transaction.pending():
                transaction.commit(transaction.pending())
        finally:
            self._release()

    @hook_impl
    def on_pipeline_error(self) -> None:
        try:
            if self._transaction is not None:
                self._transaction.discard()
        finally:
            self._release()

    def _release(self) -> None:
        if self._transaction is not None:
            _commit.end(self._transaction.lake)
            self._transaction = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
