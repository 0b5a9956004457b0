"""Pipeline slices on an in-memory catalog, as Kedro's starters test them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from medallion_kedro.datasets import LandingFolderDataset
from medallion_kedro.datasets.table_changes import TableChanges
from medallion_kedro.lake import KeyedChanges
from medallion_kedro.pipelines.bronze import create_pipeline as bronze
from medallion_kedro.pipelines.gold import create_pipeline as gold
from medallion_kedro.pipelines.silver import create_pipeline as silver
from tests import handmade as hm

CONF = Path(__file__).resolve().parents[2] / "conf/base"


def _params(name: str) -> dict[str, object]:
    return yaml.safe_load((CONF / f"parameters_{name}.yml").read_text())  # type: ignore[no-any-return]


class _Kept(MemoryDataset):
    """A memory dataset the runner does not empty after its last reader, to be read after
    the run."""

    def _release(self) -> None:
        pass


class _Keyed(_Kept):
    """A kept memory dataset that a node's :class:`KeyedChanges` change, as they change a
    keyed lake table."""

    def save(self, data: object) -> None:
        if isinstance(data, KeyedChanges):
            held = self.load() if self.exists() else data.rows.lazy().head(0)
            data = data.applied_to(held).collect()
        super().save(data)


def test_bronze_to_gold_in_memory(tmp_path: Path) -> None:
    landing = hm.write_landing(tmp_path)
    catalog = DataCatalog(
        {
            **{
                f"landing.{t}": MemoryDataset(
                    LandingFolderDataset(
                        folder=str(landing / t), filepath=str(landing / f"{t}.csv")
                    ).load(),
                    copy_mode="assign",
                )
                for t in ("customers", "orders")
            },
            **{
                f"previous.{name}": MemoryDataset(pl.LazyFrame(), copy_mode="assign")
                for name in (
                    "bronze_batches",
                    "silver_customers",
                    "silver_orders",
                    "reconciliation",
                    "batch_reconciliation",
                    "rejected_customers",
                    "rejected_orders",
                    "waiting_orders",
                    "warnings",
                )
            },  # fmt: skip
            "params:bronze.sources.customers": MemoryDataset(
                _params("bronze")["bronze"]["sources"]["customers"]
            ),  # type: ignore[index]
            "params:bronze.sources.orders": MemoryDataset(
                _params("bronze")["bronze"]["sources"]["orders"]
            ),  # type: ignore[index]
            "params:silver": MemoryDataset(_params("silver")["silver"]),
            "params:gold": MemoryDataset(_params("gold")["gold"]),
            "params:as_of": MemoryDataset(None),
            "params:retraction": MemoryDataset(None),
            "quality.reconciliation": _Kept(copy_mode="assign"),
            **{
                name: _Keyed(copy_mode="assign")
                for name in (
                    "silver.customers",
                    "silver.orders",
                    "quality.rejected_customers",
                    "quality.rejected_orders",
                )
            },
            # gold's first build: no previous gold, so no known changes of silver
            **{
                f"changes.silver_{t}": MemoryDataset(
                    TableChanges.unknown("no gold yet"), copy_mode="assign"
                )
                for t in ("customers", "orders")
            },
            **{
                f"previous.gold_{t}": MemoryDataset(pl.LazyFrame(), copy_mode="assign")
                for t in ("customer_metrics", "monthly_revenue", "revenue_by_product")
            },
            "gold.customer_metrics": _Keyed(copy_mode="assign"),
        }
    )
    pipeline = bronze() + silver() + gold()
    SequentialRunner().run(pipeline.to_nodes("reconcile"), catalog)
    assert catalog.load("silver.orders").height == len(hm.SILVER_ORDERS)
    assert sorted(catalog.load("silver.customers")["customer_id"]) == [
        c[0] for c in hm.SILVER_CUSTOMERS
    ]

    SequentialRunner().run(gold(), catalog)

    kpis = catalog.load("gold.kpis")
    assert kpis["total_orders"][0] == len(hm.SILVER_ORDERS)
    assert kpis["as_of"][0] == hm.AS_OF
    recon = {r["table"]: r for r in catalog.load("quality.reconciliation").iter_rows(named=True)}
    source_rows = {
        "customers": len(hm.CUSTOMERS_CSV.splitlines()) - 1,
        "orders": len(hm.ORDERS_CSV.splitlines()) - 1,
    }
    for table, bronze_rows in source_rows.items():
        row = recon[table]
        parts = ("silver_rows", "rejected_rows", "duplicates_removed", "waiting_rows")
        assert bronze_rows == sum(row[p] for p in parts), table
        assert row["bronze_rows"] == bronze_rows
