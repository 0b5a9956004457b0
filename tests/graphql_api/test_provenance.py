"""Provenance over HTTP: two real exports in a row, served by a real uvicorn on nx-27017.

Each export publishes gold tables of a different size together with a run history and
data quality of its own, so every field of a response says which export it came from.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import polars as pl
import pymongo
import pytest

from medallion_dev.gold_samples import gold_tables
from medallion_kedro.datasets import MongoExportDataset
from medallion_kedro.datasets import mongo_manifest as mm
from medallion_kedro.pipelines.export.nodes import to_export
from medallion_kedro.runs.records import NodeRecord, node_runs_frame, runs_frame
from tests.graphql_api.conftest import api_process
from tests.servers import MongoServer

pytestmark = pytest.mark.slow

DB = "gql_provenance"
T0 = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
COLLECTIONS: dict[str, dict[str, Any]] = {
    "kpis": {"fixed_id": "kpis"},
    "revenue_by_country": {"key": "country"},
    "revenue_by_product": {"key": "product"},
    "monthly_revenue": {"key": "month"},
    "customer_metrics": {
        "key": "customer_id",
        "indexes": [
            {"keys": {"customer_id": 1}, "unique": True},
            {"keys": {"total_spent": -1, "customer_id": 1}},
        ],
    },  # fmt: skip
    "runs": {"key": "run_id", "nested": True},
    "data_quality": {"key": "run_id", "nested": True},
}
PROBE = """{ dataset { runId pipelineRunId lakeVersion exportedAt ageSeconds
                       tables { table documents lakeVersion } }
             kpis { totalCustomers } customers(first: 1) { totalCount }
             customer(customerId: 150) { customerId }
             runs(last: 5) { runId status exportRunId stages { stage rowsIn rowsOut } }
             dataQuality(last: 5) { runId rejected { reason rows }
                                    reconciliation { bronzeRows silverRows waitingRows } } }"""


def _runs(tag: str, minutes: int, rejected: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A history of three runs: a silver run with quality counts, a failed gold run, then
    this export, still running (so left out of what the export publishes)."""
    at = T0 + timedelta(minutes=minutes)
    recon = [{"table": "orders", "bronze_rows": 100, "silver_rows": 100 - rejected - 3,
              "rejected_rows": rejected, "duplicates_removed": 0, "waiting_rows": 3,
              "balanced": True}]  # fmt: skip
    quality = [{"table": "orders", "kind": "rejected", "reason": f"bad amount {tag}",
                "rows": rejected}]  # fmt: skip
    base = {"host": "h", "pid": 1, "env": "base", "nodes_total": 1}
    runs = runs_frame([
        {**base, "run_id": f"silver-{tag}", "status": "succeeded", "updated_at": at,
         "started_at": at, "finished_at": at + timedelta(seconds=3), "seconds": 3.0,
         "pipelines": ["silver"], "reconciliation": recon, "quality": quality},
        {**base, "run_id": f"gold-{tag}", "status": "failed", "updated_at": at,
         "started_at": at + timedelta(seconds=5), "finished_at": at + timedelta(seconds=6),
         "seconds": 1.0, "pipelines": ["gold"], "error": "ValueError: x"},
        {**base, "run_id": f"export-{tag}", "status": "running", "updated_at": at,
         "started_at": at + timedelta(seconds=10), "pipelines": ["export"]},
    ])  # fmt: skip
    node = NodeRecord(1, "reconcile", ["silver"], at, at + timedelta(seconds=3), "succeeded",
                      inputs={"bronze.orders": 100},
                      outputs={"silver.orders": 100 - rejected})  # fmt: skip
    return runs, node_runs_frame(f"silver-{tag}", [node])


def _export(uri: str, customers: int, tag: str, minutes: int) -> str:
    """One export run through the project's dataset and node; returns its run id."""
    gold = gold_tables(n_customers=customers)
    versions = {f"gold.{t}": {"version": f"lake-{tag}", "run_id": f"lake-{tag}", "rows": f.height,
                              "committed_at": T0.isoformat()} for t, f in gold.items()}  # fmt: skip
    runs, node_runs = _runs(tag, minutes, rejected=customers // 10)
    batch = to_export(versions, runs, node_runs, **gold)
    dataset = MongoExportDataset(
        database=DB, credentials={"uri": uri}, collections=COLLECTIONS,
        save_args={"grace_seconds": 3600},
    )  # fmt: skip
    batch = type(batch)(batch.tables, batch.sources, batch.lake_version, f"export-{tag}")
    dataset.save(batch)
    assert dataset.published_run_id is not None
    return dataset.published_run_id


@pytest.fixture(scope="module")
def first(mongo: MongoServer) -> str:
    # no drop_database: nx-27017 in single-file mode shares collections across databases
    return _export(mongo.uri, 120, "one", 0)


@pytest.fixture(scope="module")
def api(mongo: MongoServer, first: str) -> Iterator[httpx.Client]:
    with (
        api_process(mongo.uri, DB) as url,
        httpx.Client(base_url=url, timeout=15) as client,
    ):
        yield client


def _probe(api: httpx.Client) -> dict[str, Any]:
    body = api.post("/graphql", json={"query": PROBE}).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_dataset_runs_and_quality_name_the_export_and_its_lake_version(
    api: httpx.Client, first: str
) -> None:
    data = _probe(api)
    dataset = data["dataset"]
    assert dataset["runId"] == first
    assert dataset["pipelineRunId"] == "export-one"
    assert dataset["lakeVersion"] == "lake-one"
    assert dataset["ageSeconds"] < 600
    tables = {t["table"]: t for t in dataset["tables"]}
    assert tables["customer_metrics"] == {"table": "customer_metrics", "documents": 120,
                                          "lakeVersion": "lake-one"}  # fmt: skip
    assert tables["runs"]["documents"] == 2 and tables["runs"]["lakeVersion"] is None
    assert [r["runId"] for r in data["runs"]] == ["gold-one", "silver-one"]  # newest first
    silver = data["runs"][1]
    assert silver["stages"] == [{"stage": "silver", "rowsIn": 100, "rowsOut": 88}]
    assert data["dataQuality"] == [
        {"runId": "silver-one", "rejected": [{"reason": "bad amount one", "rows": 12}],
         "reconciliation": [{"bronzeRows": 100, "silverRows": 85, "waitingRows": 3}]}
    ]  # fmt: skip
    health = api.get("/health").json()["export"]
    assert health["run_id"] == first and health["pipeline_run_id"] == "export-one"
    assert health["lake_version"] == "lake-one" and health["age_seconds"] >= 0


def test_runs_argument_is_bounded(api: httpx.Client) -> None:
    body = api.post("/graphql", json={"query": "{ runs(last: 0) { runId } }"}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_second_export_is_served_within_a_second_and_never_mixed(
    api: httpx.Client, mongo: MongoServer, first: str
) -> None:
    """Readers hammer the API while a second export lands; every response is one run."""
    seen: list[dict[str, Any]] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        with httpx.Client(base_url=str(api.base_url), timeout=15) as client:
            while not stop.is_set():
                body = client.post("/graphql", json={"query": PROBE}).json()
                if "errors" in body:
                    errors.append(str(body["errors"]))
                else:
                    seen.append(body["data"])

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        second = _export(mongo.uri, 200, "two", 30)
        landed = time.monotonic()
        while _probe(api)["dataset"]["runId"] != second:
            assert time.monotonic() - landed < 1.0, "the new export was not served within 1 s"
            time.sleep(0.02)
        served_after = time.monotonic() - landed
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert not errors, errors[:3]
    expected = {first: ("one", 120), second: ("two", 200)}
    runs_seen = {d["dataset"]["runId"] for d in seen}
    assert runs_seen == {first, second}, "the load did not span both exports"
    for data in seen:
        tag, customers = expected[data["dataset"]["runId"]]
        assert data["kpis"]["totalCustomers"] == customers
        assert data["customers"]["totalCount"] == customers
        # customer 150 exists only in the second export (cached per run, absent or not)
        assert (data["customer"] is not None) == (customers >= 150)
        assert data["dataset"]["lakeVersion"] == f"lake-{tag}"
        assert data["runs"][0]["runId"] == f"gold-{tag}"
        assert data["dataQuality"][0]["runId"] == f"silver-{tag}"
    assert served_after < 1.0
    with pymongo.MongoClient[dict[str, Any]](mongo.uri) as client:
        history = {d["_id"] for d in client[DB][mm.HISTORY].find({"database": DB})}
        manifest = mm.read_manifest(client[DB])
    assert history == {first, second}  # the manifest history keeps both exports
    assert manifest is not None and manifest["previous"]["run_id"] == first
    assert manifest["pipeline_run_id"] == "export-two"
