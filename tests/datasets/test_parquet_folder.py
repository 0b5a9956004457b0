"""``ParquetFolderDataset``: an append-only folder of Parquet files, locally and on S3."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import polars as pl
import pytest
from kedro.io.core import DatasetError

from medallion_kedro.datasets import ParquetFolderDataset
from tests.servers import S3Server


def _row(run_id: str, status: str, n: int) -> pl.DataFrame:
    return pl.DataFrame({"run_id": [run_id], "status": [status], "n": [n]})


def test_each_save_adds_a_file_and_load_reads_them_all(tmp_path: Path) -> None:
    ds = ParquetFolderDataset(path=str(tmp_path / "runs"), file_name="{run_id}.{status}.parquet")
    assert not ds.exists() and ds.load().is_empty()
    ds.save(_row("a", "running", 1))
    ds.save(_row("a", "succeeded", 2))
    ds.save(_row("b", "running", 3).with_columns(extra=pl.lit("new column")))
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "a.running.parquet",
        "a.succeeded.parquet",
        "b.running.parquet",
    ]
    loaded = ds.load().sort("n")
    assert loaded["n"].to_list() == [1, 2, 3]
    assert loaded["extra"].to_list() == [None, None, "new column"]  # older files: null
    assert ds.exists()
    assert ds.file_names() == ["a.running.parquet", "a.succeeded.parquet", "b.running.parquet"]
    assert ds.load_files(["b.running.parquet"])["n"].to_list() == [3]


def test_saving_the_same_name_replaces_only_that_file(tmp_path: Path) -> None:
    ds = ParquetFolderDataset(path=str(tmp_path), file_name="{run_id}.parquet")
    ds.save(_row("a", "x", 1))
    ds.save(_row("b", "x", 2))
    ds.save(pl.concat([_row("a", "x", 1), _row("a", "y", 5)]))  # a writer grows its own file
    assert ds.load().sort("n")["n"].to_list() == [1, 2, 5]
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"n": [1]}), "needs a column 'run_id'"),
        (pl.DataFrame({"run_id": ["a", "b"]}), "exactly one non-null value"),
        (pl.DataFrame({"run_id": [None]}, schema={"run_id": pl.String}), "exactly one"),
        (pl.DataFrame(schema={"run_id": pl.String}), "non-empty"),
    ],
)
def test_refuses_frames_that_cannot_name_their_file(
    tmp_path: Path, frame: pl.DataFrame, message: str
) -> None:
    ds = ParquetFolderDataset(path=str(tmp_path), file_name="{run_id}.parquet")
    with pytest.raises(DatasetError, match=message):
        ds.save(frame)
    assert not list(tmp_path.iterdir())


def test_a_key_cannot_escape_the_folder(tmp_path: Path) -> None:
    ds = ParquetFolderDataset(path=str(tmp_path / "runs"), file_name="{run_id}.parquet")
    ds.save(_row("../../etc/x", "s", 1))
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [".._.._etc_x.parquet"]


def test_refuses_a_file_name_that_is_a_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="plain file name"):
        ParquetFolderDataset(path=str(tmp_path), file_name="sub/{run_id}.parquet")


@pytest.mark.slow
def test_on_s3(s3: S3Server) -> None:
    bucket = f"folder-{uuid.uuid4().hex[:8]}"
    client = boto3.client(
        "s3", endpoint_url=s3.endpoint_url, aws_access_key_id=s3.key,
        aws_secret_access_key=s3.secret, region_name="us-east-1",
    )  # fmt: skip
    client.create_bucket(Bucket=bucket)
    ds = ParquetFolderDataset(
        path=f"s3://{bucket}/quality/runs",
        file_name="{run_id}.{status}.parquet",
        credentials=s3.credentials(),
    )
    assert ds.load().is_empty()
    ds.save(_row("a", "running", 1))
    ds.save(_row("a", "failed", 2))
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["quality/runs/a.failed.parquet", "quality/runs/a.running.parquet"]
    assert ds.load().sort("n")["status"].to_list() == ["running", "failed"]
    assert s3.secret not in str(ds)
