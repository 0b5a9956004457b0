"""Snapshot reads: a reader that reads several tables gets them all from one commit, even
while runs publish new ones."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import polars as pl
import pytest

from medallion_kedro.lake import read_tables
from tests.kedro_run import PROJECT_ROOT, kedro_run
from ui.sources.lake import LakeSource

pytestmark = pytest.mark.slow
RUNS = 3
GOLD = ["gold.kpis", "gold.revenue_by_country", "gold.customer_metrics"]


def consistent(orders: int, by_country: pl.DataFrame, customers: pl.DataFrame) -> bool:
    """Whether three gold tables come from one build: the same number of orders."""
    return bool(orders == by_country["total_orders"].sum() == customers["order_count"].sum())


def test_readers_never_see_tables_of_two_commits_while_runs_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    monkeypatch.setenv("LAKE_PATH", str(lake))
    monkeypatch.chdir(PROJECT_ROOT)
    kedro_run(["generate"], params={"n_customers": 300, "n_orders": 4000, "batches": RUNS + 1})
    # hold back all but the first export of each table; each run below lands one more
    held = tmp_path / "held"
    files = {t: sorted((lake / "landing" / t).glob("*.csv")) for t in ("customers", "orders")}
    for table, paths in files.items():
        (held / table).mkdir(parents=True)
        for path in paths[1:]:
            shutil.move(path, held / table / path.name)
    kedro_run(["bronze", "silver", "gold"])

    source = LakeSource(PROJECT_ROOT)
    seen: set[int] = set()
    mixed: list[str] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            tables = read_tables(str(lake), GOLD)
            orders = int(tables["gold.kpis"]["total_orders"][0])
            if not consistent(orders, tables["gold.revenue_by_country"],
                              tables["gold.customer_metrics"]):  # fmt: skip
                mixed.append(f"read_tables at {orders} orders")
            with source.snapshot():
                kpis = source.kpis()
                by_country = source.revenue_by_country()
                customers = source.top_customers(10**6)
            if not consistent(kpis.total_orders, by_country, customers):
                mixed.append(f"LakeSource.snapshot at {kpis.total_orders} orders")
            seen.add(orders)

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        for k in range(1, RUNS + 1):
            for table, paths in files.items():
                shutil.move(held / table / paths[k].name, lake / "landing" / table)
            done = subprocess.run(
                [sys.executable, "-m", "kedro", "run", "--pipelines", "bronze,silver,gold"],
                cwd=PROJECT_ROOT,
                env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"},
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-3000:]
    finally:
        stop.set()
        reader.join(timeout=120)
    assert mixed == []
    assert len(seen) >= 2  # the readers did read while the lake changed
