"""Export nodes: each gold table is handed on unchanged once it matches its contract."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from medallion_kedro.pipelines.export.nodes import to_collection
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


def test_pipeline_maps_each_gold_table_to_its_collection() -> None:
    pipeline = create_pipeline()
    assert {n.name for n in pipeline.nodes} == {f"export_{t}" for t in GOLD}
    assert pipeline.inputs() == {f"gold.{t}" for t in GOLD}
    assert pipeline.outputs() == {f"mongo.{t}" for t in GOLD}
