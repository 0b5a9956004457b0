"""What a batch writes to silver: a batch with one correction changes that key's row and
nothing else, and writes fewer rows than the table holds (counted from the ``add``
actions of the Delta versions the batch published, as ``bench/incremental.py`` does).

Real Kedro sessions on a temporary local lake.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from medallion_kedro.lake import read_table
from tests import handmade as hm
from tests.kedro_run import kedro_run

LAKEHOUSE = ["bronze", "silver", "gold"]
SILVER = ("silver.customers", "silver.orders")
CUSTOMERS = [f"{i},Name {i},c{i}@example.com,2024-01-0{i},France" for i in range(1, 5)]


def _orders(ids: range, amount: str = "10.00") -> list[str]:
    return [f"{i},{1 + i % 4},2026-10-{1 + i % 28:02d} 10:00:00,{amount},laptop" for i in ids]


def _published(lake: Path) -> dict[str, int]:
    """The Delta version of each silver table that the lake's commit record publishes."""
    tables = json.loads((lake / "_lake.json").read_text())["tables"]
    return {name: int(tables[name]["version"]) for name in SILVER}


def _silver(lake: Path) -> dict[str, pl.DataFrame]:
    return {name: read_table(str(lake), "silver", name.split(".")[1]) for name in SILVER}


def _rows_written(lake: Path, before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Per silver table, the rows the Delta versions after ``before`` up to ``after`` added:
    the sum of ``numRecords`` of the ``add`` actions of their commit files."""
    written = {}
    for name in SILVER:
        log = lake.joinpath(*name.split("."), "_delta_log")
        rows = 0
        for version in range(before[name] + 1, after[name] + 1):
            for line in (log / f"{version:020d}.json").read_text().splitlines():
                add = json.loads(line).get("add") if line.strip() else None
                if add:
                    rows += int(json.loads(add["stats"])["numRecords"])
        written[name] = rows
    return written


@pytest.fixture(scope="module")
def corrected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A lake built from two batches of orders, then a batch that corrects order 35: the
    silver tables before and after it, and the rows its versions wrote."""
    lake = tmp_path_factory.mktemp("writes") / "lake"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KEDRO_DISABLE_TELEMETRY", "1")
        env.setenv("LAKE_PATH", str(lake))
        return _build(lake)


def _build(lake: Path) -> dict[str, object]:
    hm.drop_batch(lake, "customers", "customers_0001.csv", CUSTOMERS)
    hm.drop_batch(lake, "orders", "orders_0001.csv", _orders(range(10, 30)))
    kedro_run(LAKEHOUSE)
    hm.drop_batch(lake, "orders", "orders_0002.csv", _orders(range(30, 50)))
    kedro_run(LAKEHOUSE)
    before = _silver(lake)
    versions = _published(lake)
    hm.drop_batch(lake, "orders", "orders_0003.csv", _orders(range(35, 36), "99.00"))
    kedro_run(LAKEHOUSE)
    after = _silver(lake)
    return {
        "before": before,
        "after": after,
        "written": _rows_written(lake, versions, _published(lake)),
    }


@pytest.mark.slow
def test_a_correction_changes_only_its_keys_row(corrected: dict[str, object]) -> None:
    before, after = corrected["before"], corrected["after"]
    assert isinstance(before, dict) and isinstance(after, dict)
    assert (
        after["silver.customers"]
        .sort("customer_id")
        .equals(before["silver.customers"].sort("customer_id"))
    )
    old, new = (t["silver.orders"].sort("order_id") for t in (before, after))
    assert old.height == new.height == 40
    changed = new.join(old, on=list(old.columns), how="anti")
    assert changed.select("order_id", "amount").rows() == [(35, Decimal("99.00"))]
    kept = new.filter(pl.col("order_id") != 35)
    assert kept.equals(old.filter(pl.col("order_id") != 35))


@pytest.mark.slow
def test_a_correction_writes_fewer_rows_than_the_table_holds(
    corrected: dict[str, object],
) -> None:
    written, after = corrected["written"], corrected["after"]
    assert isinstance(written, dict) and isinstance(after, dict)
    assert written["silver.orders"] < after["silver.orders"].height
    assert written["silver.customers"] < after["silver.customers"].height
