"""DeltaTableDataset: Delta versions published through the lake's commit record."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import s3fs
from deltalake import DeltaTable
from kedro.io.core import DatasetError

import medallion_kedro.lake as lakes
from medallion_kedro.datasets import DeltaTableDataset
from medallion_kedro.lake import read_table
from medallion_kedro.lake.changes import KeyedChanges
from tests.servers import S3Server


def _record(lake: Path) -> dict[str, Any]:
    return dict(json.loads((lake / "_lake.json").read_text()))


def _frame(keys: list[int], tag: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "k": keys,
            "v": [f"{tag}{k}" for k in keys],
            "at": [dt.datetime(2026, 1, 1) + dt.timedelta(days=k) for k in keys],
        }
    )


def test_delta_table_saves_commits_and_previews(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ds = DeltaTableDataset(filepath=str(lake / "gold" / "t"))
    assert not ds.exists()
    with pytest.raises(DatasetError, match=r"no published version .* --pipelines gold"):
        ds.load()
    frame = _frame(list(range(20)), "a")
    ds.save(frame.lazy())
    assert ds.exists() and isinstance(ds.load(), pl.LazyFrame)
    assert ds.load().collect().equals(frame)
    preview = ds.preview(3)
    assert preview["columns"] == ["k", "v", "at"] and len(preview["data"]) == 3
    entry = _record(lake)["tables"]["gold.t"]
    assert entry["format"] == "delta" and entry["version"] == 0 and entry["rows"] == 20
    assert (lake / "gold" / "t" / "_delta_log").is_dir()
    protocol = DeltaTable(str(lake / "gold" / "t")).protocol()
    assert "timestampNtz" in (protocol.writer_features or [])  # naive timestamps
    assert sorted(p.name for p in lake.iterdir()) == ["_lake.json", "gold"]  # no lock left
    assert read_table(str(lake), "gold", "t").equals(frame)


def test_delta_modes_append_and_merge(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    path = str(lake / "silver" / "t")
    DeltaTableDataset(filepath=path).save(_frame([1, 2, 3], "a"))
    DeltaTableDataset(filepath=path, save_args={"mode": "append"}).save(_frame([4], "b"))
    assert sorted(read_table(str(lake), "silver", "t")["k"]) == [1, 2, 3, 4]
    merge = DeltaTableDataset(
        filepath=path, save_args={"mode": "merge", "keys": ["k"], "compression": "zstd"}
    )
    merge.save(_frame([2, 5], "c"))
    got = dict(read_table(str(lake), "silver", "t").select("k", "v").iter_rows())
    assert got == {1: "a1", 2: "c2", 3: "a3", 4: "b4", 5: "c5"}
    entry = _record(lake)["tables"]["silver.t"]
    assert entry["version"] == 2 and entry["rows"] == 5
    assert entry["merge"]["num_target_rows_updated"] == 1
    assert entry["merge"]["num_target_rows_inserted"] == 1
    assert _record(lake)["previous"]["silver.t"]["version"] == 1
    # time travel: load_args and load_version
    v0 = DeltaTableDataset(filepath=path, load_args={"version": 0}).load().collect()
    assert sorted(v0["k"]) == [1, 2, 3]
    assert merge.load_version(version=1).collect().height == 4


def test_keyed_changes_replace_and_delete_only_their_keys(tmp_path: Path) -> None:
    """A node's KeyedChanges: rows replace or add their keys, keys without a row are
    deleted, every other row stays; a table without merge keys refuses them."""
    lake = tmp_path / "lake"
    path = str(lake / "silver" / "t")
    merge = DeltaTableDataset(filepath=path, save_args={"mode": "merge", "keys": ["k"]})
    merge.save(KeyedChanges(_frame([1, 2, 3, 4], "a"), pl.DataFrame({"k": [1, 2, 3, 4]})))
    merge.save(KeyedChanges(_frame([2, 5], "c").lazy(), pl.DataFrame({"k": [2, 3, 5]})))
    got = dict(read_table(str(lake), "silver", "t").select("k", "v").iter_rows())
    assert got == {1: "a1", 2: "c2", 4: "a4", 5: "c5"}
    assert _record(lake)["tables"]["silver.t"]["rows"] == 4
    with pytest.raises(DatasetError, match="needs save_args.mode 'merge' and save_args.keys"):
        DeltaTableDataset(filepath=path).save(KeyedChanges(_frame([1], "x"), _frame([1], "x")))


def test_delta_merge_with_predicate_and_bad_modes(tmp_path: Path) -> None:
    path = str(tmp_path / "lake" / "silver" / "t")
    with pytest.raises(DatasetError, match="needs save_args.keys"):
        DeltaTableDataset(filepath=path, save_args={"mode": "merge"})
    with pytest.raises(DatasetError, match="'upsert' is not one of overwrite, append, merge"):
        DeltaTableDataset(filepath=path, save_args={"mode": "upsert"})
    DeltaTableDataset(filepath=path).save(_frame([1, 2], "a"))
    ds = DeltaTableDataset(
        filepath=path, save_args={"mode": "merge", "predicate": "s.k = t.k AND s.k > 1"}
    )
    ds.save(_frame([1, 2], "z"))  # k=1 does not match the predicate: inserted again
    rows = sorted(ds.load().collect().select("k", "v").iter_rows())
    assert rows == [(1, "a1"), (1, "z1"), (2, "z2")]


def test_unnamed_delta_version_is_never_read_nor_built_upon(tmp_path: Path) -> None:
    """A version a killed run wrote (not in the record) is invisible and undone on write."""
    lake = tmp_path / "lake"
    path = str(lake / "bronze" / "t")
    append = DeltaTableDataset(filepath=path, save_args={"mode": "append"})
    append.save(_frame([1], "a"))
    before = (lake / "_lake.json").read_bytes()
    # what a run killed after its write and before its commit leaves: a Delta version
    _frame([99], "x").write_delta(path, mode="append")
    assert DeltaTable(path).version() == 1
    assert (lake / "_lake.json").read_bytes() == before
    assert append.load().collect()["k"].to_list() == [1]
    append.save(_frame([2], "b"))
    assert sorted(append.load().collect()["k"]) == [1, 2]  # 99 is not built upon
    assert _record(lake)["tables"]["bronze.t"]["rows"] == 2


def test_run_transaction_stages_delta_versions_until_commit(tmp_path: Path) -> None:
    lake_root = tmp_path / "lake"
    a = DeltaTableDataset(filepath=str(lake_root / "silver" / "a"))
    b = DeltaTableDataset(filepath=str(lake_root / "silver" / "b"))
    a.save(_frame([1], "old"))
    b.save(_frame([1], "old"))
    before = (lake_root / "_lake.json").read_bytes()
    transaction = lakes.Transaction(a.lake, lakes.new_run_id())
    lakes.begin(transaction)
    try:
        a.save(_frame([1, 2], "new"))
        assert a.load().collect().height == 2  # the run sees its own staged version
        assert (lake_root / "_lake.json").read_bytes() == before  # readers do not
        b.save(_frame([1, 2], "new"))
        transaction.commit({"silver.a", "silver.b"})
    finally:
        lakes.end(a.lake)
    record = _record(lake_root)
    assert record["tables"]["silver.a"]["version"] == 1
    assert record["tables"]["silver.b"]["version"] == 1
    assert record["last_commit"]["tables"] == ["silver.a", "silver.b"]
    # a rollback of the lake goes back to Delta version 0 of both, in one commit
    assert lakes.rollback(a.lake).published == {"silver.a": 2, "silver.b": 2}
    assert read_table(str(lake_root), "silver", "a")["v"].to_list() == ["old1"]
    a.save(_frame([3], "after"))  # overwrite on top of the rolled-back version
    assert _record(lake_root)["tables"]["silver.a"]["version"] == 3


def test_delta_table_on_s3_with_concurrent_appends(s3: S3Server) -> None:
    fs = s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True)
    bucket = f"delta-{uuid.uuid4().hex[:8]}"
    fs.mkdir(bucket)
    uri = f"s3://{bucket}/lake/bronze/t"
    ds = DeltaTableDataset(filepath=uri, credentials=s3.credentials())
    assert ds.storage_options["conditional_put"] == "etag"
    ds.save(_frame([0], "a"))
    assert ds.load().collect()["k"].to_list() == [0]
    assert fs.exists(f"{bucket}/lake/_lake.json")
    assert read_table(f"s3://{bucket}/lake", "bronze", "t", s3.credentials()).height == 1

    merge = DeltaTableDataset(
        filepath=uri, credentials=s3.credentials(), save_args={"mode": "merge", "keys": ["k"]}
    )
    merge.save(_frame([0, 5], "m"))
    assert sorted(merge.load().collect().select("k", "v").iter_rows()) == [(0, "m0"), (5, "m5")]
    assert ds.load_version(version=0).collect()["v"].to_list() == ["a0"]

    # 8 concurrent appends from 4 threads, straight through delta-rs (conditional puts)
    raw = f"s3://{bucket}/raw"
    _frame([0], "a").write_delta(raw, storage_options=ds.storage_options)

    def append(start: int) -> None:
        for k in (start, start + 100):
            _frame([k], "c").write_delta(raw, mode="append", storage_options=ds.storage_options)

    threads = [threading.Thread(target=append, args=(i + 1,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert DeltaTable(raw, storage_options=ds.storage_options).version() == 8
    assert sorted(pl.read_delta(raw, storage_options=ds.storage_options)["k"]) == [
        0, 1, 2, 3, 4, 101, 102, 103, 104
    ]  # fmt: skip


def test_compact_publishes_the_same_rows_in_fewer_files(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    path = str(lake / "bronze" / "t")
    ds = DeltaTableDataset(filepath=path, save_args={"mode": "append"})
    for k in range(4):
        ds.save(_frame([k], "a"))
    previous = _record(lake)["previous"]["bronze.t"]
    assert len(DeltaTable(path).file_uris()) == 4
    assert ds.compact() == "4 files rewritten into 1"
    entry = _record(lake)["tables"]["bronze.t"]
    assert entry["version"] == 4 and entry["compacted_from"] == 3
    assert _record(lake)["previous"]["bronze.t"] == previous
    assert len(DeltaTable(path).file_uris()) == 1
    assert sorted(ds.load().collect()["k"]) == [0, 1, 2, 3]
    # the small files are the previous version's: a vacuum without retention keeps them
    assert ds.vacuum(0) == []
    assert sorted(ds.load().collect()["k"]) == [0, 1, 2, 3]
    assert sorted(ds.load_version(version=previous["version"]).collect()["k"]) == [0, 1, 2]


def _reference_merge(batch: pl.DataFrame, reference: str) -> dict[str, Any]:
    """delta-rs' own MERGE of ``batch`` into the ``reference`` table by key ``k``: its metrics."""
    merger = batch.write_delta(
        reference,
        mode="merge",
        delta_merge_options={"predicate": "s.k = t.k", "source_alias": "s", "target_alias": "t"},
    )
    assert merger is not None
    return merger.when_matched_update_all().when_not_matched_insert_all().execute()


def test_merge_by_keys_matches_delta_rs_merge_and_rewrites_only_files_with_a_key(
    tmp_path: Path,
) -> None:
    """A merge by keys gives the rows and row metrics of delta-rs' MERGE; it rewrites the
    files holding a merged key and adds one for the new keys, in one commit."""
    lake = tmp_path / "lake"
    ds = DeltaTableDataset(
        filepath=str(lake / "silver" / "t"), save_args={"mode": "merge", "keys": ["k"]}
    )
    batches = [
        _frame([1, 2, 3], "a"),
        _frame([4, 5], "b"),
        _frame([7, 8], "x"),
        _frame([2, 5, 6], "c"),
    ]
    for batch in batches:
        ds.save(batch)
    reference = str(tmp_path / "reference")
    batches[0].write_delta(reference)
    for batch in batches[1:]:
        expected = _reference_merge(batch, reference)
    got = ds.load().collect().sort("k")
    assert got.equals(pl.read_delta(reference).sort("k"))
    assert got["v"].to_list() == ["a1", "c2", "a3", "b4", "c5", "c6", "x7", "x8"]
    entry = _record(lake)["tables"]["silver.t"]
    assert entry["rows"] == 8 and entry["version"] == 3
    assert entry["merge"] == {
        k: expected[k]
        for k in ("num_source_rows", "num_target_rows_inserted", "num_target_rows_updated",
                  "num_target_rows_deleted")
    }  # fmt: skip
    # the files of keys 1-3 and 4-5 rewritten (3 + 2 rows), one file added for key 6;
    # the file of keys 7-8 untouched
    assert entry["rows_written"] == 6
    added = pl.DataFrame(DeltaTable(ds.uri, version=2).get_add_actions(flatten=True))
    kept = added.filter(pl.col("min.k") == 7)["path"].item()
    assert kept in DeltaTable(ds.uri).get_add_actions(flatten=True).column("path").to_pylist()
    assert len(DeltaTable(ds.uri).file_uris()) == 4
    assert pl.read_delta(ds.uri, version=1).height == 5  # time travel


def test_every_write_carries_the_run_and_its_batches_as_commit_metadata(tmp_path: Path) -> None:
    """Each Delta version names its run and batches in its commitInfo (delta-rs'
    ``CommitProperties``), whichever writer wrote it."""
    lake = tmp_path / "lake"
    path = str(lake / "silver" / "t")
    rows = _frame([1, 2], "a").with_columns(_batch_id=pl.lit("b1"))
    DeltaTableDataset(filepath=path).save(rows)
    merge = DeltaTableDataset(filepath=path, save_args={"mode": "merge", "keys": ["k"]})
    merge.save(_frame([2, 3], "c").with_columns(_batch_id=pl.lit("b2")))
    history = DeltaTable(path).history()
    record = _record(lake)
    assert [h["batch_ids"] for h in history] == [["b1", "b2"], ["b1"]]
    assert history[0]["run_id"] == record["tables"]["silver.t"]["run_id"]
    assert history[1]["run_id"] == record["previous"]["silver.t"]["run_id"]


def test_a_keyed_write_loses_cleanly_to_a_writer_that_rewrote_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer outside the run (no lake lock) rewrites the table while a merge prepares its
    commit: delta-rs refuses the merge's commit, nothing is published."""
    import medallion_kedro.datasets.delta_table as module

    lake = tmp_path / "lake"
    ds = DeltaTableDataset(
        filepath=str(lake / "silver" / "t"), save_args={"mode": "merge", "keys": ["k"]}
    )
    ds.save(_frame([1, 2, 3], "a"))
    rewrite = module.rewrite_keys

    def other_writer_first(*args: Any, **kwargs: Any) -> Any:
        done = rewrite(*args, **kwargs)
        _frame([9], "z").write_delta(ds.uri, mode="overwrite")  # removes the merged file
        return done

    monkeypatch.setattr(module, "rewrite_keys", other_writer_first)
    with pytest.raises(
        DatasetError, match="(?s)another writer changed the Delta table.*Nothing was published"
    ):
        ds.save(_frame([2, 4], "b"))
    monkeypatch.undo()
    assert _record(lake)["tables"]["silver.t"]["version"] == 0
    assert sorted(ds.load().collect()["k"].to_list()) == [1, 2, 3]
    assert DeltaTable(ds.uri).history(1)[0]["operation"] == "WRITE"  # the other writer's


def test_polars_written_merge_refuses_repeated_keys(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    ds = DeltaTableDataset(
        filepath=str(lake / "silver" / "t"), save_args={"mode": "merge", "keys": ["k"]}
    )
    ds.save(_frame([1, 2, 3], "a"))
    before = DeltaTable(ds.uri).version()
    with pytest.raises(DatasetError, match=r"the new rows repeat keys \['k'\] \(e.g. \(2,\)\)"):
        ds.save(pl.concat([_frame([2, 4], "b"), _frame([2], "c")]))
    assert DeltaTable(ds.uri).version() == before
    assert _record(lake)["tables"]["silver.t"]["version"] == before
    assert sorted(ds.load().collect()["k"].to_list()) == [1, 2, 3]
