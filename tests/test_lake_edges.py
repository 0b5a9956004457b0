"""Edges of the incremental lake, through real Kedro sessions on a temporary local lake:
country spellings across runs, and an order whose customer arrives in a later batch."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from medallion_kedro.lake import read_table
from tests import handmade as hm
from tests.kedro_run import kedro_run


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lake"
    monkeypatch.setenv("LAKE_PATH", str(root))
    return root


def _customer(i: int, country: str) -> str:
    return f"{i},Name {i},c{i}@example.com,2024-01-01,{country}"


def _order(i: int, customer: int) -> str:
    return f"{i},{customer},2026-10-01 10:00:00,10.00,laptop"


def _ingest(lake: Path) -> None:
    kedro_run(["bronze", "silver"])


def test_country_mappings_list_every_spelling_of_the_live_customers(lake: Path) -> None:
    hm.drop_batch(lake, "customers", "c1.csv", [_customer(1, "UK"), _customer(2, "Atlantis")])
    hm.drop_batch(lake, "orders", "o1.csv", [_order(1, 1)])
    _ingest(lake)
    hm.drop_batch(lake, "customers", "c2.csv", [_customer(3, "Holland"), _customer(4, "UK")])
    hm.drop_batch(lake, "orders", "o2.csv", [_order(2, 3)])
    _ingest(lake)
    mappings = read_table(str(lake), "quality", "country_mappings").sort("raw_value")
    assert mappings.select("raw_value", "canonical", "how").rows() == [
        ("Atlantis", None, "unknown"),  # of the first run's file: still listed
        ("Holland", "Netherlands", "alias"),
        ("UK", "United Kingdom", "alias"),
    ]
    assert mappings.filter(pl.col("raw_value") == "UK")["rows"].item() == 2  # of both files


def test_an_order_before_its_customer_waits_and_is_applied_when_the_customer_arrives(
    lake: Path,
) -> None:
    hm.drop_batch(lake, "customers", "c1.csv", [_customer(1, "France")])
    hm.drop_batch(lake, "orders", "o1.csv", [_order(1, 1), _order(2, 9)])  # 9: not yet known
    _ingest(lake)
    assert read_table(str(lake), "quality", "rejected_orders").height == 0
    assert read_table(str(lake), "quality", "waiting_orders")["order_id"].to_list() == ["2"]

    # the customer arrives: the waiting order is checked again and applied
    hm.drop_batch(lake, "customers", "c2.csv", [_customer(9, "France")])
    _ingest(lake)
    assert sorted(read_table(str(lake), "silver", "orders")["order_id"].to_list()) == [1, 2]
    assert read_table(str(lake), "quality", "waiting_orders").height == 0
    report = read_table(str(lake), "quality", "reconciliation").filter(pl.col("table") == "orders")
    row = report.row(0, named=True)
    assert (row["bronze_rows"], row["silver_rows"], row["waiting_rows"]) == (2, 2, 0)
    assert row["balanced"]
