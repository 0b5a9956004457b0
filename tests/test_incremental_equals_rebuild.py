"""Incremental equals rebuild: landing a set of export files over several runs, in any
grouping and any arrival order, builds the lake one run over all of them builds.

Real Kedro sessions on temporary local lakes. The data is generated (a few hundred rows):
customer files that arrive after the orders that reference them, corrections of earlier
rows, rejected rows, warnings, customers that never arrive (recent orders wait, old ones
are rejected). ``INCREMENTAL_EXAMPLES`` sets how many random splits the property tries.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from medallion_kedro.lake import read_table
from medallion_kedro.schemas import GOLD_TABLES
from tests import handmade as hm
from tests.kedro_run import kedro_run

LAKEHOUSE = ["bronze", "silver", "gold"]
EXAMPLES = int(os.environ.get("INCREMENTAL_EXAMPLES", "3"))
#: Lake tables compared, with the columns that depend on when a run happened.
COMPARED = {
    **{f"silver.{t}": () for t in ("customers", "orders")},
    "quality.reconciliation": (),
    "quality.batch_reconciliation": ("applied_at",),
    "quality.rejected_customers": ("_ingested_at",),
    "quality.rejected_orders": ("_ingested_at",),
    "quality.waiting_orders": ("_ingested_at",),
    "quality.warnings": (),
    "quality.country_mappings": (),
    **{f"gold.{t}": () for t in GOLD_TABLES},
}
Files = list[tuple[str, str, list[str]]]  # (table, file name, CSV lines)


def shop(seed: int, n_files: int = 3) -> Files:
    """Customer and order export files, one of each per period: orders reference
    customers of later files, correct earlier rows, and a few are invalid."""
    rnd = random.Random(seed)
    files: Files = []
    countries = ["France", "germany", "UK", "Narnia", "Spain"]
    start = dt.datetime(2025, 1, 1)
    for k in range(n_files):
        ids = range(1 + 10 * k, 11 + 10 * k)
        customers = [
            f"{i},Name {i}{rnd.choice('ab')},c{i}@example.com,2024-0{1 + k}-1{i % 9},"
            f"{rnd.choice(countries)}"
            for i in ids
        ]
        if k:  # an update of an earlier customer, and a row that breaks a rule
            old = rnd.randint(1, 10 * k)
            customers.append(f"{old},Renamed {old},new{old}@example.com,2024-01-01,Spain")
        customers.append(f"{rnd.randint(1, 10 * n_files)},Bad,not-an-email,2024-01-01,France")
        customers.append(f"c{k},No id,x{k}@example.com,2024-01-01,France")  # a key not a number
        files.append(("customers", f"customers_{k + 1:04d}.csv", customers))
        orders = []
        for j in range(30):
            order = 30 * k + j + 1 if rnd.random() > 0.15 or k == 0 else rnd.randint(1, 30 * k)
            customer = rnd.randint(1, 10 * n_files + 3)  # 3 customers never arrive
            when = start + dt.timedelta(days=150 * k + rnd.randint(0, 150), hours=j)
            amount = rnd.choice(["10.00", "25.50", "99.99", "-1", "abc", "7.25", "3.10", "42.00"])
            product = rnd.choice(["laptop", "mouse", "", "desk"])
            key = order if j else f"#{order}"  # the first row's key is not a number
            orders.append(f"{key},{customer},{when:%Y-%m-%d %H:%M:%S},{amount},{product}")
        files.append(("orders", f"orders_{k + 1:04d}.csv", orders))
    return files


def _drop(lake: Path, files: Files) -> None:
    for table, name, rows in files:
        hm.drop_batch(lake, table, name, rows)


def snapshot(lake: Path) -> dict[str, pl.DataFrame]:
    """Every compared table, without its time columns, in a canonical row order."""
    out = {}
    for name, drop in COMPARED.items():
        layer, table = name.split(".")
        frame = read_table(str(lake), layer, table).drop(drop)
        out[name] = frame.sort(frame.columns, nulls_last=True)
    return out


def assert_same_lake(got: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    for name, frame in expected.items():
        assert got[name].equals(frame), f"{name} differs:\n{got[name]}\nexpected\n{frame}"


def build(lake: Path, runs: list[Files], env: pytest.MonkeyPatch) -> dict[str, pl.DataFrame]:
    """The lake after one run per element of ``runs``, each dropping its files first."""
    env.setenv("LAKE_PATH", str(lake))
    for files in runs:
        _drop(lake, files)
        kedro_run(LAKEHOUSE)
    return snapshot(lake)


_REBUILT: dict[int, dict[str, pl.DataFrame]] = {}


def rebuilt(root: Path, seed: int, env: pytest.MonkeyPatch) -> dict[str, pl.DataFrame]:
    """One run over every file of ``shop(seed)`` (cached per seed)."""
    if seed not in _REBUILT:
        _REBUILT[seed] = build(root / f"rebuild-{seed}", [shop(seed)], env)
    return _REBUILT[seed]


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[int, list[Files]]:
    """A data set and its files in a random arrival order, split into runs. The first run
    has a file of each table (a lake's first build needs both exports: bronze refuses a
    missing one)."""
    seed = draw(st.integers(0, 3))
    files = draw(st.permutations(shop(seed)))
    both = max(next(i for i, f in enumerate(files) if f[0] == t) for t in ("customers", "orders"))
    later = st.integers(both + 1, len(files) - 1) if both + 1 < len(files) else st.nothing()
    cuts = sorted(draw(st.sets(later, max_size=len(files) - 1 - both)))
    bounds = [0, *cuts, len(files)]
    return seed, [files[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@pytest.fixture
def root(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    return tmp_path_factory.mktemp("lakes")


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 5,  # the suite's few examples are the same on every run
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failing split is printed whole
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=arrivals())
def test_any_split_and_arrival_order_builds_the_rebuilt_lake(
    root: Path, monkeypatch: pytest.MonkeyPatch, case: tuple[int, list[Files]]
) -> None:
    seed, runs = case
    expected = rebuilt(root, seed, monkeypatch)
    lake = root / f"incremental-{len(list(root.iterdir()))}"
    assert_same_lake(build(lake, runs, monkeypatch), expected)


def test_the_generated_data_exercises_every_outcome(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data set reaches every case the property is about, so it tests something."""
    lake = rebuilt(root, 0, monkeypatch)
    reasons = set(lake["quality.rejected_orders"]["reason"])
    assert any(r.startswith("unknown customer: still not") for r in reasons)  # expired
    assert "duplicate key: a later row with the same key wins" in reasons
    assert "invalid order_id: not a whole number" in reasons
    assert lake["quality.waiting_orders"].height > 0
    assert lake["quality.warnings"].height > 0
    counts = {r["table"]: r for r in lake["quality.reconciliation"].iter_rows(named=True)}
    assert counts["orders"]["waiting_rows"] == lake["quality.waiting_orders"].height
    assert all(r["balanced"] for r in counts.values())
