"""Kedro-Viz table previews from polars frames."""

from __future__ import annotations

import polars as pl
from kedro_datasets._typing import TablePreview


def table_preview(df: pl.DataFrame) -> TablePreview:
    """The "split" layout Kedro-Viz shows as a table: nulls as None, dates as ISO text."""
    temporal = [name for name, dtype in df.schema.items() if dtype.is_temporal()]
    shown = df.with_columns(pl.col(temporal).cast(pl.String)) if temporal else df
    return TablePreview(
        {
            "columns": shown.columns,
            "index": list(range(shown.height)),
            "data": [list(row) for row in shown.rows()],
        }
    )
