"""TableChangesDataset: the rows of a lake table changed since the version a layer was built
from, read from the Delta log of real tables (a local lake and the S3 server)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import polars as pl
import pytest
import s3fs
from deltalake import DeltaTable
from kedro.io.core import DatasetError

import medallion_kedro.lake as lakes
from medallion_kedro.datasets import DeltaTableDataset
from medallion_kedro.datasets.table_changes import TableChangesDataset
from tests.servers import S3Server


def _rows(keys: list[int], tag: str = "v") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "k": keys,
            "v": [f"{tag}{k}" for k in keys],
            "at": [dt.datetime(2026, 1, 1) + dt.timedelta(days=k) for k in keys],
        }
    )


def _built_from(table: DeltaTableDataset, sources: dict[str, int] | None) -> None:
    """Publish a gold table whose entry names ``sources`` (what a gold run records)."""
    entry: dict[str, Any] = {"format": "delta", "version": 0, "run_id": "gold", "rows": 0}
    if sources is not None:
        entry["sources"] = sources
    lakes.commit_entries(table.lake, {"gold.t": entry}, "gold")


def _sorted(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    return sorted(frame.select("k", "v").iter_rows())


@pytest.fixture
def silver(tmp_path: Any) -> DeltaTableDataset:
    table = DeltaTableDataset(filepath=str(tmp_path / "lake/silver/t"))
    table.save(_rows([1, 2, 3]))  # version 0
    return table


def _changes(table: DeltaTableDataset, **load_args: Any) -> TableChangesDataset:
    return TableChangesDataset(
        filepath=table.uri, since="gold", load_args={"max_share": 1, **load_args}
    )


def test_new_files_are_new_rows_and_a_rewrite_cancels_its_copied_rows(
    silver: DeltaTableDataset,
) -> None:
    _built_from(silver, {"silver.t": 0})
    appended = DeltaTableDataset(filepath=silver.uri, save_args={"mode": "append"})
    appended.save(_rows([4]))  # version 1: one new file
    changes = _changes(silver).load()
    assert changes.full is None
    assert changes.previous.height == 0
    assert _sorted(changes.current) == [(4, "v4")]

    # version 2: every row rewritten into one file: 1 deleted, 2 corrected, 3 copied; 4 is
    # still new since version 0, the one gold was built from
    silver.save(pl.concat([_rows([2], "new"), _rows([3, 4])]))
    changes = _changes(silver).load()
    assert _sorted(changes.previous) == [(1, "v1"), (2, "v2")]
    assert _sorted(changes.current) == [(2, "new2"), (4, "v4")]


def test_the_same_version_has_no_changes(silver: DeltaTableDataset) -> None:
    _built_from(silver, {"silver.t": 0})
    changes = _changes(silver).load()
    assert changes.full is None
    assert changes.previous.height == changes.current.height == 0


@pytest.mark.parametrize(
    ("sources", "load_args", "reason"),
    [
        (None, {}, "name no version of silver.t"),
        ({"silver.t": 0}, {"as_of": "2026-01-01T00:00:00"}, "silver_as_of is set"),
        ({"silver.t": 0}, {"max_share": 0.5}, "more than max_share 50%"),
        ({"silver.t": 1}, {"max_share": 0}, "max_share is 0"),  # even with no change
    ],
)
def test_gold_is_recomputed_when_the_changes_are_not_known_or_too_large(
    silver: DeltaTableDataset, sources: dict[str, int] | None, load_args: Any, reason: str
) -> None:
    _built_from(silver, sources)
    silver.save(_rows([1, 2, 3, 4]))  # every row in a new file: 7 of 7 rows changed
    assert reason in str(_changes(silver, **load_args).load().full)


def test_no_gold_yet_and_a_vacuumed_version_mean_a_full_recompute(
    silver: DeltaTableDataset,
) -> None:
    assert "gold has no published table" in str(_changes(silver).load().full)
    _built_from(silver, {"silver.t": 0})
    silver.save(_rows([7]))
    DeltaTable(silver.uri).vacuum(
        retention_hours=0, enforce_retention_duration=False, dry_run=False
    )
    assert "version 0 of silver.t was vacuumed" in str(_changes(silver).load().full)


def test_max_share_is_a_share(silver: DeltaTableDataset) -> None:
    with pytest.raises(DatasetError, match="max_share must be a share from 0 to 1"):
        _changes(silver, max_share=5)


def test_changes_on_s3(s3: S3Server) -> None:
    fs = s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True)
    bucket = f"changes-{uuid.uuid4().hex[:8]}"
    fs.mkdir(bucket)
    uri = f"s3://{bucket}/lake/silver/t"
    table = DeltaTableDataset(filepath=uri, credentials=s3.credentials())
    table.save(_rows([1, 2]))
    _built_from(table, {"silver.t": 0})
    table.save(_rows([2, 3]))
    changes = TableChangesDataset(
        filepath=uri, since="gold", credentials=s3.credentials(), load_args={"max_share": 1}
    ).load()
    assert changes.full is None
    assert _sorted(changes.previous) == [(1, "v1")]
    assert _sorted(changes.current) == [(3, "v3")]
