"""Real faults on a real lake: kill -9 between writes, a full disk, two runs at once.

Each test injects the fault it names (SIGKILL of a real ``kedro run`` process, a tmpfs that
really fills up, a second real run) and checks what a reader sees afterwards: all of a
stage's tables of one run, never a mix, and nothing left behind once the next run starts.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from deltalake import DeltaTable

from medallion_kedro.datasets import DeltaTableDataset
from medallion_kedro.lake import lake_at, read_table, rollback
from medallion_kedro.pipelines.bronze.ledger import live_batches
from medallion_kedro.schemas import GOLD as GOLD_SCHEMAS
from tests.fault_run import fault_run, paused_run
from tests.kedro_run import (
    BATCH_A,
    BATCH_B,
    LAKEHOUSE,
    PROJECT_ROOT,
    kedro_run,
    lake_built_from_batch_a,
)

GOLD = tuple(GOLD_SCHEMAS)
# fewer customers: orders of batch A mixed with customers of batch B would be orphans


def record(lake: Path) -> dict[str, Any]:
    return dict(json.loads((lake / "_lake.json").read_text()))


def read(lake: Path, layer: str, table: str) -> pl.DataFrame:
    return read_table(str(lake), layer, table)


def gold(lake: Path) -> dict[str, pl.DataFrame]:
    return {table: read(lake, "gold", table) for table in GOLD}


def published(lake: Path | dict[str, Any], key: str) -> dict[str, Any]:
    """A record entry without its Delta version number (a restore gives a new one)."""
    entry = (lake if isinstance(lake, dict) else record(lake))["tables"][key]
    return {k: v for k, v in entry.items() if k not in ("version", "restored_from")}


def unpublished(lake: Path) -> list[str]:
    """Delta versions no reader gets: newer than the version the record names.

    ``<layer>/<table>/v<N>`` for a table whose latest Delta version N is not the named one.
    """
    tables = record(lake)["tables"]
    found = []
    for log in sorted(lake.glob("*/*/_delta_log")):
        folder = log.parent
        key = f"{folder.parent.name}.{folder.name}"
        latest = DeltaTable(str(folder)).version()
        named = tables.get(key, {}).get("version")
        if latest != named:
            found.append(f"{folder.relative_to(lake)}/v{latest}")
    return found


def leftovers(lake: Path) -> list[str]:
    return sorted(str(p.relative_to(lake)) for p in lake.rglob("*.tmp")) + unpublished(lake)


def assert_same_gold(got: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    for table in GOLD:
        assert got[table].equals(expected[table]), table


def assert_batches_applied_once(lake: Path) -> None:
    """Every live bronze batch (a landing file's latest content) is in silver's per-batch
    counts exactly once, with all its rows, and the cumulative counts reconcile: nothing
    half-applied, duplicated or lost."""
    applied = read(lake, "quality", "batch_reconciliation")
    live = live_batches(read(lake, "bronze", "batches"), pl.LazyFrame())
    for table in ("customers", "orders"):
        rows = read(lake, "bronze", table).filter(pl.col("_batch_id").is_in(live[table]))
        bronze = rows.group_by("_batch_id").len()
        mine = applied.filter(pl.col("table") == table)
        assert mine["batch_id"].n_unique() == mine.height, table
        assert dict(bronze.iter_rows()) == dict(mine.select("batch_id", "bronze_rows").iter_rows())
    assert read(lake, "quality", "reconciliation")["balanced"].all()


def assert_gold_matches_silver(lake: Path) -> None:
    """Gold was built from the silver readers see: same orders, same revenue."""
    orders = read(lake, "silver", "orders")
    kpis = read(lake, "gold", "kpis")
    assert kpis["total_orders"][0] == orders.height
    by_country = read(lake, "gold", "revenue_by_country")
    assert by_country["total_orders"].sum() == orders.height
    assert by_country["total_revenue"].sum() == orders["amount"].sum()  # Decimal: exact


@pytest.fixture(scope="module")
def built_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lake_built_from_batch_a(tmp_path_factory.mktemp("faults") / "lake")


@pytest.fixture
def lake(built_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of a lake built from batch A, with batch B waiting in landing."""
    copy = tmp_path / "lake"
    shutil.copytree(built_lake, copy)
    monkeypatch.setenv("LAKE_PATH", str(copy))
    return copy


@pytest.mark.parametrize("killed_after", ["bronze.customers", "bronze.orders"])
def test_kill_between_the_bronze_saves_publishes_no_bronze(lake: Path, killed_after: str) -> None:
    """Killed between the two saves, or after both but before the stage commits."""
    before, gold_before = record(lake), gold(lake)
    bronze_before = {t: read(lake, "bronze", t) for t in ("customers", "orders")}
    kedro_run(["generate"], params=BATCH_B)

    run = fault_run({}, "--pipelines", "bronze", "--kill-after", killed_after)

    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    assert record(lake) == before  # neither bronze table published
    assert [p for p in unpublished(lake) if p.startswith("bronze/customers/")]  # it was saved
    kedro_run(["silver", "gold"])  # readers see the previous, complete bronze
    for table in ("customers", "orders"):
        # the same version: same run, batch and rows (a new Delta version if it was restored)
        assert published(lake, f"bronze.{table}") == published(before, f"bronze.{table}")
        assert read(lake, "bronze", table).equals(bronze_before[table])
    assert_same_gold(gold(lake), gold_before)
    assert read(lake, "quality", "reconciliation")["balanced"].all()
    assert leftovers(lake) == []  # the killed run's version was removed at the next start

    kedro_run(LAKEHOUSE)  # the rerun ingests batch B once: nothing lost, nothing twice
    for table in ("customers", "orders"):
        assert read(lake, "bronze", table)["_batch_id"].n_unique() == 2
        landing = pl.read_csv(lake / "landing" / f"{table}.csv", infer_schema=False).height
        assert read(lake, "bronze", table).height == bronze_before[table].height + landing
    assert_batches_applied_once(lake)
    assert_gold_matches_silver(lake)


def test_kill_mid_silver_then_gold_reads_the_previous_silver(lake: Path) -> None:
    before, gold_before = record(lake), gold(lake)
    kedro_run(["generate"], params=BATCH_B)

    # reconcile saves silver.customers, quality.rejected_customers, then silver.orders
    run = fault_run({}, "--pipelines", "bronze,silver", "--kill-after", "silver.orders")

    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    after = record(lake)
    assert after["tables"]["bronze.orders"] != before["tables"]["bronze.orders"]  # B is in
    for key in ("silver.customers", "silver.orders", "quality.reconciliation"):
        assert after["tables"][key] == before["tables"][key], key
    kedro_run(["gold"])
    assert_same_gold(gold(lake), gold_before)
    assert_gold_matches_silver(lake)

    kedro_run(["silver", "gold"])  # the next run applies batch B, which bronze holds
    assert_batches_applied_once(lake)
    assert_gold_matches_silver(lake)
    assert leftovers(lake) == []


def test_kill_mid_gold_keeps_the_previous_gold_whole(lake: Path) -> None:
    before, gold_before = record(lake), gold(lake)
    kedro_run(["generate"], params=BATCH_B)
    kedro_run(["bronze", "silver"])

    # gold.kpis is saved last, when every other gold table of the run is already saved
    run = fault_run({}, "--pipelines", "gold", "--kill-after", "gold.kpis")

    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    for table in GOLD:
        assert record(lake)["tables"][f"gold.{table}"] == before["tables"][f"gold.{table}"]
    assert_same_gold(gold(lake), gold_before)
    kedro_run(["gold"])
    assert_gold_matches_silver(lake)
    assert leftovers(lake) == []


def test_a_second_run_fails_cleanly_and_a_killed_runs_lock_is_recovered(lake: Path) -> None:
    before = record(lake)
    kedro_run(["generate"], params=BATCH_B)
    with paused_run({}, "--pipelines", "bronze", "--pause-after", "bronze.customers") as first:
        second = subprocess.run(
            [sys.executable, "-m", "kedro", "run", "--pipelines", "bronze,silver,gold"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert second.returncode != 0
        output = " ".join((second.stdout + second.stderr).split())
        assert "is locked by run" in output and f"(pid {first.pid} on" in output, output[-3000:]
        assert record(lake) == before
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert (lake / "_lock.json").exists()  # the killed run could not release it

    kedro_run(LAKEHOUSE)  # the dead run's lock is taken over

    assert not (lake / "_lock.json").exists()
    for table in ("customers", "orders"):  # batch B went in once, beside batch A
        batches = record(lake)["tables"][f"bronze.{table}"]["batch_ids"]
        assert len(batches) == 2 and set(before["tables"][f"bronze.{table}"]["batch_ids"]) < set(
            batches
        )
    assert_batches_applied_once(lake)
    assert_gold_matches_silver(lake)
    assert leftovers(lake) == []


def test_gold_refuses_silver_tables_of_different_runs(lake: Path) -> None:
    orders = DeltaTableDataset(filepath=str(lake / "silver" / "orders"))
    orders.save(orders.load().collect().head(10))  # e.g. a notebook rewrote one silver table
    gold_before, before = gold(lake), record(lake)
    with pytest.raises(
        Exception,
        match=r"silver tables this run reads come from different runs \(silver\.customers from "
        r"run \S+; silver\.orders from run \S+\).*kedro run --pipelines silver",
    ):
        kedro_run(["gold"])
    assert record(lake) == before
    assert_same_gold(gold(lake), gold_before)


def test_silver_refuses_bronze_tables_of_different_runs(lake: Path) -> None:
    orders = DeltaTableDataset(filepath=str(lake / "bronze" / "orders"))
    orders.save(orders.load().with_columns(_batch_id=pl.lit("otherbatch")).collect())
    before = record(lake)
    with pytest.raises(
        Exception,
        match=r"bronze tables this run reads come from different runs \(.*bronze\.orders from "
        r"run [^;)\s]+[;)].*kedro run --pipelines bronze",
    ):
        kedro_run(["silver", "gold"])
    assert record(lake) == before


def test_temp_files_of_a_killed_process_are_removed_at_the_next_run(lake: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = lake / "landing" / f".orders.csv.{dead.stdout.strip()}.tmp"
    stale.write_text("half an export")
    mine = lake / "landing" / f".customers.csv.{os.getpid()}.tmp"  # a live process's
    mine.write_text("being written")
    kedro_run(LAKEHOUSE)
    assert not stale.exists()
    assert mine.exists()


# --- a real full disk --------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 20 MB tmpfs: writes beyond it fail with ENOSPC, as on a full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` until the kernel refuses, then free ``leave`` bytes."""
    filler = disk / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    size = filler.stat().st_size
    os.truncate(filler, size - leave)
    return filler


def test_full_disk_publishes_nothing_and_leaves_nothing(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = small_disk / "lake"
    monkeypatch.setenv("LAKE_PATH", str(lake))
    kedro_run(["generate"], params=BATCH_A)
    kedro_run(LAKEHOUSE)
    before, gold_before = record(lake), gold(lake)
    kedro_run(["generate"], params={**BATCH_B, "n_orders": 20000})
    filler = _fill(small_disk, leave=96 * 1024)

    with pytest.raises(Exception, match=r"the disk is full"):
        kedro_run(LAKEHOUSE)

    assert record(lake) == before
    assert_same_gold(gold(lake), gold_before)
    # a Delta version bronze wrote before the disk filled stays unnamed (nobody reads it)
    assert all(p.startswith("bronze/") for p in unpublished(lake))
    assert not list(lake.rglob("*.tmp"))
    filler.unlink()
    kedro_run(LAKEHOUSE)
    assert_gold_matches_silver(lake)
    assert leftovers(lake) == []


def test_full_disk_while_committing_keeps_the_previous_record(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit record is replaced whole: a write cut by ENOSPC leaves the old one."""
    lake = small_disk / "lake"
    ds = DeltaTableDataset(filepath=str(lake / "gold" / "t"))
    ds.save(pl.DataFrame({"k": [1]}))
    before = (lake / "_lake.json").read_bytes()
    filler = _fill(small_disk, leave=3 * 4096)  # room for the new version and the lock
    with pytest.raises(Exception, match="No space left"):
        ds.save(pl.DataFrame({"k": [2]}))
    assert (lake / "_lake.json").read_bytes() == before
    assert ds.load().collect()["k"].to_list() == [1]
    assert not (lake / "_lock.json").exists()
    # a Delta version written before the record failed stays unnamed until the next write
    assert all(p.startswith("gold/t/") for p in unpublished(lake))
    filler.unlink()
    ds.save(pl.DataFrame({"k": [3]}))
    assert ds.load().collect()["k"].to_list() == [3]
    assert leftovers(lake) == []


def test_rollback_makes_the_previous_lake_current_again(lake: Path) -> None:
    before, gold_a = record(lake), gold(lake)
    kedro_run(["generate"], params=BATCH_B)
    kedro_run(LAKEHOUSE)
    gold_b = gold(lake)
    assert not gold_b["kpis"].equals(gold_a["kpis"])

    done = rollback(lake_at(str(lake)))

    assert set(done.published) == set(before["tables"])  # every table, in one commit
    assert_same_gold(gold(lake), gold_a)
    for key in before["tables"]:
        assert published(lake, key)["run_id"] == before["tables"][key]["run_id"], key
    assert not (lake / "_lock.json").exists()
    rollback(lake_at(str(lake)))  # a second rollback undoes the first
    assert_same_gold(gold(lake), gold_b)
    assert leftovers(lake) == []


def test_thread_runner_publishes_each_stage_whole(lake: Path) -> None:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from kedro.runner import ThreadRunner

    kedro_run(["generate"], params=BATCH_B)
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT) as session:
        session.run(pipeline_names=LAKEHOUSE, runner=ThreadRunner(max_workers=4))
    runs = {e["run_id"] for e in record(lake)["tables"].values()}
    assert len(runs) == 1
    assert_gold_matches_silver(lake)
    assert leftovers(lake) == []
