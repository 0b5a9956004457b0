"""``LandingFolderDataset``: a table's landing zone as batches, one export file per batch."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import fsspec
import polars as pl
from kedro.io.core import AbstractDataset, DatasetError, get_protocol_and_path
from kedro_datasets._typing import TablePreview

if TYPE_CHECKING:
    from medallion_kedro.datasets.landing_csv import LandingCSVDataset

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class LandingFile:
    """One export file of the landing zone: a batch. Reading it is deferred (like a
    ``PartitionedDataset`` partition): listing the zone reads no file content, and builds
    no :class:`LandingCSVDataset` (nor imports its module) until a file is read."""

    name: str
    size: int
    modified: float
    opener: Callable[[], LandingCSVDataset] = field(compare=False, repr=False)
    fs: fsspec.AbstractFileSystem = field(compare=False, repr=False)
    path: str = field(compare=False, repr=False)

    @functools.cached_property
    def dataset(self) -> LandingCSVDataset:
        """The dataset that reads this file."""
        return self.opener()

    def digest(self) -> str:
        """The batch id: the first 16 hex digits of the file's SHA-256 (same content, same id)."""
        sha = hashlib.sha256()
        with self.fs.open(self.path, "rb") as f:
            while chunk := f.read(_CHUNK):
                sha.update(chunk)
        return sha.hexdigest()[:16]

    def load(self) -> pl.DataFrame:
        """The rows as text, with ``_malformed`` (see :class:`LandingCSVDataset`)."""
        return self.dataset.load()


def _timestamp(modified: Any) -> float:
    """A listing's modification time (seconds, or a datetime on S3) as seconds."""
    if isinstance(modified, dt.datetime):
        return modified.timestamp()
    return float(modified or 0)


class LandingFolderDataset(
    AbstractDataset[dict[str, pl.DataFrame] | pl.DataFrame, dict[str, LandingFile]]
):
    """A table's landing zone: the folder ``folder`` where users drop export files (one file
    is one batch) and, optionally, the single file ``filepath`` of the one-file layout.

    ``load`` lists both as :class:`LandingFile` objects by name (the single file first,
    then the folder's ``*.csv`` files in name order, which is the order they are ingested
    in); nothing is read until a file's ``digest()`` or ``load()`` is called. Each file is
    read with :class:`LandingCSVDataset` (same checks, same errors, same ``load_args``).

    ``save`` writes a frame to the single file, or a ``{file name: frame}`` mapping into
    the folder, each file written whole (readers never see half a file).

    Example catalog entry::

        "landing.{table}":
          type: medallion_kedro.datasets.LandingFolderDataset
          folder: ${globals:lake}/landing/{table}
          filepath: ${globals:lake}/landing/{table}.csv
          credentials: lake

    Example::

        >>> import polars as pl, tempfile
        >>> root = tempfile.mkdtemp()
        >>> ds = LandingFolderDataset(folder=root + "/orders", filepath=root + "/orders.csv")
        >>> ds.save({"orders_0001.csv": pl.DataFrame({"a": [1]})})
        >>> ds.save(pl.DataFrame({"a": [2]}))
        >>> files = ds.load()
        >>> list(files), files["orders_0001.csv"].load()["a"].to_list()
        (['orders.csv', 'orders_0001.csv'], ['1'])
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        folder: str,
        filepath: str | None = None,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(folder.rstrip("/"))
        self._protocol = protocol
        self._folder = path
        # the single file without its protocol, as kedro-datasets keep ``_filepath``
        self._filepath = get_protocol_and_path(filepath)[1] if filepath else None
        self._fs = fsspec.filesystem(protocol, **(credentials or {}), **(fs_args or {}))
        self._file_args: dict[str, Any] = {
            "load_args": load_args,
            "save_args": save_args,
            "credentials": credentials,
            "fs_args": fs_args,
        }
        self.metadata = metadata

    def _uri(self, path: str) -> str:
        return path if self._protocol == "file" else f"{self._protocol}://{path}"

    def _file(self, path: str) -> LandingCSVDataset:
        from medallion_kedro.datasets.landing_csv import LandingCSVDataset

        return LandingCSVDataset(filepath=self._uri(path), **self._file_args)

    def _describe(self) -> dict[str, Any]:
        single = self._uri(self._filepath) if self._filepath else None
        return {"folder": self._uri(self._folder), "filepath": single}

    def _entries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if self._filepath:
            with contextlib.suppress(FileNotFoundError):
                found.append(self._fs.info(self._filepath))
        try:
            listed = self._fs.ls(self._folder, detail=True, refresh=True)
        except FileNotFoundError:
            listed = []
        names = [e for e in listed if e.get("type") == "file"]
        found += sorted(
            (e for e in names if str(e["name"]).rsplit("/", 1)[-1].lower().endswith(".csv")
             and not str(e["name"]).rsplit("/", 1)[-1].startswith(".")),
            key=lambda e: str(e["name"]),
        )  # fmt: skip
        return found

    def load(self) -> dict[str, LandingFile]:
        try:
            entries = self._entries()
        except OSError as exc:
            raise DatasetError(
                f"Cannot list the landing zone {self._uri(self._folder)}: {exc}. Check the "
                "lake path (conf/*/globals.yml `lake`) and, on S3, the credentials."
            ) from exc
        files: dict[str, LandingFile] = {}
        for entry in entries:
            path = str(entry["name"])
            name = path.rsplit("/", 1)[-1]
            modified = entry.get("mtime") or entry.get("LastModified") or entry.get("created")
            stamp = _timestamp(modified)
            opener = functools.partial(self._file, path)
            files[name] = LandingFile(
                name, int(entry.get("size") or 0), stamp, opener, self._fs, path
            )
        return files

    def save(self, data: dict[str, pl.DataFrame] | pl.DataFrame) -> None:
        if isinstance(data, pl.DataFrame):
            if not self._filepath:
                raise DatasetError(
                    f"Landing zone {self._uri(self._folder)} has no single file (`filepath` "
                    "in the catalog): save a {file name: frame} mapping into its folder."
                )
            self._file(self._filepath).save(data)
            return
        for name, frame in data.items():
            self._file(f"{self._folder}/{name}").save(frame)

    def _exists(self) -> bool:
        return bool(self._entries())

    def file_stats(self) -> dict[str, int] | None:
        """Rows, columns (of the first file) and bytes of every file, for Kedro-Viz."""
        files = list(self.load().values())
        if not files:
            return None
        rows = 0
        for file in files:
            if self._protocol == "file":  # polars counts rows without parsing them
                rows += int(
                    pl.scan_csv(file.path, infer_schema=False).select(pl.len()).collect().item()
                )
                continue
            with self._fs.open(file.path, "rb") as f:
                rows += max(sum(1 for line in f if line.strip()) - 1, 0)
        with self._fs.open(files[0].path, "rb") as f:
            header = f.readline().decode("utf-8", errors="replace")
        columns = len(header.split(str((self._file_args["load_args"] or {}).get("separator", ","))))
        return {"rows": rows, "columns": columns, "file_size": sum(f.size for f in files)}

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first rows of the first file, as a table for Kedro-Viz."""
        files = self.load()
        if not files:
            return TablePreview({"columns": [], "index": [], "data": []})
        return next(iter(files.values())).dataset.preview(nrows)
