"""The export pipeline through Kedro, against a real nx-27017 server.

These tests write the real collection names (``customer_metrics``, ``kpis``...). nx-27017
in single-file mode shares collection names across databases, so they use a server of
their own rather than the session one, where other tests may hold the same names.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pymongo
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.core import DatasetError
from kedro.runner import SequentialRunner
from polars.testing import assert_frame_equal

from medallion_dev.gold_samples import gold_tables, write_gold_lake
from medallion_kedro import settings
from medallion_kedro.datasets import _mongo_client as mc
from medallion_kedro.datasets import _mongo_write as mw
from medallion_kedro.datasets import mongo_manifest as mm
from medallion_kedro.pipelines.export.pipeline import create_pipeline
from medallion_kedro.runs.records import latest
from medallion_kedro.schemas import GOLD, GOLD_KEYS
from tests.servers import MongoServer, mongo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    with mongo_server(tmp_path_factory.mktemp("export") / "export.db") as srv:
        yield srv
    mc.close_clients()


@pytest.fixture
def mongo_env(server: MongoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    database = f"export_{uuid.uuid4().hex[:8]}"  # each test's own: each is another lake
    monkeypatch.setenv("MONGO_URI", server.uri)
    monkeypatch.setenv("MONGO_DB", database)
    return database


def _db(server: MongoServer, database: str) -> Any:
    return mc.get_client(server.uri)[database]


def _catalog(project_root: Path, gold: dict[str, pl.DataFrame]) -> DataCatalog:
    # the project's own loader and arguments, as `kedro run` builds them
    loader = settings.CONFIG_LOADER_CLASS(str(project_root / "conf"), **settings.CONFIG_LOADER_ARGS)
    catalog = DataCatalog.from_config(loader["catalog"], loader["credentials"])
    for name, frame in gold.items():
        catalog[f"gold.{name}"] = MemoryDataset(frame, copy_mode="assign")
    for name, value in (
        ("lake.gold_versions", {}),
        ("lake.identity", {"id": "lake-test", "uri": "memory"}),
        ("quality.runs", pl.DataFrame()),
        ("quality.node_runs", pl.DataFrame()),
    ):
        catalog[name] = MemoryDataset(value, copy_mode="assign")
    return catalog


def _assert_published(server: MongoServer, database: str, gold: dict[str, pl.DataFrame]) -> str:
    """Check the manifest names one complete copy of ``gold``; return its run id."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(server.uri)
    try:
        db = client[database]
        manifest = mm.read_manifest(db)
        assert manifest is not None
        run_id = manifest["run_id"]
        assert set(manifest["collections"]) == set(GOLD) | {"runs", "data_quality"}
        for name, frame in gold.items():
            entry = manifest["collections"][name]
            assert entry["name"] == f"{name}__{run_id}"
            assert entry["documents"] == frame.height
            assert entry["checksum"] == mw.collection_checksum(db[entry["name"]])
            docs = list(db[entry["name"]].find())
            key = GOLD_KEYS[name]
            expected_ids = sorted(frame[key].to_list()) if key else ["kpis"]
            assert sorted(d["_id"] for d in docs) == expected_ids, name
            loaded = pl.from_dicts(docs).drop("_id").sort(key or "as_of")
            want = frame.with_columns(
                pl.col(pl.Date).cast(pl.Datetime("us")), pl.col(pl.Decimal).cast(pl.Float64)
            )
            assert_frame_equal(loaded, want.sort(key or "as_of"), check_dtypes=name != "kpis")
            assert manifest["sources"][name]["rows"] == frame.height
        indexes = db[manifest["collections"]["customer_metrics"]["name"]].index_information()
        unique = {spec["key"][0][0] for spec in indexes.values() if spec.get("unique")}
        assert "customer_id" in unique
        assert db[mm.HISTORY].find_one({"_id": run_id}) is not None
        assert db[mm.LEASES].find_one({"_id": run_id}) is None
        return str(run_id)
    finally:
        client.close()


def test_export_runs_on_the_project_catalog(
    project_root: Path, server: MongoServer, mongo_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    gold = gold_tables(n_customers=500)
    with caplog.at_level(logging.INFO, logger="medallion_kedro"):
        SequentialRunner().run(create_pipeline(), _catalog(project_root, gold))
    _assert_published(server, mongo_env, gold)
    for name, frame in gold.items():
        assert f"Wrote {frame.height} documents to MongoDB {mongo_env}.{name} (" in caplog.text

    # re-running publishes a new run, never duplicates, and keeps the previous one
    first = mm.read_manifest(_db(server, mongo_env))
    smaller = gold_tables(n_customers=100)
    SequentialRunner().run(create_pipeline(), _catalog(project_root, smaller))
    run_id = _assert_published(server, mongo_env, smaller)
    manifest = mm.read_manifest(_db(server, mongo_env))
    assert first is not None and manifest is not None
    assert manifest["previous"]["run_id"] == first["run_id"] != run_id
    held = _db(server, mongo_env).list_collection_names()
    assert {c["name"] for c in first["collections"].values()} <= set(held)


def _run_export(
    project_root: Path, lake: Path, monkeypatch: pytest.MonkeyPatch, **params: Any
) -> None:
    """``kedro run --pipelines export [--params ...]`` of ``lake``, in this process."""
    monkeypatch.setenv("LAKE_PATH", str(lake))
    bootstrap_project(project_root)
    cwd = os.getcwd()
    try:
        with KedroSession.create(
            project_path=project_root, save_on_close=False, runtime_params=params
        ) as session:
            session.run(pipeline_names=["export"])  # type: ignore[call-arg]
    finally:
        os.chdir(cwd)


@pytest.mark.slow
def test_kedro_run_pipeline_export(
    project_root: Path,
    server: MongoServer,
    mongo_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gold = gold_tables(n_customers=150)
    write_gold_lake(tmp_path, n_customers=150)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    _run_export(project_root, tmp_path, monkeypatch)
    export_run = _assert_published(server, mongo_env, gold)
    # the manifest and the run record point at each other
    runs = latest(pl.read_parquet(tmp_path / "quality" / "runs" / "*.parquet"))
    run = runs.filter(pl.col("status") == "succeeded").row(0, named=True)
    assert run["export_run_id"] == export_run
    manifest = mm.read_manifest(_db(server, mongo_env))
    assert manifest is not None and manifest["pipeline_run_id"] == run["run_id"]
    assert manifest["lake_id"] == (tmp_path / "_lake_id").read_text().strip()
    # once the run ended, the export serves its final state, as the lake records it
    published = _db(server, mongo_env)[manifest["collections"]["runs"]["name"]]
    doc = published.find_one({"_id": run["run_id"]})
    assert (doc["status"], doc["nodes_done"], doc["export_run_id"]) == (
        "succeeded",
        run["nodes_done"],
        export_run,
    )
    assert doc["seconds"] == run["seconds"] > 0
    entry = manifest["collections"]["runs"]
    assert entry["documents"] == published.count_documents({})
    assert entry["checksum"] == mw.collection_checksum(published)


@pytest.mark.slow
def test_an_export_never_replaces_another_lakes_manifest_unasked(
    project_root: Path,
    server: MongoServer,
    mongo_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = (
        write_gold_lake(tmp_path / "first", 40),
        write_gold_lake(tmp_path / "second", 30),
    )
    _run_export(project_root, first, monkeypatch)
    db = _db(server, mongo_env)
    published = mm.read_manifest(db)
    assert published is not None
    held = set(db.list_collection_names())

    with pytest.raises(DatasetError) as refused:
        _run_export(project_root, second, monkeypatch)
    first_id = (first / "_lake_id").read_text().strip()
    assert published["lake_id"] == first_id and published["lake_uri"] == str(first)
    second_id = (second / "_lake_id").read_text().strip()
    message = str(refused.value)
    assert first_id in message and second_id in message and first_id != second_id
    assert "--params replace_other_lake=true" in message
    assert mm.read_manifest(db) == published  # untouched, and nothing else written
    assert set(db.list_collection_names()) == held

    _run_export(project_root, second, monkeypatch, replace_other_lake=True)
    replaced = mm.read_manifest(db)
    assert replaced is not None and replaced["lake_id"] == second_id
    assert replaced["previous"]["run_id"] == published["run_id"]
    with pytest.raises(DatasetError, match=second_id):  # and now the first lake is refused
        _run_export(project_root, first, monkeypatch)
