"""Landing batches, append-only bronze and incremental silver, through real Kedro sessions
on a temporary local lake, checked against an independent computation of the expected
silver (the last valid row of each key, over every batch in ingestion order)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from medallion_kedro.lake import read_table
from tests import handmade as hm
from tests.kedro_run import kedro_run

LAKEHOUSE = ["bronze", "silver", "gold"]
AS_OF = "2026-11-01"


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lake"
    monkeypatch.setenv("LAKE_PATH", str(root))
    return root


def _customers(ids: range, country: str = "France") -> list[str]:
    return [f"{i},Name {i},c{i}@example.com,2024-01-0{1 + i % 9},{country}" for i in ids]


def _orders(ids: range, amount: str = "10.00", customer: int = 1) -> list[str]:
    return [f"{i},{customer},2026-10-0{1 + i % 9} 10:00:00,{amount},laptop" for i in ids]


def _expected_orders(batches: list[list[str]], known: set[int]) -> dict[int, Decimal]:
    """Independent: the last valid row per order id over the batches, in order."""
    last: dict[int, Decimal] = {}
    for rows in batches:
        for line in rows:
            order_id, customer, _, amount, _ = line.split(",")
            if not order_id.isdigit() or int(customer) not in known:
                continue
            try:
                value = Decimal(amount)
            except ArithmeticError:
                continue
            if value > 0:
                last[int(order_id)] = value
    return last


def _silver_orders(lake: Path) -> dict[int, Decimal]:
    orders = read_table(str(lake), "silver", "orders")
    return dict(zip(orders["order_id"].to_list(), orders["amount"].to_list(), strict=True))


def _reconciliation(lake: Path) -> dict[str, dict[str, object]]:
    report = read_table(str(lake), "quality", "reconciliation")
    return {row["table"]: row for row in report.iter_rows(named=True)}


def test_batch_sequence_matches_independent_computation(lake: Path) -> None:
    batches: list[list[str]] = []
    hm.drop_batch(lake, "customers", "customers_0001.csv", _customers(range(1, 6)))
    first = [*_orders(range(1, 21)), "5,1,2026-10-02 10:00:00,12.50,laptop"]  # dup inside
    batches.append(first)
    hm.drop_batch(lake, "orders", "orders_0001.csv", first)
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    assert _silver_orders(lake) == _expected_orders(batches, set(range(1, 6)))

    # corrections of earlier rows, late orders, a bad row, a duplicate across batches
    second = [
        *_orders(range(3, 6), amount="99.99"),  # corrections
        *_orders(range(21, 26), customer=2),  # new orders
        "26,1,2026-10-03 10:00:00,-1,laptop",  # rejected
        "7,1,2026-10-08 10:00:00,10.00,laptop",  # the same row again
    ]
    batches.append(second)
    hm.drop_batch(lake, "orders", "orders_0002.csv", second)
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    expected = _expected_orders(batches, set(range(1, 6)))
    assert _silver_orders(lake) == expected
    assert expected[4] == Decimal("99.99") and 26 not in expected

    bronze = read_table(str(lake), "bronze", "orders")
    assert bronze.height == len(first) + len(second)  # append-only: every row of every batch
    assert bronze.group_by("_source_file").len().sort("_source_file").rows() == [
        ("orders_0001.csv", len(first)),
        ("orders_0002.csv", len(second)),
    ]
    assert bronze["_batch_id"].n_unique() == 2
    assert bronze.filter(pl.col("_source_file") == "orders_0002.csv")["_source_row"].to_list() == (
        list(range(1, len(second) + 1))
    )

    report = _reconciliation(lake)["orders"]
    assert report["bronze_rows"] == bronze.height and report["balanced"]
    assert report["silver_rows"] == len(expected)
    assert report["rejected_rows"] == 1
    # one duplicate inside batch 1, three corrections and one repeated row superseded
    assert report["duplicates_removed"] == 1 + 3 + 1
    per_batch = read_table(str(lake), "quality", "batch_reconciliation")
    orders_batches = per_batch.filter(pl.col("table") == "orders").sort("source_file")
    assert orders_batches["bronze_rows"].to_list() == [len(first), len(second)]
    assert orders_batches["rejected_rows"].to_list() == [0, 1]
    rejected = read_table(str(lake), "quality", "rejected_orders")
    assert set(rejected["_batch_id"]) <= set(bronze["_batch_id"])

    # gold reflects the corrections
    products = read_table(str(lake), "gold", "revenue_by_product")
    assert products["total_revenue"].sum() == sum(expected.values())


def test_redropped_file_is_skipped_and_changed_file_is_a_new_batch(lake: Path) -> None:
    hm.drop_batch(lake, "customers", "c1.csv", _customers(range(1, 4)))
    hm.drop_batch(lake, "orders", "o1.csv", _orders(range(1, 6)))
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    versions = {t: read_table(str(lake), "silver", t).height for t in ("customers", "orders")}

    # the same content again, under another name: nothing new; a rerun is idempotent
    hm.drop_batch(lake, "orders", "o1_copy.csv", _orders(range(1, 6)))
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    assert read_table(str(lake), "bronze", "orders").height == 5
    assert {t: read_table(str(lake), "silver", t).height for t in versions} == versions
    assert _reconciliation(lake)["orders"]["bronze_rows"] == 5

    # the first file changed in place: a new batch, its rows win
    hm.drop_batch(lake, "orders", "o1.csv", _orders(range(1, 6), amount="20.00"))
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    assert read_table(str(lake), "bronze", "orders")["_batch_id"].n_unique() == 2
    assert set(_silver_orders(lake).values()) == {Decimal("20.00")}
    assert _reconciliation(lake)["orders"]["balanced"]


def test_single_file_layout_still_works_next_to_batches(lake: Path) -> None:
    hm.write_landing(
        lake,
        hm.csv_text("customers", _customers(range(1, 4))),
        hm.csv_text("orders", _orders(range(1, 4))),
    )
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    hm.drop_batch(lake, "orders", "late.csv", _orders(range(4, 6), customer=3))
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    bronze = read_table(str(lake), "bronze", "orders")
    assert set(bronze["_source_file"]) == {"orders.csv", "late.csv"}
    assert sorted(_silver_orders(lake)) == [1, 2, 3, 4, 5]


def test_a_run_with_nothing_new_says_so_in_one_line_and_changes_nothing(lake: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.kedro_run import PROJECT_ROOT

    hm.drop_batch(lake, "customers", "c1.csv", _customers(range(1, 4)))
    hm.drop_batch(lake, "orders", "o1.csv", _orders(range(1, 6)))
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    record = (lake / "_lake.json").read_text()
    env = {**os.environ, "LAKE_PATH": str(lake), "KEDRO_DISABLE_TELEMETRY": "1"}

    def run(*python: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *python, "-m", "kedro", "run", "--pipelines", "bronze,silver,gold"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip

    done = run("-X", "importtime")  # every module the process imports, on stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("Nothing new")] == [
        "Nothing new: every landing file is already in the lake (2 batches) and gold is up "
        "to date; drop export files into landing/<table>/ and run again."
    ]
    # the check reads the ledger and Delta tables only: none of the heavy imports of the
    # datasets and nodes it does not use (pandas alone is half a second of start-up)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    unused = {"pandas", "pyarrow.dataset", "kedro_datasets.polars", "pymongo", "faker"}
    assert imported & unused == set()
    assert "medallion_kedro.pipelines.generate" not in imported  # no pipeline is built
    assert (lake / "_lake.json").read_text() == record
    # a new file: the same command runs the pipeline, still without pandas (Kedro's and
    # Kedro-Viz's hooks import it to ask whether a value is a pandas frame), MongoDB's driver
    # (the lineage of a run that exports nothing) or kedro-datasets' polars package
    hm.drop_batch(lake, "orders", "o2.csv", _orders(range(6, 8)))
    done = run("-X", "importtime")
    assert "Nothing new" not in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert imported & {"pandas", "pymongo", "kedro_datasets.polars"} == set()
    assert sorted(_silver_orders(lake)) == list(range(1, 8))
    gold = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", "gold"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "Nothing new" not in gold.stdout  # a stage asked for alone always runs


def test_generated_batches_build_the_last_row_of_each_key(lake: Path) -> None:
    kedro_run(["generate"], params={"batches": 3, "n_orders": 900, "n_customers": 90,
                                    "dirty_share": 0.0})  # fmt: skip
    files = sorted((lake / "landing" / "orders").glob("*.csv"))
    assert len(files) == 3 and not (lake / "landing" / "orders.csv").exists()
    kedro_run(LAKEHOUSE)
    last: dict[int, Decimal] = {}
    for file in files:  # independent: the CSV rows in file order, the later one wins
        for line in file.read_text().splitlines()[1:]:
            fields = line.split(",")
            last[int(fields[0])] = Decimal(fields[3])
    assert _silver_orders(lake) == last
    applied = read_table(str(lake), "quality", "batch_reconciliation")
    assert applied.group_by("table").len().sort("table").rows() == [("customers", 3), ("orders", 3)]
    assert all(row["balanced"] for row in _reconciliation(lake).values())
    assert _reconciliation(lake)["orders"]["duplicates_removed"] > 0  # corrections superseded


def test_gold_rebuilt_as_of_a_past_silver_version(lake: Path) -> None:
    import datetime as dt
    import time

    hm.drop_batch(lake, "customers", "c1.csv", _customers(range(1, 4)))
    hm.drop_batch(lake, "orders", "o1.csv", _orders(range(1, 6)))
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    time.sleep(1.1)
    between = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    time.sleep(1.1)
    hm.drop_batch(lake, "orders", "o2.csv", _orders(range(6, 9)))
    kedro_run(LAKEHOUSE, params={"as_of": AS_OF})
    assert read_table(str(lake), "gold", "kpis")["total_orders"][0] == 8

    kedro_run(["gold"], params={"as_of": AS_OF, "silver_as_of": between})
    assert read_table(str(lake), "gold", "kpis")["total_orders"][0] == 5  # silver as it was
    assert read_table(str(lake), "silver", "orders").height == 8  # silver itself unchanged
    kedro_run(["gold"], params={"as_of": AS_OF})
    assert read_table(str(lake), "gold", "kpis")["total_orders"][0] == 8
