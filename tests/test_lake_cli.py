"""`kedro lake`: history, time travel, restore, vacuum and compact on a real lake."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from medallion_kedro.cli import cli
from medallion_kedro.lake import lake_at, read_table, rollback
from tests.kedro_run import PROJECT_ROOT, kedro_run

pytestmark = pytest.mark.slow
LAKEHOUSE = ["bronze", "silver", "gold"]
HEADER = re.compile(r"^\s*version\s+written \(UTC\)\s+operation\s+rows written\s+published$", re.M)


def record(lake: Path) -> dict[str, Any]:
    return dict(json.loads((lake / "_lake.json").read_text()))


def lake_cmd(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["lake", *args], catch_exceptions=False)
    return result


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A lake built twice (two exports); what silver.orders held after each build."""
    root = tmp_path / "lake"
    monkeypatch.setenv("LAKE_PATH", str(root))
    monkeypatch.chdir(PROJECT_ROOT)
    kedro_run(["generate"], params={"n_customers": 80, "n_orders": 600, "seed": 1})
    kedro_run(LAKEHOUSE)
    first = read_table(str(root), "silver", "orders")
    time.sleep(1.1)  # Delta timestamps are in milliseconds; --as-of needs a gap
    between = dt.datetime.now(dt.UTC)
    time.sleep(1.1)
    kedro_run(["generate"], params={"n_customers": 80, "n_orders": 900, "seed": 2})
    kedro_run(LAKEHOUSE)
    second = read_table(str(root), "silver", "orders")
    assert first.height != second.height
    return {"root": root, "first": first, "second": second, "between": between}


def _rows(output: str) -> list[list[str]]:
    """The table rows of `kedro lake history TABLE` (after its header), split in columns."""
    lines = [ln.split() for ln in output.splitlines() if ln.strip()]
    header = next(i for i, ln in enumerate(lines) if ln[:1] == ["version"])
    return lines[header + 1 :]


def test_history_show_restore_vacuum(lake: dict[str, Any]) -> None:
    root: Path = lake["root"]
    history = lake_cmd("history", "silver.orders")
    assert history.exit_code == 0, history.output
    assert HEADER.search(history.output), history.output
    rows = _rows(history.output)
    assert rows[0][0] == "1" and rows[0][-1] == "now"
    assert rows[1][0] == "0" and rows[1][-1] == "previous"
    # the second build wrote the keys it changed (silver's KeyedChanges), in one commit
    assert " ".join(rows[0][2:-2]) == "WRITE", rows[0]
    assert rows[0][-2] == f"{lake['second'].height:,}", rows[0]
    # the first build created the table: its rows are counted from the files it added
    assert rows[1][-2] == f"{lake['first'].height:,}", rows[1]

    shown = lake_cmd("show", "silver.orders", "--version", "0", "--rows", "3")
    assert "silver.orders: published Delta version 0" in shown.output
    assert f"silver.orders: {lake['first'].height} rows" in shown.output
    as_of = lake_cmd("show", "silver.orders", "--as-of", lake["between"].isoformat())
    assert f"silver.orders: {lake['first'].height} rows" in as_of.output
    now = lake_cmd("show", "silver.orders")
    assert f"silver.orders: {lake['second'].height} rows" in now.output

    # vacuum with no retention: the published and the previous version stay readable
    vacuum = lake_cmd("vacuum", "silver.orders", "--retention-hours", "0")
    assert vacuum.exit_code == 0 and "silver.orders: removed" in vacuum.output
    assert read_table(str(root), "silver", "orders").equals(lake["second"])
    rollback(lake_at(str(root)))  # reads the previous versions: still there
    assert read_table(str(root), "silver", "orders").equals(lake["first"])
    compact = lake_cmd("compact", "gold.kpis")
    assert compact.exit_code == 0 and "gold.kpis: 0 files rewritten into 0" in compact.output
    z_order = lake_cmd("compact", "gold.kpis", "--z-order")  # sorts by save_args.cluster_by
    assert z_order.exit_code == 0, z_order.output
    assert "gold.kpis: no save_args.cluster_by in the catalog: nothing to sort by" in z_order.output


def test_time_travel_through_the_catalog(lake: dict[str, Any]) -> None:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT) as session:
        catalog = session.load_context().catalog
        orders = catalog.get("silver.orders")
        assert orders.load_version(version=0).collect().equals(lake["first"])
        assert catalog.load("silver.orders").collect().equals(lake["second"])
        old = orders.with_load_args(version=0)
        assert old.load().collect().equals(lake["first"])


def test_unknown_table_and_version_are_clear(lake: dict[str, Any]) -> None:
    bad = CliRunner().invoke(cli, ["lake", "history", "orders"])
    assert bad.exit_code != 0 and "is not a lake table" in bad.output
    missing = CliRunner().invoke(cli, ["lake", "show", "silver.orders", "--version", "9"])
    assert missing.exit_code != 0
    assert "Version 9 of silver.orders was never published" in missing.output
