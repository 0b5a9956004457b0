"""A Delta table's Parquet files written by polars, for delta-rs to commit.

polars writes each file (locally, or through the table's storage on S3) and this module
gives its ``add`` action with the statistics every Delta reader uses to skip files:
``numRecords`` and, per column, ``minValues``, ``maxValues`` and ``nullCount``, in the
Delta statistics JSON format. delta-rs commits the actions
(``DeltaTable.create_write_transaction``, ``create_table_with_add_actions``): no log
entry is written here.

:class:`Layout` says how rows are laid out in files: sorted by ``cluster_by`` and cut
every ``target_file_rows`` rows, so that a key range lives in few files and a write that
changes some keys rewrites only those files (:mod:`medallion_kedro.lake.keyed`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from deltalake.transaction import AddAction

#: Rows per file when the catalog gives no ``target_file_rows``.
DEFAULT_FILE_ROWS = 1_000_000

#: Column types whose Parquet files polars writes exactly as Delta declares them.
PLAIN_TYPES = (
    pl.String, pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.Float32, pl.Float64,
    pl.Date, pl.Decimal,
)  # fmt: skip
#: Parquet codecs polars writes.
CODECS = ("lz4", "zstd", "snappy", "gzip", "uncompressed")


@dataclass(frozen=True)
class Layout:
    """How a table's rows are laid out in files: sorted by ``cluster_by`` (none: as
    given) and cut every ``target_file_rows`` rows."""

    cluster_by: tuple[str, ...] = ()
    target_file_rows: int = DEFAULT_FILE_ROWS

    @classmethod
    def from_save_args(cls, save_args: dict[str, Any]) -> Layout:
        """The layout of the catalog's ``save_args`` (``cluster_by``, ``target_file_rows``),
        removed from them."""
        cluster = save_args.pop("cluster_by", None) or ()
        rows = int(save_args.pop("target_file_rows", None) or DEFAULT_FILE_ROWS)
        if rows < 1:
            raise ValueError(f"save_args.target_file_rows must be >= 1, got {rows}")
        return cls(tuple([cluster] if isinstance(cluster, str) else cluster), rows)

    def chunks(self, frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
        """``frame`` sorted by :attr:`cluster_by`, in slices of :attr:`target_file_rows`."""
        if self.cluster_by and not self._sorted(frame):
            frame = frame.sort(list(self.cluster_by), nulls_last=True)
        for start in range(0, frame.height, self.target_file_rows):
            yield frame.slice(start, self.target_file_rows)

    def _sorted(self, frame: pl.DataFrame) -> bool:
        """Whether ``frame`` is already in :attr:`cluster_by` order (checked for one column:
        a node's output is often sorted by its key)."""
        if len(self.cluster_by) != 1:
            return False
        return bool(frame.get_column(self.cluster_by[0]).is_sorted(nulls_last=True))


@dataclass(frozen=True)
class TableFiles:
    """Where a table's data files go and how they are written."""

    uri: str
    storage_options: dict[str, str] = field(default_factory=dict)
    codec: str = "snappy"
    #: The lake's fsspec file system (s3fs with its credentials), for a table on S3.
    fs: Any = None

    @property
    def local(self) -> bool:
        return "://" not in self.uri or self.uri.startswith("file://")

    def write(self, frame: pl.DataFrame) -> AddAction:
        """Write ``frame`` as one new Parquet file of the table; return its ``add`` action.

        A file that no commit names (its writer died before committing) is removed by
        ``vacuum``.
        """
        name = f"part-00000-{uuid.uuid4()}-c000.{self.codec}.parquet"
        codec: Any = self.codec  # polars takes it as a Literal
        if self.local:
            path = os.path.join(self.uri.removeprefix("file://"), name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            frame.write_parquet(path, compression=codec)
            size = os.stat(path).st_size
        else:  # written whole in memory, then one upload: an object appears complete
            buffer = io.BytesIO()
            frame.write_parquet(buffer, compression=codec)
            size = buffer.tell()
            self.fs.pipe_file(self.file_uri(name), buffer.getvalue())
        return AddAction(
            path=name,
            size=size,
            partition_values={},
            modification_time=int(time.time() * 1000),
            data_change=True,
            stats=stats_json(frame),
        )

    def write_all(self, frame: pl.DataFrame, layout: Layout) -> list[AddAction]:
        """Write ``frame`` as the files ``layout`` cuts it into (none for no rows)."""
        return [self.write(chunk) for chunk in layout.chunks(frame)]

    def file_uri(self, path: str) -> str:
        """The full location of a table file named ``path`` in its ``add`` action."""
        return f"{self.uri.rstrip('/')}/{path}"

    def scan(self, paths: list[str]) -> pl.LazyFrame:
        """The table files ``paths``, read lazily, each row with its file's path."""
        return pl.scan_parquet(
            [self.file_uri(p) for p in paths],
            storage_options=None if self.local else self.storage_options,
            include_file_paths="_file",
        ).with_columns(pl.col("_file").str.slice(len(self.uri.rstrip("/")) + 1))


def writes_plain(schema: pl.Schema, codec: str) -> bool:
    """Whether polars writes columns of ``schema`` with ``codec`` exactly as delta-rs would
    (else the table's own writer, delta-rs, writes them)."""
    for dtype in schema.values():
        plain = isinstance(dtype, PLAIN_TYPES) or (
            isinstance(dtype, pl.Datetime) and dtype.time_unit == "us"
            and dtype.time_zone in (None, "UTC")
        )  # fmt: skip
        if not plain:
            return False
    return codec in CODECS


def stats_json(frame: pl.DataFrame) -> str:
    """The Delta statistics of ``frame`` as an ``add`` action carries them: ``numRecords``,
    and per column ``nullCount`` and (for ordered types with a value) ``minValues`` and
    ``maxValues``."""
    nulls = frame.null_count().row(0, named=True) if frame.width else {}
    ordered = [c for c, t in frame.schema.items() if not isinstance(t, pl.Boolean)]
    found = frame.select(
        *(pl.col(c).min().alias(f"min:{c}") for c in ordered),
        *(pl.col(c).max().alias(f"max:{c}") for c in ordered),
    ).row(0, named=True) if ordered and frame.height else {}  # fmt: skip
    bounds = {
        side: {c: v for c in ordered if (v := _stat(found.get(f"{side}:{c}"))) is not None}
        for side in ("min", "max")
    }
    return (
        f'{{"numRecords":{frame.height},"minValues":{_object(bounds["min"])},'
        f'"maxValues":{_object(bounds["max"])},"nullCount":{json.dumps(nulls)}}}'
    )


def _object(values: dict[str, str]) -> str:
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in values.items()) + "}"


def _stat(value: Any) -> str | None:
    """A min or max as Delta statistics JSON text; None when it cannot bound the column
    (no value, NaN or infinite)."""
    if value is None:
        return None
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if value.is_finite() else None  # exact, not a float
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        text = value.replace(tzinfo=None).isoformat(timespec="microseconds")
        return json.dumps(text + ("Z" if value.tzinfo is not None else ""))
    if isinstance(value, dt.date):
        return json.dumps(value.isoformat())
    return json.dumps(value)
