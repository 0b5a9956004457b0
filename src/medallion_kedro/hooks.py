"""Project hooks: data contracts on save; the lake's pre-flight check, lock, consistency
gate and commits."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, cast

import polars as pl
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol
from kedro.pipeline import Node, Pipeline

import medallion_kedro.lake as lakes
from medallion_kedro.datasets import is_a
from medallion_kedro.schemas import check_schema, contract_of

if TYPE_CHECKING:
    from medallion_kedro.datasets.delta_table import DeltaTableDataset as LakeTable

log = logging.getLogger(__name__)

#: The dataset types that are lake tables published through the commit record (by name:
#: see ``datasets.is_a``; ``SparkLakeTableDataset`` is a ``DeltaTableDataset``).
LAKE_TABLES = ("DeltaTableDataset",)


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
        if isinstance(data, lakes.KeyedChanges):  # the rows that replace some keys' rows
            data = data.rows
        if type(data).__module__.startswith("pyspark."):
            from medallion_kedro.datasets.spark_lake import polars_schema

            # checked on the types it is written with, without running a Spark job
            data = pl.LazyFrame(schema=polars_schema(data))
        check_schema(data, expected, f"{dataset_name} (output of node {node.name})")


class LakePreflightHooks:
    """Guard every run that touches the lake.

    Before the first node: check the lake is reachable and writable; take the lake lock
    when the run writes to the lake (a second run fails cleanly); put every table a killed
    or failed run left unpublished versions in back to its published version (a run that
    only reads does so when no run holds the lake); refuse input tables that do not belong
    together. During the run: note the Delta version of every lake table each node reads,
    and publish each stage's tables together once all are saved, naming the versions they
    were built from (``sources``). On error: publish nothing more and put the tables back.
    Always: release the lock.
    """

    def __init__(self) -> None:
        self._context: KedroContext | None = None
        self._lock: lakes.LakeLock | None = None
        self._transaction: lakes.Transaction | None = None
        self._units: list[set[str]] = []
        self._pipeline: Pipeline | None = None
        self._tables: dict[str, LakeTable] = {}
        self._reads: dict[str, dict[str, int]] = {}
        self._reads_mutex = threading.Lock()

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
        lakes.check_lake(uri, credentials)
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
        lake = lakes.lake_at(uri, credentials)
        run_id = lakes.new_run_id()
        if writes_lake:
            self._lock = lakes.LakeLock(lake, run_id)
            self._lock.acquire()
        try:
            if writes_lake:
                lake.remove_temps()
                lakes.realign(lake)
            else:
                lakes.realign_if_needed(lake)
            record = lake.read_record()
            inputs = {tables[n].key: tables[n] for n in pipeline.inputs() if n in tables}
            lakes.check_consistent(inputs, record)
        except BaseException:
            self._release()
            raise
        if tables:
            self._transaction = lakes.Transaction(lake, run_id)
            self._units = _commit_units(pipeline, tables)
            self._pipeline, self._tables, self._reads = pipeline, tables, {}
            lakes.begin(self._transaction)
            log.info("lake: run %s on %s", run_id, lake.uri)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, node: Node) -> None:
        table = self._tables.get(dataset_name)
        if self._transaction is None or table is None or table.last_read is None:
            return
        with self._reads_mutex:
            self._reads.setdefault(node.name, {})[table.key] = table.last_read

    def _sources(self, unit: set[str]) -> lakes.Sources:
        """The Delta version of every lake table read on the way to ``unit``'s tables (the
        newest, when the run read a table before and after writing it)."""
        assert self._pipeline is not None
        names = [n for n, t in self._tables.items() if t.key in unit]
        outputs = [n for n in names if n in self._pipeline.all_outputs()]
        sources: lakes.Sources = {}
        with self._reads_mutex:
            for node in self._pipeline.to_outputs(*outputs).nodes if outputs else []:
                for key, version in self._reads.get(node.name, {}).items():
                    sources[key] = max(version, sources.get(key, version))
        return dict(sorted(sources.items()))

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        # after each save, not after_node_run: Kedro calls that before the node's outputs
        # are saved, so a stage's last table would wait for the next node to be published
        transaction = self._transaction
        if transaction is None:
            return
        transaction.commit_complete(self._units, self._sources)

    @hook_impl
    def after_pipeline_run(self) -> None:
        transaction = self._transaction
        try:
            if transaction is not None and transaction.pending():
                pending = transaction.pending()
                transaction.commit(pending, self._sources(pending))
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
            lakes.end(self._transaction.lake)
            self._transaction = None
        self._tables, self._reads, self._pipeline = {}, {}, None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
