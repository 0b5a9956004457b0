"""Export nodes: each gold table is handed on unchanged once it matches its contract."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from medallion_kedro.pipelines.export.nodes import to_collection, to_export
from medallion_kedro.pipelines.export.pipeline import create_pipeline
from medallion_kedro.schemas import GOLD, SchemaError
from tests.pipelines.export.gold_samples import gold_tables


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
    assert pipeline.inputs() == {f"gold.{t}" for t in GOLD}
    assert pipeline.outputs() == {"mongo.gold"}


def test_to_export_checks_every_table_and_records_its_source() -> None:
    tables = gold_tables(n_customers=20)
    batch = to_export(**tables)
    assert set(batch.tables) == set(GOLD)
    for name, table in tables.items():
        assert batch.sources[name]["rows"] == table.height
    changed = tables["customer_metrics"].with_columns(pl.col("order_count") + 1)
    other = to_export(**{**tables, "customer_metrics": changed})
    fingerprint = "fingerprint"
    assert (
        other.sources["customer_metrics"][fingerprint]
        != batch.sources["customer_metrics"][fingerprint]
    )
    assert other.sources["kpis"] == batch.sources["kpis"]
    with pytest.raises(SchemaError, match="gold.kpis"):
        to_export(**{**tables, "kpis": tables["kpis"].drop("as_of")})
