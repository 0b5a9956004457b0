"""Export nodes: each gold table is handed on unchanged once it matches its contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from medallion_dev.gold_samples import gold_tables
from medallion_kedro.pipelines.export.nodes import to_collection, to_export
from medallion_kedro.pipelines.export.pipeline import create_pipeline
from medallion_kedro.runs.records import NodeRecord, node_runs_frame, runs_frame
from medallion_kedro.schemas import GOLD, SchemaError


@pytest.mark.parametrize("name", list(GOLD))
def test_to_collection_returns_the_table_unchanged(name: str) -> None:
    table = gold_tables(n_customers=20)[name]
    out = to_collection(table, name)
    assert_frame_equal(out, table)


def test_to_collection_collects_a_lazy_frame() -> None:
    table = gold_tables(n_customers=20)["customer_metrics"]
    assert_frame_equal(to_collection(table.lazy(), "customer_metrics"), table)


def test_to_collection_refuses_a_table_off_contract() -> None:
    table = gold_tables(n_customers=20)["revenue_by_country"].drop("avg_basket")
    with pytest.raises(SchemaError, match="gold.revenue_by_country"):
        to_collection(table, "revenue_by_country")
    with pytest.raises(SchemaError, match="total_orders is Float64"):
        to_collection(
            gold_tables()["monthly_revenue"].with_columns(pl.col("total_orders").cast(float)),
            "monthly_revenue",
        )


def test_pipeline_publishes_all_gold_tables_in_one_save() -> None:
    pipeline = create_pipeline()
    assert [n.name for n in pipeline.nodes] == ["export_gold"]
    assert pipeline.inputs() == {f"gold.{t}" for t in GOLD} | {
        "lake.gold_versions",
        "lake.identity",
        "quality.runs",
        "quality.node_runs",
    }
    assert pipeline.outputs() == {"mongo.gold"}


def test_to_export_checks_every_table_and_records_its_source() -> None:
    tables = gold_tables(n_customers=20)
    batch = to_export({}, pl.DataFrame(), pl.DataFrame(), **tables)
    assert set(batch.tables) == set(GOLD) | {"runs", "data_quality"}
    for name, table in tables.items():
        assert batch.sources[name]["rows"] == table.height
    changed = tables["customer_metrics"].with_columns(pl.col("order_count") + 1)
    other = to_export({}, pl.DataFrame(), pl.DataFrame(), **{**tables, "customer_metrics": changed})
    fingerprint = "fingerprint"
    assert (
        other.sources["customer_metrics"][fingerprint]
        != batch.sources["customer_metrics"][fingerprint]
    )
    assert other.sources["kpis"] == batch.sources["kpis"]
    with pytest.raises(SchemaError, match="gold.kpis"):
        to_export(
            {}, pl.DataFrame(), pl.DataFrame(), **{**tables, "kpis": tables["kpis"].drop("as_of")}
        )


T0 = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


def _run(run_id: str, status: str, minutes: int, **extra: object) -> dict[str, object]:
    at = T0 + timedelta(minutes=minutes)
    return {"run_id": run_id, "status": status, "updated_at": at, "started_at": at,
            "host": "h", "pid": 1, "session_id": "s", **extra}  # fmt: skip


def test_to_export_publishes_lake_versions_run_history_and_quality() -> None:
    tables = gold_tables(n_customers=20)
    versions = {
        f"gold.{t}": {"version": "V2", "run_id": "R2", "rows": tables[t].height,
                      "committed_at": "2026-11-28T05:10:00+00:00", "file": "x"}
        for t in GOLD
    }  # fmt: skip
    recon = [{"table": "orders", "bronze_rows": 10, "silver_rows": 8, "rejected_rows": 2,
              "duplicates_removed": 0, "balanced": True}]  # fmt: skip
    rejected = [{"table": "orders", "kind": "rejected", "reason": "bad amount", "rows": 2}]
    runs = runs_frame([
        _run("a", "running", 0), _run("a", "succeeded", 1, reconciliation=recon, quality=rejected),
        _run("b", "running", 5), _run("b", "failed", 6, error="ValueError: x"),
        _run("c", "running", 9),
    ])  # fmt: skip
    node = NodeRecord(1, "reconcile", ["silver"], T0, T0 + timedelta(seconds=2), "succeeded",
                      inputs={"bronze.orders": 10}, outputs={"silver.orders": 8})  # fmt: skip
    batch = to_export(versions, runs, node_runs_frame("a", [node]), **tables)

    assert batch.lake_version["run_id"] == "R2"
    assert batch.lake_version["tables"]["gold.kpis"]["version"] == "V2"
    assert batch.sources["kpis"]["version"] == "V2"
    history = batch.tables["runs"]
    assert isinstance(history, pl.DataFrame)
    # newest first, one row per run; "c" is still running (e.g. the run exporting): left out
    assert history["run_id"].to_list() == ["b", "a"]
    assert history["status"].to_list() == ["failed", "succeeded"]
    assert not {"host", "pid", "session_id"} & set(history.columns)  # process details stay
    (nodes,) = history.filter(pl.col("run_id") == "a")["nodes"].to_list()
    assert [(n["node"], n["rows_in"], n["rows_out"]) for n in nodes] == [("reconcile", 10, 8)]
    quality = batch.tables["data_quality"]
    assert isinstance(quality, pl.DataFrame)
    assert quality["run_id"].to_list() == ["a"]  # only runs that checked data
    assert quality["rejected"].to_list() == [rejected]
