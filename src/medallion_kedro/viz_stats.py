"""Dataset statistics for Kedro-Viz from polars frames: rows, columns and file size.

Kedro-Viz shows the statistics it finds in ``<project>/.viz/stats.json`` (``{dataset:
{"rows", "columns", "file_size"}}``); the hook it ships fills that file for pandas frames
only (and imports pandas to check), so the project does not register it (``settings.py``)
and this hook records the same three numbers for
polars ``DataFrame``/``LazyFrame`` datasets backed by a file (a ``LazyFrame`` is never
collected: rows come from the Parquet footer) and merges them into the file after every
run, so a ``--pipelines gold`` run keeps what earlier runs recorded.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog

from medallion_kedro.datasets import is_a
from medallion_kedro.schemas import MALFORMED

logger = logging.getLogger(__name__)
STATS_FILE = Path(".viz") / "stats.json"
Stats = dict[str, int]


def frame_stats(data: Any, fs: Any | None, path: str | None) -> Stats | None:
    """Rows, columns and file size of a polars frame saved at ``path`` on ``fs``, if known."""
    if isinstance(data, pl.DataFrame):
        stats = {"rows": data.height, "columns": data.width}
    elif isinstance(data, pl.LazyFrame):
        stats = {"columns": len(data.collect_schema())}
        if fs is not None and path and path.endswith(".parquet") and fs.exists(path):
            import pyarrow.parquet as pq  # only here: most runs never need it

            with fs.open(path, "rb") as handle:
                stats = {"rows": pq.ParquetFile(handle).metadata.num_rows, **stats}
    else:
        return None
    if fs is not None and path and fs.exists(path):
        stats["file_size"] = int(fs.size(path))
    return stats


def _names(data: pl.DataFrame | pl.LazyFrame) -> list[str]:
    return data.columns if isinstance(data, pl.DataFrame) else data.collect_schema().names()


def _file_of(dataset: Any) -> tuple[Any | None, str | None]:
    """The filesystem and file of a file-backed dataset (kedro-datasets' private names)."""
    fs, filepath = getattr(dataset, "_fs", None), getattr(dataset, "_filepath", None)
    if fs is None or filepath is None:
        return None, None
    return fs, str(PurePosixPath(str(filepath)))


class PolarsDatasetStatsHook:
    """Writes rows, columns and file size of polars datasets to ``.viz/stats.json``."""

    def __init__(self) -> None:
        self._catalog: DataCatalog | None = None
        self._project: Path | None = None
        self._stats: dict[str, Stats] = {}

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._project = Path(context.project_path)

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self._catalog = catalog
        self._stats = {}

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        self._record(dataset_name, data)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        self._record(dataset_name, data)

    def _record(self, name: str, data: Any) -> None:
        if self._catalog is not None and isinstance(data, dict):
            self._record_zone(name)
        if self._catalog is None or not isinstance(data, pl.DataFrame | pl.LazyFrame):
            return
        try:
            dataset: Any = self._catalog.get(name)  # its class is checked by name (is_a)
            if is_a(dataset, "DeltaTableDataset"):  # its Delta log has the numbers
                stats = dataset.file_stats()
                if stats:
                    self._stats[name] = stats
                return
            fs, path = _file_of(dataset)
            if path is None:
                return  # an in-memory intermediate: Kedro-Viz shows no statistics for it
            stats = frame_stats(data, fs, path)
            if stats and is_a(dataset, "LandingCSVDataset") and MALFORMED in _names(data):
                # the flag the dataset adds is not in the file: counted off, not dropped
                # (a drop may copy every text of the frame to align its chunks)
                stats["columns"] -= 1
        except Exception as exc:  # statistics must never fail a run
            logger.warning("No Kedro-Viz statistics for %s: %s", name, exc)
            return
        if stats:
            self._stats[name] = stats

    def _record_zone(self, name: str) -> None:
        """A landing zone: rows, columns and bytes of its files together."""
        assert self._catalog is not None
        try:
            dataset: Any = self._catalog.get(name)
            if is_a(dataset, "LandingFolderDataset"):
                stats = dataset.file_stats()
                if stats:
                    self._stats[name] = stats
        except Exception as exc:  # statistics must never fail a run
            logger.warning("No Kedro-Viz statistics for %s: %s", name, exc)

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        if self._project is None or not self._stats:
            return
        target = self._project / STATS_FILE
        try:
            current = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
        except ValueError:
            current = {}
        order = ("rows", "columns", "file_size")
        for name, stats in self._stats.items():
            merged = {**current.get(name, {}), **stats}
            current[name] = {k: merged[k] for k in order if k in merged}
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(current, indent=1, sort_keys=True), encoding="utf-8")
