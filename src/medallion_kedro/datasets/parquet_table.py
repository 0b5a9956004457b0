"""``ParquetTableDataset``: a lake table, read lazily, written whole, previewed in Kedro-Viz."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from kedro.io.core import get_filepath_str
from kedro_datasets._typing import TablePreview
from kedro_datasets.polars import LazyPolarsDataset

from medallion_kedro.datasets._files import replace_whole
from medallion_kedro.datasets._preview import table_preview


class ParquetTableDataset(LazyPolarsDataset):
    """kedro-datasets' ``polars.LazyPolarsDataset`` for Parquet, with two additions.

    * ``save`` on a local lake writes a temporary file next to the target and renames it
      into place, so a crash never leaves half a table (on S3 an object only appears once
      its upload completes, so the parent's direct write is already whole).
    * ``preview`` returns the first rows for Kedro-Viz.

    Loading returns a ``polars.LazyFrame`` (a scan: nodes read only the columns they use).

    Example catalog entry::

        "silver.{table}":
          type: medallion_kedro.datasets.ParquetTableDataset
          filepath: data/lake/silver/{table}.parquet
          file_format: parquet
          save_args: {compression: zstd}
    """

    def save(self, data: pl.DataFrame | pl.LazyFrame) -> None:
        if self._protocol != "file":
            super().save(data)
            return
        target = Path(get_filepath_str(self._get_save_path(), self._protocol))
        frame = data.collect() if isinstance(data, pl.LazyFrame) else data
        replace_whole(target, lambda tmp: frame.write_parquet(tmp, **self._save_args))
        self._invalidate_cache()

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first ``nrows`` rows, in the split layout Kedro-Viz shows as a table."""
        return table_preview(self.load().head(nrows).collect())
