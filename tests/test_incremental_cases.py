"""The cases incremental silver got wrong, each against a rebuild from the same files:
customers that arrive after their orders, orders that wait too long, a landing file
changed in place, a batch refused by the reject-share gate, retraction and its undoing.

Real Kedro sessions on temporary local lakes; the ``kedro`` commands run as subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from medallion_kedro.lake import read_table
from medallion_kedro.pipelines.silver.incremental import EXPIRED_REASON
from tests import handmade as hm
from tests.kedro_run import PROJECT_ROOT, kedro_run
from tests.test_incremental_equals_rebuild import assert_same_lake, snapshot

LAKEHOUSE = ["bronze", "silver", "gold"]

C1 = ["1,Ann,ann@example.com,2024-01-01,France", "2,Bob,bob@example.com,2024-01-02,Spain"]
C2 = ["3,Cid,cid@example.com,2024-02-01,Germany", "4,Dee,dee@example.com,2024-02-02,Italy"]
#: orders of customers 1 to 4: those of 3 and 4 arrive before their customers
O1 = [
    "10,1,2026-10-01 10:00:00,10.00,laptop",
    "11,3,2026-10-02 10:00:00,20.00,mouse",
    "12,4,2026-10-03 10:00:00,30.00,desk",
]
O2 = ["13,2,2026-10-04 10:00:00,40.00,laptop", "11,1,2026-10-05 10:00:00,21.00,mouse"]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    return tmp_path


def _use(lake: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAKE_PATH", str(lake))
    return lake


def _rebuild(
    lake: Path, files: list[tuple[str, str, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, pl.DataFrame]:
    """The lake one run over ``files`` builds (``LAKE_PATH`` is left pointing at it)."""
    _use(lake, monkeypatch)
    for table, name, rows in files:
        hm.drop_batch(lake, table, name, rows)
    kedro_run(LAKEHOUSE)
    return snapshot(lake)


def _kedro(lake: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKE_PATH": str(lake), "KEDRO_DISABLE_TELEMETRY": "1"}
    return subprocess.run(
        [sys.executable, "-m", "kedro", *args], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, timeout=300, check=check,
    )  # fmt: skip


def _counts(lake: Path) -> dict[str, dict[str, object]]:
    rows = read_table(str(lake), "quality", "reconciliation").iter_rows(named=True)
    return {r["table"]: r for r in rows}


def test_orders_wait_for_their_customers_and_enter_silver_when_they_arrive(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [("customers", "c1.csv", C1), ("customers", "c2.csv", C2), ("orders", "o1.csv", O1)]
    expected = _rebuild(root / "rebuilt", files, monkeypatch)
    lake = _use(root / "incremental", monkeypatch)
    hm.drop_batch(lake, "customers", "c1.csv", C1)
    hm.drop_batch(lake, "orders", "o1.csv", O1)
    kedro_run(LAKEHOUSE)
    assert sorted(read_table(str(lake), "silver", "orders")["order_id"]) == [10]
    waiting = read_table(str(lake), "quality", "waiting_orders")
    assert sorted(waiting["order_id"]) == ["11", "12"]
    assert read_table(str(lake), "quality", "rejected_orders").height == 0
    counts = _counts(lake)["orders"]
    assert (counts["bronze_rows"], counts["silver_rows"], counts["waiting_rows"]) == (3, 1, 2)
    assert counts["balanced"]

    hm.drop_batch(lake, "customers", "c2.csv", C2)
    kedro_run(LAKEHOUSE)
    assert sorted(read_table(str(lake), "silver", "orders")["order_id"]) == [10, 11, 12]
    assert read_table(str(lake), "quality", "waiting_orders").height == 0
    assert_same_lake(snapshot(lake), expected)


def test_an_order_that_waited_too_long_is_rejected_until_its_customer_arrives(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = ["20,3,2026-01-02 10:00:00,5.00,mouse"]  # 272 days before the latest order
    lake = _use(root / "incremental", monkeypatch)
    hm.drop_batch(lake, "customers", "c1.csv", C1)
    hm.drop_batch(lake, "orders", "o1.csv", [*O1[:1], *old])
    kedro_run(LAKEHOUSE)
    rejected = read_table(str(lake), "quality", "rejected_orders")
    assert rejected.select("order_id", "reason").rows() == [("20", EXPIRED_REASON)]
    assert read_table(str(lake), "quality", "waiting_orders").height == 0
    assert _counts(lake)["orders"]["rejected_rows"] == 1

    hm.drop_batch(lake, "customers", "c2.csv", C2)  # customer 3 arrives after all
    kedro_run(LAKEHOUSE)
    assert sorted(read_table(str(lake), "silver", "orders")["order_id"]) == [10, 20]
    assert read_table(str(lake), "quality", "rejected_orders").height == 0
    expected = _rebuild(root / "rebuilt", [("customers", "c1.csv", C1),
                        ("customers", "c2.csv", C2), ("orders", "o1.csv", [*O1[:1], *old])],
                        monkeypatch)  # fmt: skip
    assert_same_lake(snapshot(lake), expected)


def test_a_file_changed_in_place_with_the_same_size_and_time_replaces_its_batch(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = _use(root / "incremental", monkeypatch)
    hm.drop_batch(lake, "customers", "c1.csv", C1)
    path = hm.drop_batch(lake, "orders", "o1.csv", O1[:1])
    _kedro(lake, "run", "--pipelines", "bronze,silver,gold")
    stat = path.stat()
    changed = path.read_text().replace("10.00", "19.00")  # one digit: the same size
    path.write_text(changed)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # `touch -r`
    assert path.stat().st_size == stat.st_size

    done = _kedro(lake, "run", "--pipelines", "bronze,silver,gold")
    assert "Nothing new" not in done.stdout
    orders = read_table(str(lake), "silver", "orders")
    assert [str(a) for a in orders["amount"]] == ["19.00"]
    expected = _rebuild(root / "rebuilt", [("customers", "c1.csv", C1),
                        ("orders", "o1.csv", ["10,1,2026-10-01 10:00:00,19.00,laptop"])],
                        monkeypatch)  # fmt: skip
    assert_same_lake(snapshot(lake), expected)


def test_a_batch_refused_by_the_gate_is_retracted_with_the_command_its_message_names(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = _use(root / "incremental", monkeypatch)
    hm.drop_batch(lake, "customers", "c1.csv", C1)
    hm.drop_batch(lake, "orders", "o1.csv", O1[:1])
    kedro_run(LAKEHOUSE)
    hm.drop_batch(lake, "orders", "o2.csv", ["30,1,2026-10-01 10:00:00,-1,laptop"] * 3)
    args = ("run", "--pipelines", "bronze,silver,gold")
    for _ in range(2):  # every later run is refused the same way
        failed = _kedro(lake, *args, check=False)
        assert failed.returncode != 0
        assert "kedro lake retract " in failed.stderr + failed.stdout
    batch = read_table(str(lake), "bronze", "batches").filter(pl.col("source_file") == "o2.csv")
    command = f"kedro lake retract {batch['batch_id'][0]}"
    assert command in failed.stderr + failed.stdout

    _kedro(lake, "lake", "retract", "o2.csv")
    _kedro(lake, *args)  # the file is still in landing: not ingested again
    assert set(read_table(str(lake), "bronze", "batches")["source_file"]) == {"c1.csv", "o1.csv",
                                                                             "o2.csv"}  # fmt: skip
    assert sorted(read_table(str(lake), "silver", "orders")["order_id"]) == [10]
    assert _counts(lake)["orders"]["bronze_rows"] == 1


def test_retracting_a_batch_builds_the_lake_without_it_and_undo_brings_it_back(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [("customers", "c1.csv", C1), ("orders", "o1.csv", O1),
             ("customers", "c2.csv", C2), ("orders", "o2.csv", O2)]  # fmt: skip
    everything = _rebuild(root / "all", files, monkeypatch)
    without_c2 = _rebuild(root / "without", [f for f in files if f[1] != "c2.csv"], monkeypatch)
    lake = _use(root / "incremental", monkeypatch)
    for run in (files[:2], files[2:3], files[3:]):
        for table, name, rows in run:
            hm.drop_batch(lake, table, name, rows)
        kedro_run(LAKEHOUSE)

    unknown = _kedro(lake, "lake", "retract", "nosuch.csv", check=False)
    assert unknown.returncode == 1
    assert "No batch 'nosuch.csv' in the lake" in unknown.stderr
    _kedro(lake, "lake", "retract", "c2.csv")  # the orders of customers 3 and 4 wait again
    assert sorted(read_table(str(lake), "quality", "waiting_orders")["order_id"]) == ["11", "12"]
    assert_same_lake(snapshot(lake), without_c2)

    _kedro(lake, "lake", "retract", "c2.csv", "--undo")
    assert_same_lake(snapshot(lake), everything)
