"""Run history: real Kedro sessions that succeed, fail in each stage, or are killed."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from deltalake import DeltaTable

from medallion_kedro.lake import read_table
from medallion_kedro.pipelines.gold.pipeline import create_pipeline as gold_pipeline
from medallion_kedro.public_errors import WITHHELD, public_text
from medallion_kedro.runs import latest
from tests.kedro_run import PROJECT_ROOT, kedro_run
from tests.servers import free_port

pytestmark = pytest.mark.slow

SMALL = {"n_customers": 300, "n_orders": 3000}
LAKEHOUSE = ["bronze", "silver", "gold"]


def runs(lake: Path) -> pl.DataFrame:
    return pl.read_parquet(lake / "quality" / "runs" / "*.parquet")


def node_runs(lake: Path, run_id: str) -> pl.DataFrame:
    return pl.read_parquet(lake / "quality" / "node_runs" / f"{run_id}.parquet")


def lineage(lake: Path) -> list[dict[str, Any]]:
    lines = (lake / "_lineage" / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def table_file(lake: Path, layer: str, table: str) -> Path:
    """A data file of the published (Delta) version of a lake table."""
    version = json.loads((lake / "_lake.json").read_text())["tables"][f"{layer}.{table}"]["version"]
    uris = DeltaTable(str(lake / layer / table), version=version).file_uris()
    return Path(uris[0].removeprefix("file://"))


def newest(lake: Path) -> dict[str, Any]:
    return latest(runs(lake)).row(0, named=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A lake built by one successful run (generate + bronze + silver + gold)."""
    lake = tmp_path_factory.mktemp("runs") / "lake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKE_PATH", str(lake))
        kedro_run(["generate", *LAKEHOUSE], params=SMALL)
    return lake, newest(lake)


@pytest.fixture
def lake(
    built: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    copy = tmp_path / "lake"
    shutil.copytree(built[0], copy)
    monkeypatch.setenv("LAKE_PATH", str(copy))
    return copy


def test_a_successful_run_is_recorded_with_its_provenance(
    built: tuple[Path, dict[str, Any]],
) -> None:
    lake, run = built
    history = runs(lake)
    assert history.filter(pl.col("run_id") == run["run_id"])["status"].sort().to_list() == [
        "running",
        "succeeded",
    ]
    assert run["status"] == "succeeded" and run["error"] is None
    assert run["pipelines"] == ["generate", *LAKEHOUSE]
    assert run["env"] == "local" and run["project_version"] == "0.1.0"
    head = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert run["git_commit"] == head and re.fullmatch(r"[0-9a-f]{40}", head)
    assert run["finished_at"] > run["started_at"]
    assert run["seconds"] == pytest.approx((run["finished_at"] - run["started_at"]).total_seconds())
    assert run["nodes_done"] == run["nodes_total"] > 10
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z", run["session_id"])


def test_node_rows_match_the_tables(built: tuple[Path, dict[str, Any]]) -> None:
    lake, run = built
    nodes = node_runs(lake, run["run_id"])
    assert nodes.height == run["nodes_total"]
    assert set(nodes["status"]) == {"succeeded"}
    assert (nodes["seconds"] >= 0).all() and nodes["seq"].sort().to_list() == list(
        range(1, nodes.height + 1)
    )

    def rows(node: str, side: str) -> dict[str, int | None]:
        cell = nodes.filter(pl.col("node") == node)[side].item()
        return {d["dataset"]: d["rows"] for d in cell}

    height = {
        name: read_table(str(lake), layer, table).height
        for name, layer, table in (
            ("bronze.orders", "bronze", "orders"),
            ("silver.orders", "silver", "orders"),
            ("quality.rejected_orders", "quality", "rejected_orders"),
            ("gold.customer_metrics", "gold", "customer_metrics"),
        )
    }
    landing_orders = pl.read_csv(lake / "landing" / "orders.csv", infer_schema=False).height
    assert rows("generate_orders", "outputs") == {"generated_orders": landing_orders}
    assert rows("to_landing", "outputs")["landing.orders"] == landing_orders
    assert rows("publish_bronze", "outputs")["bronze.orders"] == height["bronze.orders"]
    merged = rows("merge_orders", "outputs")
    assert merged["silver.orders"] == height["silver.orders"]
    assert merged["quality.rejected_orders"] == height["quality.rejected_orders"]
    assert rows("candidate_orders", "inputs")["bronze.orders"] == height["bronze.orders"]
    assert rows("customer_metrics", "outputs") == {
        "gold.customer_metrics": height["gold.customer_metrics"]
    }
    assert not any(d.startswith("params:") for d in rows("customer_metrics", "inputs"))
    kpis = nodes.filter(pl.col("node") == "kpis").row(0, named=True)
    assert kpis["rows_out"] == 1 and kpis["rows_in"] >= height["gold.customer_metrics"]


def test_reconciliation_and_rejected_rows_by_reason(built: tuple[Path, dict[str, Any]]) -> None:
    lake, run = built
    report = read_table(str(lake), "quality", "reconciliation")
    assert run["reconciliation"] == report.to_dicts()
    for table in ("customers", "orders"):
        rejected = read_table(str(lake), "quality", f"rejected_{table}")
        expected = dict(rejected.group_by("reason").len().iter_rows())
        recorded = {q["reason"]: q["rows"] for q in run["quality"] if q["table"] == table}
        assert recorded == expected and sum(expected.values()) > 0
        assert {q["kind"] for q in run["quality"] if q["table"] == table} == {"rejected"}


def test_each_node_logs_rows_and_seconds(lake: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = (lake / "landing" / "orders.csv").read_text().splitlines()[:4]
    (lake / "landing" / "orders").mkdir()
    (lake / "landing" / "orders" / "late.csv").write_text("\n".join(rows) + "\n")  # a batch
    before = read_table(str(lake), "bronze", "orders").height
    with caplog.at_level(logging.INFO, logger="medallion_kedro.runs"):
        kedro_run(["bronze"])
    lines = [r.getMessage() for r in caplog.records if r.name == "medallion_kedro.runs.hooks"]
    publish = next(line for line in lines if line.startswith("node publish_bronze:"))
    assert read_table(str(lake), "bronze", "orders").height == before + 3
    assert "bronze.orders=3," in publish
    assert re.search(r", \d+\.\d\d s$", publish)
    # start, 2 ingests, publish, record_retraction
    assert sum(line.startswith("node ") for line in lines) == 5


def _break_orders_landing(lake: Path) -> None:
    (lake / "landing" / "orders.csv").write_text("order_id,customer_id\n")


def _break_bronze(lake: Path) -> None:
    table_file(lake, "bronze", "orders").write_bytes(b"not parquet at all")  # a damaged file


WITHHELD_TEXT = re.escape(WITHHELD)
FAILURES = {
    # stage: (pipeline, params, break the lake, failing node, error pattern, recorded pattern):
    # records keep an error's public form, the whole message only when it quotes no data
    "generate": (["generate"], {"dirty_share": 2}, None, "generate_customers",
                 "dirty_share must be between 0 and 0.5", WITHHELD_TEXT),
    "bronze": (["bronze"], {}, _break_orders_landing, "ingest_orders", r"orders\.csv",
               r"orders\.csv"),
    "silver": (["silver"], {}, _break_bronze, "candidate_orders", "out of specification",
               WITHHELD_TEXT),
    "gold": (["gold"], {"as_of": "yesterday"}, None, None, r"as_of='yesterday' is not a date",
             WITHHELD_TEXT),
    # MONGO_URI names a port nothing listens on
    "export": (["export"], {}, None, r"export_\w+", "Cannot reach MongoDB",
               "Cannot reach MongoDB"),
}  # fmt: skip


@pytest.mark.parametrize("stage", list(FAILURES))
def test_a_failed_run_is_recorded_as_failed_with_its_error(
    stage: str, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipelines, params, damage, failing_node, message, recorded = FAILURES[stage]
    monkeypatch.setenv("MONGO_URI", f"mongodb://127.0.0.1:{free_port()}")
    if damage is not None:
        damage(lake)
    before = set(runs(lake)["run_id"])
    with pytest.raises(Exception, match=message) as raised:
        kedro_run(pipelines, params=params)

    run = newest(lake)
    assert run["run_id"] not in before
    assert run["status"] == "failed" and run["finished_at"] is not None
    assert run["error"] == public_text(raised.value)
    assert re.search(recorded, run["error"])
    assert run["pipelines"] == pipelines
    nodes = node_runs(lake, run["run_id"])
    failed = nodes.filter(pl.col("status") == "failed")
    assert failed.height == 1, nodes.select("node", "status")
    assert re.search(recorded, failed["error"].item())
    if failing_node is not None:
        assert re.fullmatch(failing_node, failed["node"].item())
    assert run["nodes_done"] == nodes.filter(pl.col("status") == "succeeded").height

    events = [e for e in lineage(lake) if e["run"]["runId"] == run["run_id"]]
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    assert re.search(recorded, events[1]["run"]["facets"]["errorMessage"]["message"])
    node_fail = [
        e for e in lineage(lake)
        if e["eventType"] == "FAIL" and e["run"]["facets"].get("parent", {}).get("run", {})
        .get("runId") == run["run_id"]
    ]  # fmt: skip
    assert [e["job"]["name"] for e in node_fail] == [f"medallion_kedro.{failed['node'].item()}"]


def _records(folder: Path) -> set[str]:
    """Record files of a history folder (not a temporary file being written)."""
    return {p.name for p in folder.glob("[!.]*.parquet")}


def test_a_killed_run_is_marked_killed_by_the_next_run(lake: Path) -> None:
    env = {**os.environ, "LAKE_PATH": str(lake), "KEDRO_DISABLE_TELEMETRY": "1"}
    folder = lake / "quality" / "runs"
    known = _records(folder)
    kedro = Path(sys.executable).parent / "kedro"
    process = subprocess.Popen(  # a generate run big enough to take seconds
        [str(kedro), "run", "--pipelines", "generate",
         "--params", f"n_customers={SMALL['n_customers']},n_orders=3000000"],
        cwd=PROJECT_ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (_records(folder) - known):
            assert process.poll() is None, "the run ended before it was killed"
            assert time.monotonic() < deadline, "the run never wrote its running record"
            time.sleep(0.02)
        (started,) = _records(folder) - known
        first_node_done = lake / "quality" / "node_runs" / f"{started.split('.')[0]}.parquet"
        while not first_node_done.exists():  # customers generated; 3M orders take seconds
            assert process.poll() is None, "the run ended before it was killed"
            assert time.monotonic() < deadline, "the first node never finished"
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    (started,) = _records(folder) - known
    killed_id, state, _ = started.split(".")
    assert state == "running"  # it never reached its final record
    assert latest(runs(lake)).filter(pl.col("run_id") == killed_id)["status"].item() == "running"

    kedro_run(["gold"])

    history = latest(runs(lake))
    killed = history.filter(pl.col("run_id") == killed_id).row(0, named=True)
    assert killed["status"] == "killed"
    assert f"process {process.pid} " in killed["error"]
    assert killed["pipelines"] == ["generate"] and killed["finished_at"] is None
    kept = node_runs(lake, killed_id)  # the nodes that finished before the kill are kept
    assert kept.select("node", "status").rows() == [("generate_customers", "succeeded")]
    # the same customers (count and seed) as the landing file the built lake was made from
    assert (
        kept["outputs"].item()[0]["rows"]
        == pl.read_csv(lake / "landing" / "customers.csv", infer_schema=False).height
    )
    assert history.row(0, named=True)["status"] == "succeeded"  # the run that noticed
    assert f"found by run {history.row(0, named=True)['run_id']}" in killed["error"]

    kedro_run(["gold"])  # a killed run is marked once
    assert runs(lake).filter(pl.col("run_id") == killed_id).height == 2


def test_a_live_run_is_not_marked_killed(lake: Path) -> None:
    """A ``running`` record whose process is alive (this one) is left alone."""
    alive = newest(lake) | {
        "run_id": "01234567-0000-7000-8000-000000000000",
        "status": "running",
        "pid": os.getpid(),
        "finished_at": None,
    }
    from medallion_kedro.runs.records import runs_frame

    runs_frame([alive]).write_parquet(lake / "quality" / "runs" / "alive.running.parquet")
    kedro_run(["gold"])
    assert latest(runs(lake)).filter(pl.col("run_id") == alive["run_id"])["status"].item() == (
        "running"
    )


def test_a_parallel_run_is_refused_before_any_node_and_leaves_no_record(lake: Path) -> None:
    """ParallelRunner's workers cannot stage into the run's lake transaction: the run stops
    before any node (no deadlock, no half-written history), saying which runner to use."""
    env = {**os.environ, "LAKE_PATH": str(lake), "KEDRO_DISABLE_TELEMETRY": "1"}
    known = _records(lake / "quality" / "runs")
    record = (lake / "_lake.json").read_bytes()
    kedro = Path(sys.executable).parent / "kedro"
    result = subprocess.run(
        [str(kedro), "run", "--pipelines", "gold", "--runner", "ParallelRunner"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode != 0, result.stdout[-2000:]
    assert "not ParallelRunner" in result.stderr, result.stderr[-2000:]
    assert _records(lake / "quality" / "runs") == known  # refused before its start record
    assert (lake / "_lake.json").read_bytes() == record
    assert not (lake / "_lock.json").exists()


def test_an_unwritable_history_is_logged_and_the_run_goes_on(
    lake: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.rmtree(lake / "quality" / "node_runs")
    (lake / "quality" / "node_runs").write_text("a file where the folder should be")
    with caplog.at_level(logging.ERROR, logger="medallion_kedro.runs"):
        kedro_run(["gold"])
    assert newest(lake)["status"] == "succeeded"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and all("could not write quality.node_runs" in e for e in errors)
    assert len(errors) == len(gold_pipeline().nodes)  # once per gold node
