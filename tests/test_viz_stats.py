"""The Kedro-Viz statistics hook on polars frames: numbers, no collect, merged runs."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import polars as pl

from medallion_kedro.viz_stats import STATS_FILE, PolarsDatasetStatsHook, frame_stats


def test_dataframe_and_parquet_lazyframe(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": range(1000), "b": ["x"] * 1000})
    path = tmp_path / "t.parquet"
    frame.write_parquet(path)
    fs = fsspec.filesystem("file")
    size = path.stat().st_size
    assert frame_stats(frame, fs, str(path)) == {"rows": 1000, "columns": 2, "file_size": size}
    # A scan that would fail if collected: the rows must come from the Parquet footer.
    lazy = pl.scan_parquet(path).with_columns(pl.col("b").cast(pl.Int64, strict=True))
    assert frame_stats(lazy, fs, str(path)) == {"rows": 1000, "columns": 2, "file_size": size}
    assert frame_stats(pl.LazyFrame({"a": [1]}), None, None) == {"columns": 1}
    assert frame_stats({"not": "a frame"}, fs, str(path)) is None


def test_a_partial_run_keeps_what_earlier_runs_recorded(tmp_path: Path) -> None:
    target = tmp_path / STATS_FILE
    target.parent.mkdir()
    target.write_text(json.dumps({"bronze.orders": {"rows": 5, "columns": 3, "file_size": 9}}))
    hook = PolarsDatasetStatsHook()
    hook._project = tmp_path
    hook._stats = {"gold.kpis": {"rows": 1, "columns": 7, "file_size": 100}}
    hook.after_pipeline_run()
    assert json.loads(target.read_text()) == {
        "bronze.orders": {"rows": 5, "columns": 3, "file_size": 9},
        "gold.kpis": {"rows": 1, "columns": 7, "file_size": 100},
    }


def test_landing_stats_count_the_file_columns_not_the_malformed_flag(tmp_path: Path) -> None:
    from kedro.io import DataCatalog

    from medallion_kedro.datasets import LandingCSVDataset

    path = tmp_path / "orders.csv"
    path.write_text("id,amount\n1,2.50\n2\n")
    catalog = DataCatalog({"landing.orders": LandingCSVDataset(filepath=str(path))})
    hook = PolarsDatasetStatsHook()
    hook.after_catalog_created(catalog)
    loaded = catalog.load("landing.orders")
    assert loaded.columns == ["id", "amount", "_malformed"]
    hook.after_dataset_loaded("landing.orders", loaded)
    assert hook._stats == {
        "landing.orders": {"rows": 2, "columns": 2, "file_size": path.stat().st_size}
    }
    hook.after_dataset_loaded("landing.orders", loaded.lazy())
    assert hook._stats["landing.orders"]["columns"] == 2
