"""DeltaTableDataset opens its Delta table once and then moves that one handle: opening
reads the table's whole ``_delta_log`` (on S3, several requests), so the count of opens
of a save and a load is pinned here; and the handle never hides another writer's version."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import s3fs
from deltalake import DeltaTable

from medallion_kedro.datasets import DeltaTableDataset
from medallion_kedro.lake.changes import KeyedChanges
from tests.servers import S3Server

KEYED = {"mode": "merge", "keys": ["k"]}


def _rows(keys: list[int], tag: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"k": keys, "v": [f"{tag}{k}" for k in keys]}, schema={"k": pl.Int64, "v": pl.String}
    )


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The table URIs of every ``DeltaTable`` opened (by the dataset, or by polars for it)."""
    opened: list[str] = []
    init = DeltaTable.__init__

    def counting(self: DeltaTable, table_uri: Any, *args: Any, **kwargs: Any) -> None:
        opened.append(str(table_uri))
        init(self, table_uri, *args, **kwargs)

    monkeypatch.setattr(DeltaTable, "__init__", counting)
    yield opened


def _save_and_load_twice(ds: DeltaTableDataset) -> None:
    """A first save (a new table), a keyed save on it, each read back, and a time travel."""
    ds.save(_rows([1, 2], "a"))
    assert sorted(ds.load().collect().rows()) == [(1, "a1"), (2, "a2")]
    ds.save(KeyedChanges(_rows([2, 3], "b"), _rows([1], "-")))
    assert sorted(ds.load().collect().rows()) == [(2, "b2"), (3, "b3")]
    assert ds.load_version(version=0).collect().height == 2
    assert ds.latest_version() == 1


def test_a_local_table_is_opened_once_per_dataset(tmp_path: Path, opens: list[str]) -> None:
    ds = DeltaTableDataset(filepath=str(tmp_path / "lake" / "silver" / "t"), save_args=KEYED)
    _save_and_load_twice(ds)
    # one try before the table exists, one open after its first version
    assert len(opens) == 2, opens


def test_an_s3_table_is_opened_once_per_dataset(s3: S3Server, opens: list[str]) -> None:
    bucket = f"opens-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True).mkdir(bucket)
    ds = DeltaTableDataset(
        filepath=f"s3://{bucket}/lake/silver/t", credentials=s3.credentials(), save_args=KEYED
    )
    _save_and_load_twice(ds)
    # the dataset's two (as locally) and polars' one per scan of a version on S3
    assert len(opens) == 2 + 3, opens


def test_the_handle_never_hides_a_version_another_writer_published(tmp_path: Path) -> None:
    path = str(tmp_path / "lake" / "bronze" / "t")
    ours = DeltaTableDataset(filepath=path, save_args=KEYED)
    ours.save(_rows([1], "a"))
    assert ours.load().collect().height == 1  # our handle is open, at version 0
    theirs = DeltaTableDataset(filepath=path, save_args={"mode": "append"})
    theirs.save(_rows([2], "t"))  # another writer (its own handle) publishes version 1
    assert ours.latest_version() == 1
    assert sorted(ours.load().collect()["k"]) == [1, 2]
    ours.save(KeyedChanges(_rows([3], "c"), _rows([1], "-")))  # built on version 1
    assert sorted(ours.load().collect()["k"]) == [2, 3]
    assert sorted(theirs.load().collect()["k"]) == [2, 3]
