"""Incremental gold equals a full recompute: gold maintained from silver's changes over any
sequence of batches, silver-only runs, rollbacks and restores holds, table by table and to
the cent, what gold computed from every silver row holds.

Real Kedro sessions on temporary local lakes, with the small shop of
``tests/test_incremental_equals_rebuild.py``. Silver rewrites its tables whole on every
run, so gold is maintained with ``gold_max_change_share=1`` (the changes of a rewrite are
its rows that differ). The full recompute is the project's own time-travel path:
``kedro run --pipelines gold --params silver_as_of=<now>`` on a copy of the lake.
``INCREMENTAL_GOLD_EXAMPLES`` sets how many random histories the property tries.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import medallion_kedro.lake as lakes
from medallion_kedro.datasets.table_changes import TableChangesDataset
from medallion_kedro.schemas import GOLD_TABLES
from tests import handmade as hm
from tests.kedro_run import LAKEHOUSE, kedro_run
from tests.test_incremental_equals_rebuild import Files, shop

EXAMPLES = int(os.environ.get("INCREMENTAL_GOLD_EXAMPLES", "2"))
MAINTAINED = {"gold_max_change_share": 1}
Step = tuple[str, Files]


def _gold(lake: Path) -> dict[str, pl.DataFrame]:
    out = {}
    for table in GOLD_TABLES:
        frame = lakes.read_table(str(lake), "gold", table)
        out[table] = frame.sort(frame.columns, nulls_last=True)
    return out


def _recomputed(lake: Path, env: pytest.MonkeyPatch) -> dict[str, pl.DataFrame]:
    """Gold computed from every silver row, on a copy of ``lake``."""
    copy = lake.with_name(lake.name + "-full")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(lake, copy)
    env.setenv("LAKE_PATH", str(copy))
    kedro_run(["gold"], params={"silver_as_of": dt.datetime.now(dt.UTC).isoformat()})
    env.setenv("LAKE_PATH", str(lake))
    return _gold(copy)


def _assert_gold_equals_recompute(lake: Path, env: pytest.MonkeyPatch, after: str) -> None:
    got, expected = _gold(lake), _recomputed(lake, env)
    for table, frame in expected.items():
        assert got[table].equals(frame), (
            f"after {after}: gold.{table} differs from a full recompute:\n{got[table]}\n"
            f"expected\n{frame}"
        )


def _drop(lake: Path, files: Files) -> None:
    for table, name, rows in files:
        hm.drop_batch(lake, table, name, rows)


def _maintained(lake: Path) -> bool:
    """Whether the next gold run maintains gold from silver's published changes."""
    changes = TableChangesDataset(
        filepath=str(lake / "silver/orders"), since="gold", load_args={"max_share": 1}
    )
    return changes.load().full is None


def _apply(lake: Path, step: Step, env: pytest.MonkeyPatch) -> bool:
    """Run one step; True when gold was built in it (so it can be compared)."""
    kind, files = step
    _drop(lake, files)
    if kind == "batch":
        kedro_run(LAKEHOUSE, params=MAINTAINED)
        return True
    if kind == "silver only":
        kedro_run(["bronze", "silver"])
        return False
    place = lakes.lake_at(str(lake))
    if kind == "rollback":
        lakes.rollback(place)
    else:  # restore the lake as the first run left it
        runs = [c["run_id"] for c in place.read_record()["history"] if c["op"] == "run"]
        lakes.restore(place, run_id=runs[0])
    kedro_run(["gold"], params=MAINTAINED)
    return True


@st.composite
def histories(draw: st.DrawFn) -> tuple[Files, list[Step]]:
    """A first build (a customer and an order file), then the shop's other files in steps:
    batches with gold, silver-only runs, and rollbacks or restores between them."""
    files = shop(draw(st.integers(0, 3)))
    first, rest = files[:2], files[2:]
    steps: list[Step] = []
    while rest:
        take = draw(st.integers(1, min(2, len(rest))))
        steps.append((draw(st.sampled_from(["batch", "silver only"])), rest[:take]))
        rest = rest[take:]
        if draw(st.integers(0, 3)) == 0:
            steps.append((draw(st.sampled_from(["rollback", "restore"])), []))
    return first, steps


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    return tmp_path


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 5,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
@example(  # every kind of step, always tried
    history=(
        shop(1)[:2],
        [("batch", shop(1)[2:4]), ("restore", []), ("silver only", shop(1)[4:]), ("rollback", [])],
    )
)
def test_incremental_gold_equals_a_full_recompute(
    lake: Path, monkeypatch: pytest.MonkeyPatch, history: tuple[Files, list[Step]]
) -> None:
    first, steps = history
    root = lake / f"lake-{len(list(lake.iterdir()))}"
    monkeypatch.setenv("LAKE_PATH", str(root))
    _drop(root, first)
    kedro_run(LAKEHOUSE)
    for number, step in enumerate(steps, 1):
        if _apply(root, step, monkeypatch):
            _assert_gold_equals_recompute(root, monkeypatch, f"step {number} ({step[0]})")
    kedro_run(["gold"], params=MAINTAINED)
    _assert_gold_equals_recompute(root, monkeypatch, "the last gold run")


def test_gold_is_maintained_after_a_batch_a_silver_only_run_and_a_rollback(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The paths the property compares are the maintained ones, not only full recomputes."""
    files = shop(0)
    root = lake / "lake"
    monkeypatch.setenv("LAKE_PATH", str(root))
    _drop(root, files[:2])
    kedro_run(LAKEHOUSE)
    _drop(root, files[2:4])
    kedro_run(["bronze", "silver"])
    assert _maintained(root)  # gold lags one silver version
    kedro_run(["gold"], params=MAINTAINED)
    _assert_gold_equals_recompute(root, monkeypatch, "a silver-only run, then gold")
    _drop(root, files[4:])
    kedro_run(["bronze", "silver"])
    lakes.rollback(lakes.lake_at(str(root)))  # silver back; gold was not changed
    assert _maintained(root)
    kedro_run(["gold"], params=MAINTAINED)
    _assert_gold_equals_recompute(root, monkeypatch, "a rollback of silver, then gold")
    decided: list[tuple[str, str | None]] = []
    changes = TableChangesDataset._changes

    def noted(self: TableChangesDataset, base: int | str, version: int | None) -> Any:
        found = changes(self, base, version)
        decided.append((self.key, found.full))
        return found

    monkeypatch.setattr(TableChangesDataset, "_changes", noted)
    _drop(root, files[4:])
    kedro_run(LAKEHOUSE, params=MAINTAINED)
    assert sorted(decided) == [("silver.customers", None), ("silver.orders", None)]
    _assert_gold_equals_recompute(root, monkeypatch, "a batch")


@pytest.mark.slow
def test_gold_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    """``bench/gold_incremental.py`` on a tiny shop (the numbers are not checked)."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    done = subprocess.run(
        [sys.executable, "bench/gold_incremental.py", "--orders", "3000", "--customers", "200",
         "--lake", str(tmp_path / "lake")],
        cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "changes.silver_orders" in done.stdout
    for variant in ("maintained", "recomputed"):
        assert f"gold {variant}: " in done.stdout
    assert done.stdout.count("rows written gold.customer_metrics") == 2
