"""`bench/spark_profile.py` runs end to end on a tiny lake: it reads the run's Spark event log
and node records (the numbers are not checked, only that they were found). Skipped
without PySpark or Java."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.spark import skip_without_spark

skip_without_spark()

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_spark_profile_benchmark(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "API_", "UI_"))}
    env.update(KEDRO_DISABLE_TELEMETRY="1", SPARK_MASTER="local[2]")
    result = subprocess.run(
        [sys.executable, "bench/spark_profile.py", "--orders", "3000", "--lake", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    out = result.stdout
    jobs = re.search(r"spark: (\d+) jobs, (\d+) stages, (\d+) tasks", out)
    assert jobs is not None and int(jobs[1]) > 10, out
    assert "Python on the executors: none" in out
    # every silver node that runs Spark jobs is in the table, with its jobs
    rows = dict(re.findall(r"^(flag_orders|split_orders|merge_orders) +[\d.]+ +(\d+)", out, re.M))
    assert set(rows) == {"flag_orders", "split_orders", "merge_orders"}, out
    assert all(int(n) > 0 for n in rows.values()), out
    assert re.search(r"saving the Spark lake tables: \d+ s \(.*silver\.orders", out), out
