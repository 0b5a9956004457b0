"""``ParquetFolderDataset``: an append-only table, one small Parquet file per save."""

from __future__ import annotations

import io
import re
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import polars as pl
from kedro.io.core import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview

from medallion_kedro.datasets._preview import table_preview
from medallion_kedro.lake.files import replace_whole

_FIELD = re.compile(r"\{(\w+)\}")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class ParquetFolderDataset(AbstractDataset[pl.DataFrame, pl.DataFrame]):
    """A table kept as a folder of Parquet files: ``save`` adds a file, ``load`` reads them all.

    Built for small, append-only logs such as the run history: a save never rewrites
    another file, so concurrent writers of different keys cannot lose each other's rows, and
    a crash loses at most the file being written (local files are written to a temporary
    name and renamed into place; an S3 object only appears once its upload completes).

    ``file_name`` names the file from the saved frame: each ``{column}`` is replaced by that
    column's value, which must be the same in every row. Saving again under the same name
    replaces that one file (a writer may grow its own file; it never touches others').
    ``load`` concatenates every ``*.parquet`` file of the folder (columns added later are
    null in older files) and returns an empty frame when there is none. Local folders and
    any fsspec URL (``s3://...`` with ``credentials``) work.

    Example catalog entry::

        quality.runs:
          type: medallion_kedro.datasets.ParquetFolderDataset
          path: ${globals:lake}/quality/runs
          file_name: "{run_id}.{status}.parquet"

    Example::

        >>> import polars as pl, tempfile
        >>> ds = ParquetFolderDataset(path=tempfile.mkdtemp(), file_name="{run_id}.parquet")
        >>> ds.save(pl.DataFrame({"run_id": ["a"], "rows": [3]}))
        >>> ds.save(pl.DataFrame({"run_id": ["b"], "rows": [4]}))
        >>> ds.load().sort("run_id")["rows"].to_list()
        [3, 4]
    """

    DEFAULT_SAVE_ARGS: dict[str, Any] = {"compression": "zstd"}

    def __init__(  # noqa: PLR0913
        self,
        *,
        path: str,
        file_name: str = "{run_id}.parquet",
        credentials: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not file_name.endswith(".parquet") or "/" in file_name:
            raise DatasetError(
                f"ParquetFolderDataset file_name {file_name!r} must be a plain file name ending "
                "in .parquet, e.g. '{run_id}.parquet'."
            )
        self._path = path.rstrip("/")
        self._filename = file_name
        self._fields = _FIELD.findall(file_name)
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
        options = {**deepcopy(credentials or {}), **(fs_args or {})}
        self._fs, self._root = fsspec.core.url_to_fs(self._path, **options)
        self.metadata = metadata

    @property
    def _is_local(self) -> bool:
        protocol = self._fs.protocol
        return bool(
            {"file", "local"} & set(protocol if isinstance(protocol, tuple) else [protocol])
        )

    def _files(self) -> list[str]:
        try:
            found = self._fs.glob(f"{self._root}/*.parquet", refresh=True)
        except FileNotFoundError:
            return []
        return sorted(str(f) for f in found if not PurePosixPath(str(f)).name.startswith("."))

    def load(self) -> pl.DataFrame:
        return self.load_files(self.file_names())

    def file_names(self) -> list[str]:
        """Names of the folder's files, sorted (listing only, nothing is read)."""
        return [PurePosixPath(f).name for f in self._files()]

    def load_files(self, names: list[str]) -> pl.DataFrame:
        """Only the named files of the folder, as one frame (empty when ``names`` is)."""
        frames = []
        for name in names:
            with self._fs.open(f"{self._root}/{name}", "rb") as handle:
                frames.append(pl.read_parquet(handle))
        if not frames:
            return pl.DataFrame()
        return pl.concat(frames, how="diagonal_relaxed")

    def target_name(self, data: pl.DataFrame) -> str:
        """The file ``data`` is saved to (its key columns must each hold one value)."""
        values: dict[str, str] = {}
        for field in self._fields:
            if field not in data.columns:
                raise DatasetError(
                    f"{self._path}: file name {self._filename!r} needs a column '{field}'."
                )
            distinct = data.get_column(field).unique()
            if distinct.len() != 1 or distinct[0] is None:
                raise DatasetError(
                    f"{self._path}: column '{field}' names the file, so it must hold exactly one "
                    f"non-null value per save; got {distinct.to_list()[:5]}."
                )
            values[field] = _SAFE.sub("_", str(distinct[0]))
        return self._filename.format(**values)

    def save(self, data: pl.DataFrame) -> None:
        if not isinstance(data, pl.DataFrame) or data.is_empty():
            raise DatasetError(f"{self._path}: save a non-empty polars DataFrame.")
        target = f"{self._root}/{self.target_name(data)}"
        if self._is_local:
            replace_whole(Path(target), lambda tmp: data.write_parquet(tmp, **self._save_args))
            return
        buffer = io.BytesIO()
        data.write_parquet(buffer, **self._save_args)
        self._fs.makedirs(self._root, exist_ok=True)
        with self._fs.open(target, "wb") as handle:
            handle.write(buffer.getvalue())

    def _exists(self) -> bool:
        return bool(self._files())

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path, "file_name": self._filename, "save_args": self._save_args}

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first ``nrows`` rows, in the split layout Kedro-Viz shows as a table."""
        return table_preview(self.load().head(nrows))
