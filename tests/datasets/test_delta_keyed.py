"""DeltaTableDataset's files: full statistics, file skipping, and keyed changes written
where their keys live (locally and on S3), equal to applying them to a plain frame."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import s3fs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medallion_kedro.datasets import DeltaTableDataset
from medallion_kedro.lake.changes import KeyedChanges
from tests.servers import S3Server

#: 100 rows of keys 0..99 in files of 10 rows sorted by key: file i holds keys 10i..10i+9.
LAYOUT = {"mode": "merge", "keys": ["k"], "cluster_by": ["k"], "target_file_rows": 10}


def _rows(keys: list[int], tag: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"k": keys, "v": [f"{tag}{k}" for k in keys]}, schema={"k": pl.Int64, "v": pl.String}
    )


def _files(ds: DeltaTableDataset) -> dict[str, int]:
    """The data files of the table's latest version -> their rows (from the Delta log)."""
    actions = pl.DataFrame(ds.table().get_add_actions(flatten=True))
    return dict(actions.select("path", "num_records").iter_rows())


def _table(path: str, **credentials: Any) -> DeltaTableDataset:
    return DeltaTableDataset(filepath=path, save_args=dict(LAYOUT), **credentials)


def test_files_carry_full_statistics_that_delta_rs_reads(tmp_path: Path) -> None:
    """Every add action has numRecords and, per column, min, max and null count, read back
    by delta-rs as the frame's own values (exact decimals and microseconds)."""
    frame = pl.DataFrame(
        {
            "k": [3, 1, None],
            "s": ["b", "a", None],
            "d": [dt.date(2026, 1, 2), None, dt.date(2025, 12, 31)],
            "t": [dt.datetime(2026, 1, 1, 1, 2, 3, 456789), None, dt.datetime(2026, 1, 2)],
            "m": pl.Series(["12.35", "0.01", None]).str.to_decimal(scale=2),
            "x": [1.5, float("nan"), -2.0],
        }
    )
    ds = DeltaTableDataset(filepath=str(tmp_path / "lake" / "silver" / "t"))
    ds.save(frame)
    (add,) = pl.DataFrame(ds.table().get_add_actions(flatten=True)).to_dicts()
    assert add["num_records"] == 3
    for column in frame.columns:
        assert add[f"null_count.{column}"] == frame[column].null_count(), column
    assert (add["min.k"], add["max.k"]) == (1, 3)
    assert (add["min.s"], add["max.s"]) == ("a", "b")
    assert (add["min.d"], add["max.d"]) == (dt.date(2025, 12, 31), dt.date(2026, 1, 2))
    assert add["min.t"] == dt.datetime(2026, 1, 1, 1, 2, 3, 456789)
    assert add["max.t"] == dt.datetime(2026, 1, 2)
    assert (add["min.m"], add["max.m"]) == (decimal.Decimal("0.01"), decimal.Decimal("12.35"))
    assert (add["min.x"], add["max.x"]) == (-2.0, 1.5)  # NaN bounds nothing


def test_a_filtered_read_skips_the_files_whose_statistics_exclude_it(tmp_path: Path) -> None:
    """Laid out by key (cluster_by, target_file_rows), a read of one key range opens only
    the files of that range: delta-rs prunes them by the min/max statistics."""
    ds = _table(str(tmp_path / "lake" / "silver" / "t"))
    ds.save(_rows(list(range(100))[::-1], "a"))  # given in any order: written sorted
    table = ds.table()
    assert len(table.file_uris()) == 10
    assert len(table.file_uris(file_pruning_predicate="k = 42")) == 1
    assert len(table.file_uris(file_pruning_predicate="k >= 35 AND k < 55")) == 3
    assert pl.DataFrame(table.get_add_actions(flatten=True))["num_records"].to_list() == [10] * 10
    read = ds.load().filter(pl.col("k").is_between(35, 54)).collect()
    assert sorted(read["k"]) == list(range(35, 55))


def _keyed_save_touches_one_key_range(ds: DeltaTableDataset) -> None:
    ds.save(_rows(list(range(100)), "a"))
    before, version = _files(ds), ds.table().version()
    changes = KeyedChanges(_rows([31, 35, 101, 102], "b"), pl.DataFrame({"k": [31, 35, 38]}))
    ds.save(changes)
    after = _files(ds)
    removed = set(before) - set(after)
    added = set(after) - set(before)
    assert [before[p] for p in removed] == [10]  # the file of keys 30..39 only
    assert sorted(after[p] for p in added) == [2, 9]  # it without 38, and the new keys
    got = dict(ds.load().collect().iter_rows())
    assert got[31] == "b31" and got[35] == "b35" and 38 not in got and got[101] == "b101"
    assert got[30] == "a30" and len(got) == 101
    entry = ds.current_entry()
    assert entry is not None and entry["rows"] == 101 and entry["rows_written"] == 11
    assert entry["merge"] == {
        "num_source_rows": 4,
        "num_target_rows_inserted": 2,
        "num_target_rows_updated": 2,
        "num_target_rows_deleted": 1,
    }
    assert ds.table().version() == version + 1  # one Delta commit


def test_keyed_changes_rewrite_only_the_files_of_their_keys(tmp_path: Path) -> None:
    _keyed_save_touches_one_key_range(_table(str(tmp_path / "lake" / "silver" / "t")))


def test_keyed_changes_rewrite_only_the_files_of_their_keys_on_s3(s3: S3Server) -> None:
    bucket = f"keyed-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True).mkdir(bucket)
    ds = _table(f"s3://{bucket}/lake/silver/t", credentials=s3.credentials())
    _keyed_save_touches_one_key_range(ds)


def _ranges(ds: DeltaTableDataset) -> list[tuple[int, int]]:
    """The (min, max) key of each data file, by min."""
    actions = pl.DataFrame(ds.table().get_add_actions(flatten=True))
    return sorted(actions.select("min.k", "max.k").iter_rows())


def _overlap(ranges: list[tuple[int, int]]) -> bool:
    return any(high >= low for (_, high), (low, _) in zip(ranges, ranges[1:], strict=False))


def test_compact_keeps_the_layout(tmp_path: Path) -> None:
    """A batch's new keys add small files: compact joins them into files of about
    target_file_rows rows; with z_order the table is sorted by cluster_by again, so each
    file holds its own key range."""
    ds = DeltaTableDataset(
        filepath=str(tmp_path / "lake" / "silver" / "t"),
        save_args={**LAYOUT, "target_file_rows": 20_000},
    )
    ds.save(_rows(list(range(0, 100_000, 2)), "a"))
    no_key = pl.DataFrame(schema={"k": pl.Int64})
    for start in range(1, 100_000, 20_000):  # five batches of new odd keys: five files
        ds.save(KeyedChanges(_rows(list(range(start, start + 20_000, 2)), "b"), no_key))
    before = ds.load().collect().sort("k")
    assert len(_files(ds)) == 8 and _overlap(_ranges(ds))
    assert ds.compact(z_order=True).startswith("8 files rewritten into ")
    assert ds.load().collect().sort("k").equals(before)
    assert not _overlap(_ranges(ds))
    assert max(_files(ds).values()) <= 20_000
    small = DeltaTableDataset(
        filepath=str(tmp_path / "lake" / "silver" / "small"),
        save_args={**LAYOUT, "target_file_rows": 1_000},
    )
    for start in range(0, 60, 10):
        small.save(_rows(list(range(start, start + 10)), "c"))
    assert small.compact() == "6 files rewritten into 1"
    assert sorted(small.load().collect()["k"]) == list(range(60))


@st.composite
def _batches(draw: st.DrawFn) -> list[tuple[dict[int, str], list[int]]]:
    """Batches of keyed changes over keys 0..59: new values for some keys, deletes of others."""
    batches = []
    for _ in range(draw(st.integers(1, 5))):
        rows = draw(st.dictionaries(st.integers(0, 59), st.sampled_from("abc"), max_size=25))
        deleted = draw(st.lists(st.integers(0, 59), max_size=10))
        batches.append((rows, deleted))
    return batches


@pytest.mark.parametrize("writer", ["polars", "delta-rs"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=st.lists(st.integers(0, 59), unique=True, max_size=40), batches=_batches())
def test_keyed_changes_equal_applying_them_to_a_frame(
    tmp_path: Path, writer: str, first: list[int], batches: list[Any]
) -> None:
    """Any sequence of keyed changes gives the table a plain polars frame gets: each row
    replaces or adds its key, each other changed key is deleted, the rest stays."""
    path = tmp_path / uuid.uuid4().hex / "silver" / "t"
    ds = DeltaTableDataset(
        filepath=str(path), save_args={**LAYOUT, "target_file_rows": 7, "keyed_writer": writer}
    )
    expected = _rows(first, "0")
    ds.save(KeyedChanges(expected, expected.select("k")))
    for rows, deleted in batches:
        new = pl.DataFrame({"k": list(rows), "v": list(rows.values())}, schema=expected.schema)
        keys = pl.concat([new.select("k"), pl.DataFrame({"k": deleted}, schema={"k": pl.Int64})])
        expected = pl.concat([expected.join(keys, on="k", how="anti"), new])
        ds.save(KeyedChanges(new.lazy(), keys))
        assert ds.load().collect().sort("k").equals(expected.sort("k"))
        entry = ds.current_entry()
        assert entry is not None and entry["rows"] == expected.height
