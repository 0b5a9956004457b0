from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from kedro.io.core import DatasetError

from medallion_kedro.datasets import LandingCSVDataset, ParquetTableDataset


def test_landing_round_trip_is_text_and_preview(tmp_path: Path) -> None:
    ds = LandingCSVDataset(filepath=str(tmp_path / "landing" / "t.csv"))
    assert not ds.exists()
    ds.save(pl.DataFrame({"id": [1, 2, 3], "amount": [1.5, None, 3.0]}))
    assert ds.exists()
    loaded = ds.load()
    assert loaded.schema == pl.Schema({"id": pl.String, "amount": pl.String})
    assert loaded.rows() == [("1", "1.5"), ("2", None), ("3", "3.0")]
    assert ds.preview(2) == {
        "columns": ["id", "amount"],
        "index": [0, 1],
        "data": [["1", "1.5"], ["2", None]],
    }
    assert not list((tmp_path / "landing").glob(".*tmp"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"a,b\n", "header but no data rows"),
        (b"PAR1\x00\x01\x02binary", "binary, not a CSV"),
        (b"a,b\n\xff\xfe\xfa,1\n", "not a UTF-8 CSV"),
    ],
)
def test_landing_refuses_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as info:
        LandingCSVDataset(filepath=str(path)).load()
    assert str(path) in str(info.value)


def test_parquet_table_saves_whole_and_previews(tmp_path: Path) -> None:
    path = tmp_path / "gold" / "t.parquet"
    ds = ParquetTableDataset(filepath=str(path), file_format="parquet")
    frame = pl.DataFrame({"k": list(range(20)), "v": [float(i) for i in range(20)]})
    ds.save(frame.lazy())
    assert isinstance(ds.load(), pl.LazyFrame)
    assert ds.load().collect().equals(frame)
    preview = ds.preview(3)
    assert preview["columns"] == ["k", "v"] and len(preview["data"]) == 3
    assert sorted(p.name for p in path.parent.iterdir()) == ["t.parquet"]


def test_parquet_table_failed_save_keeps_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    ds = ParquetTableDataset(filepath=str(path), file_format="parquet")
    ds.save(pl.DataFrame({"k": [1]}))
    before = path.read_bytes()
    failing = pl.LazyFrame({"k": ["x"]}).select(pl.col("k").cast(pl.Int64, strict=True))
    with pytest.raises(DatasetError):
        ds.save(failing)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]
