"""OpenLineage events of real Kedro runs, read back from the file and from an HTTP endpoint."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from medallion_kedro.lake import read_table
from medallion_kedro.pipelines.gold.pipeline import create_pipeline as gold_pipeline
from medallion_kedro.runs import latest
from medallion_kedro.runs.lineage import strip_credentials
from tests.kedro_run import kedro_run
from tests.servers import MongoServer, free_port

pytestmark = pytest.mark.slow

SMALL = {"n_customers": 300, "n_orders": 3000}
JOB = "medallion_kedro.generate+bronze+silver+gold"


def events(lake: Path) -> list[dict[str, Any]]:
    lines = (lake / "_lineage" / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def run_ids(lake: Path) -> list[str]:
    """Run ids of ``quality.runs``, newest first."""
    runs = pl.read_parquet(lake / "quality" / "runs" / "*.parquet")
    return latest(runs)["run_id"].to_list()


def table_rows(lake: Path, name: str) -> int:
    layer, table = name.split("/")
    if layer == "landing":
        return pl.read_csv(lake / layer / f"{table}.csv", infer_schema=False).height
    return read_table(str(lake), layer, table).height


def row_counts(datasets: list[dict[str, Any]]) -> dict[str, int]:
    return {
        d["name"]: d["outputFacets"]["outputStatistics"]["rowCount"]
        for d in datasets
        if "outputStatistics" in d["outputFacets"]
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("lineage") / "lake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKE_PATH", str(lake))
        kedro_run(["generate", "bronze", "silver", "gold"], params=SMALL)
    return lake


def test_run_events_carry_the_run_id_and_the_tables_with_their_row_counts(built: Path) -> None:
    (run_id,) = run_ids(built)
    run_events = [e for e in events(built) if e["job"]["name"] == JOB]
    assert [e["eventType"] for e in run_events] == ["START", "COMPLETE"]
    assert {e["run"]["runId"] for e in run_events} == {run_id}
    assert {e["job"]["namespace"] for e in run_events} == {"medallion-kedro"}

    complete = run_events[1]
    namespace = "file://" + str(built)
    assert {d["namespace"] for d in complete["outputs"]} == {namespace}
    counts = row_counts(complete["outputs"])
    expected_tables = {
        "landing/customers", "landing/orders", "bronze/customers", "bronze/orders",
        "bronze/batches", "bronze/retractions", "quality/batch_reconciliation",
        "silver/customers", "silver/orders", "quality/rejected_customers",
        "quality/waiting_orders",
        "quality/rejected_orders", "quality/reconciliation", "quality/warnings",
        "quality/country_mappings", "gold/customer_metrics",
        "gold/monthly_revenue", "gold/revenue_by_country", "gold/revenue_by_product",
        "gold/kpis", "gold/segments",
    }  # fmt: skip
    assert set(counts) == expected_tables
    assert counts == {name: table_rows(built, name) for name in expected_tables}
    assert complete["inputs"] == []  # everything it read, it built in the same run


def test_node_events_are_children_of_the_run(built: Path) -> None:
    (run_id,) = run_ids(built)
    nodes = [e for e in events(built) if e["job"]["name"] != JOB]
    by_job: dict[str, list[str]] = {}
    for event in nodes:
        assert event["run"]["facets"]["parent"]["run"]["runId"] == run_id
        assert event["run"]["facets"]["parent"]["job"]["name"] == JOB
        by_job.setdefault(event["job"]["name"], []).append(event["eventType"])
    nodes_run = pl.read_parquet(built / "quality" / "node_runs" / f"{run_id}.parquet")
    assert set(by_job) == {f"medallion_kedro.{n}" for n in nodes_run["node"]}
    assert all(types == ["START", "COMPLETE"] for types in by_job.values())

    def complete(node: str) -> dict[str, Any]:
        return next(
            e for e in nodes if e["job"]["name"] == f"medallion_kedro.{node}"
            and e["eventType"] == "COMPLETE"
        )  # fmt: skip

    assert {d["name"] for d in complete("candidate_orders")["inputs"]} == {"bronze/orders"}
    merged = complete("merge_orders")["outputs"]
    assert row_counts(merged)["silver/orders"] == table_rows(built, "silver/orders")


def test_a_partial_run_names_what_it_read(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKE_PATH", str(built))
    kedro_run(["gold"])
    run_id = run_ids(built)[0]
    complete = next(
        e for e in events(built) if e["run"]["runId"] == run_id and e["eventType"] == "COMPLETE"
    )
    assert complete["job"]["name"] == "medallion_kedro.gold"
    assert {d["name"] for d in complete["inputs"]} == {
        "silver/customers",
        "silver/orders",
        "quality/reconciliation",
    }
    assert row_counts(complete["outputs"])["gold/kpis"] == 1


def test_an_export_names_the_mongodb_collections(
    built: Path, mongo: MongoServer, mongo_db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKE_PATH", str(built))
    monkeypatch.setenv("MONGO_URI", mongo.uri)
    monkeypatch.setenv("MONGO_DB", mongo_db_name)
    kedro_run(["export"])
    run_id = run_ids(built)[0]
    complete = next(
        e for e in events(built) if e["run"]["runId"] == run_id and e["eventType"] == "COMPLETE"
    )
    assert {d["namespace"] for d in complete["outputs"]} == {strip_credentials(mongo.uri)}
    assert f"{mongo_db_name}.kpis" in {d["name"] for d in complete["outputs"]}
    assert row_counts(complete["outputs"])[f"{mongo_db_name}.kpis"] == 1  # one per collection
    assert {d["name"] for d in complete["inputs"]} >= {"gold/kpis", "gold/customer_metrics"}


def test_credentials_never_reach_a_namespace() -> None:
    uri = "mongodb://reader:s3cret@db.example:27017/medallion?authSource=admin"
    assert strip_credentials(uri) == "mongodb://db.example:27017"


def test_a_password_with_a_slash_reaches_no_event_record_or_message(
    built: Path, mongo: MongoServer, mongo_db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = ("Zq", "Wv", "Xk", "Jm")  # the password, unescaped, cut by / @ : and %
    host = mongo.uri.split("://", 1)[1].split("/", 1)[0]
    monkeypatch.setenv("LAKE_PATH", str(built))
    monkeypatch.setenv("MONGO_URI", f"mongodb://admin:Zq/Wv@Xk:%Jm@{host}/?authSource=admin")
    monkeypatch.setenv("MONGO_DB", mongo_db_name)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the driver refuses the URI
        kedro_run(["export"])
    run_id = run_ids(built)[0]
    mine = [e for e in events(built) if run_id in json.dumps(e)]
    assert mine, "the run sent no event"
    written = json.dumps(mine) + json.dumps(
        pl.read_parquet(built / "quality" / "runs" / f"{run_id}.*.parquet").to_dicts(),
        default=str,
    )
    assert "mongodb://admin" not in written
    assert [p for p in pieces if p in written] == []
    assert [p for p in pieces if p in str(raised.value)] == []
    namespaces = {d["namespace"] for e in mine for d in e["inputs"] + e["outputs"]}
    assert f"mongodb://{host}" in namespaces


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """A tiny OpenLineage endpoint on loopback that keeps what it receives."""
    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Handler", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_events_go_to_an_http_endpoint_when_configured(
    built: Path,
    collector: tuple[str, list[tuple[str, dict[str, Any]]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = collector
    monkeypatch.setenv("LAKE_PATH", str(built))
    monkeypatch.setenv("OPENLINEAGE_URL", url)
    lines_before = len(events(built))
    kedro_run(["gold"])
    run_id = run_ids(built)[0]
    assert {path for path, _ in received} == {"/api/v1/lineage"}
    run_events = [e for _, e in received if e["run"]["runId"] == run_id]
    assert [e["eventType"] for e in run_events] == ["START", "COMPLETE"]
    assert row_counts(run_events[1]["outputs"])["gold/kpis"] == 1
    children = [e for _, e in received if e["run"]["runId"] != run_id]
    assert len(children) == 2 * len(gold_pipeline().nodes)  # START and COMPLETE of each node
    assert len(events(built)) == lines_before  # not also to the file


def test_an_unreachable_endpoint_costs_a_warning_not_the_run(
    built: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LAKE_PATH", str(built))
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{free_port()}")
    with caplog.at_level(logging.WARNING, logger="medallion_kedro.runs"):
        kedro_run(["gold"])
    assert latest(pl.read_parquet(built / "quality" / "runs" / "*.parquet"))["status"][0] == (
        "succeeded"
    )
    warnings = [r.getMessage() for r in caplog.records if "OpenLineage" in r.getMessage()]
    assert warnings and "could not be sent" in warnings[0] and "OPENLINEAGE_URL" in warnings[0]


def test_events_can_be_switched_off(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKE_PATH", str(built))
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    lines_before = len(events(built))
    kedro_run(["gold"])
    assert len(events(built)) == lines_before
