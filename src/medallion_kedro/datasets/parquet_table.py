"""``ParquetTableDataset``: a lake table, read lazily, written whole, published by commit."""

from __future__ import annotations

import contextlib
import errno
from pathlib import PurePosixPath
from typing import Any

import polars as pl
import pyarrow.dataset as pads
from kedro.io.core import DatasetError
from kedro_datasets._typing import TablePreview
from kedro_datasets.polars import LazyPolarsDataset

from medallion_kedro.datasets import _commit
from medallion_kedro.datasets._files import upload_whole
from medallion_kedro.datasets._preview import table_preview

#: The pipeline that builds each layer (named in "not built yet" messages).
BUILT_BY = {"bronze": "bronze", "silver": "silver", "quality": "silver", "gold": "gold"}


class ParquetTableDataset(LazyPolarsDataset):
    """kedro-datasets' ``polars.LazyPolarsDataset`` for Parquet, made a versioned lake table.

    ``filepath`` names the table's folder ``<lake>/<layer>/<table>``. Each save writes a new
    version ``<table>/<run_id>.parquet`` that nobody reads yet; the lake's commit record
    (``<lake>/_lake.json``) names the version readers get. During a ``kedro run`` the
    project's hooks stage what the run writes and commit a stage's tables together (so a
    crash or a refused run publishes nothing of that stage); later nodes of the same run
    read the staged version. Outside a run (a notebook, ``catalog.save``), a save commits
    its one table at once, under the lake lock. A table without a version in the record
    is read from the single file ``<table>.parquet`` of earlier releases, if present.

    ``preview`` returns the first rows for Kedro-Viz. Loading returns a
    ``polars.LazyFrame`` (a scan: nodes read only the columns they use).

    Example catalog entry::

        "silver.{table}":
          type: medallion_kedro.datasets.ParquetTableDataset
          filepath: data/lake/silver/{table}
          file_format: parquet
          save_args: {compression: zstd}
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        folder = str(self._filepath).removesuffix(".parquet")  # type: ignore[has-type]
        self._filepath = PurePosixPath(folder)
        self.lake, self.key = _commit.lake_of(self._protocol, folder, self._fs)

    @property
    def layer(self) -> str:
        return self.key.split(".", 1)[0]

    def current_entry(self) -> _commit.Entry | None:
        """The version this process reads: staged by the running session, else committed."""
        return _commit.current_entry(self.lake, self.key)

    def _load_path(self) -> str | None:
        entry = self.current_entry()
        if entry is not None:
            return self.lake.path(entry["file"])
        legacy = f"{self._filepath}.parquet"
        return legacy if self._fs.exists(legacy) else None

    def current_path(self) -> str | None:
        """The file of the version this process reads (see :meth:`current_entry`), if any."""
        return self._load_path()

    def _exists(self) -> bool:
        return self._load_path() is not None

    def load(self) -> pl.LazyFrame:
        path = self._load_path()
        if path is None:
            raise DatasetError(
                f"Lake table {self.key} has no published version in {self.lake.uri}: build "
                f"it with `kedro run --pipelines {BUILT_BY.get(self.layer, self.layer)}`."
            )
        if self._protocol == "file":
            return pl.scan_parquet(path, **self._load_args)
        dataset = pads.dataset(path, filesystem=self._fs, format="parquet", **self._load_args)
        return pl.scan_pyarrow_dataset(dataset)

    def save(self, data: pl.DataFrame | pl.LazyFrame) -> None:
        frame = data.collect() if isinstance(data, pl.LazyFrame) else data
        transaction = _commit.active(self.lake)
        run_id = transaction.run_id if transaction is not None else _commit.new_run_id()
        relative = f"{self.layer}/{self.key.split('.', 1)[1]}/{run_id}.parquet"
        self._write(frame, self.lake.path(relative))
        entry: _commit.Entry = {
            "file": relative,
            "version": run_id,
            "run_id": run_id,
            "rows": frame.height,
            "written_at": _commit.now_iso(),
        }
        if "_batch_id" in frame.columns:
            entry["batch_ids"] = sorted(frame.get_column("_batch_id").unique().drop_nulls())
        if transaction is not None:
            transaction.stage(self.key, entry)
        else:
            self._commit_alone(entry, run_id)
        self._invalidate_cache()

    def _commit_alone(self, entry: _commit.Entry, run_id: str) -> None:
        """Publish this one table now (a save outside a run), under the lake lock."""
        from medallion_kedro.lake_lock import LakeLock  # it imports this package

        try:
            with LakeLock(self.lake, run_id):
                record = _commit.commit_entries(self.lake, {self.key: entry}, run_id)
        except BaseException:
            with contextlib.suppress(OSError):
                self._fs.rm_file(self.lake.path(entry["file"]))
            raise
        self.lake.prune({self.key}, record, keep=set())

    def _write(self, frame: pl.DataFrame, path: str) -> None:
        """Write one version; a failed write removes what it wrote (nothing points to it)."""
        try:
            self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            if self._protocol == "file":
                frame.write_parquet(path, **self._save_args)
            else:
                upload_whole(self._fs, path, lambda f: frame.write_parquet(f, **self._save_args))
        except BaseException as exc:
            with contextlib.suppress(OSError):
                self._fs.rm_file(path)
            if isinstance(exc, OSError | pl.exceptions.ComputeError):
                # polars reports I/O failures as ComputeError "... (os error 28)"
                disk_full = getattr(exc, "errno", None) == errno.ENOSPC or (
                    f"(os error {errno.ENOSPC})" in str(exc)
                )
                full = " (the disk is full)" if disk_full else ""
                raise DatasetError(
                    f"Cannot write lake table {self.key} to {path}{full}: {exc}. Nothing was "
                    "published: readers still see the previous version. Free space or fix "
                    "the lake's permissions, then run again."
                ) from exc
            raise

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(str(self._filepath))

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first ``nrows`` rows, in the split layout Kedro-Viz shows as a table."""
        return table_preview(self.load().head(nrows).collect())
