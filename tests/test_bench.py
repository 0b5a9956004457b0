"""The README's benchmark scripts run end to end (on tiny sizes: the numbers are not checked)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _bench(script: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "API_", "UI_"))}
    env.update(KEDRO_DISABLE_TELEMETRY="1", GRADIO_ANALYTICS_ENABLED="False")
    result = subprocess.run(
        [sys.executable, f"bench/{script}.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_pipeline_benchmark() -> None:
    assert _bench("pipeline", "--orders", "3000", "--repeat", "1").strip()


def test_fixed_cost_benchmark() -> None:
    out = _bench("fixed_cost", "--orders", "300", "--batches", "3", "--repeat", "1")
    assert "fixed cost (wall - nodes)" in out and "nothing new, median of 1:" in out


def test_incremental_benchmark() -> None:
    # the worst-case spread, the flag's non-default value (the default is the generator's own
    # tests' subject); this runs the guide's `generate ... corrections.mode=worst` too
    corrections = "worst"
    out = _bench("incremental", "--orders", "3000", "--customers", "200",
                 "--corrections", corrections)  # fmt: skip
    assert "full rebuild" in out and "1% batch" in out and "no-op run" in out
    assert "(Nothing new: every landing file is alrea...)" in out
    assert f"customers=200 corrections={corrections}" in out
    assert "fixed cost (wall - nodes)" in out and "no-op run (fixed cost)" in out
    # the rows the batch wrote, read from the Delta log: silver.orders and the total
    batch = int(re.search(r"batch of ([\d,]+) rows", out)[1].replace(",", ""))  # type: ignore[index]
    written = dict(re.findall(r"^  (silver\.orders|silver \+ gold) +([\d,]+)", out, re.M))
    assert 0 < batch < 3200 and set(written) == {"silver.orders", "silver + gold"}
    assert int(written["silver.orders"].replace(",", "")) > 0


def test_export_benchmark() -> None:
    assert _bench("export", "--sizes", "500").strip()


def test_api_load_benchmark() -> None:
    out = _bench("api_load", "--customers", "200", "--clients", "2", "--duration", "1",
                 "--warmup", "0.2")  # fmt: skip
    assert out.strip()


def test_api_cost_benchmark() -> None:
    out = _bench("api_cost", "--customers", "200", "--requests", "20")
    assert "customer(id)" in out and "find customer_metrics" in out


def test_ui_sources_benchmark() -> None:
    assert _bench("ui_sources", "--customers", "200", "--repeats", "2").strip()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install wrk)")
def test_api_vs_rest_benchmark() -> None:
    out = _bench("api_vs_rest", "--customers", "200", "--duration", "1", "--warmup", "1")
    assert "REST (Flask, client per request)" in out and "ratio" in out


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install wrk)")
def test_api_during_exports_benchmark() -> None:
    out = _bench(
        "api_during_exports", "--customers", "200", "--connections", "4", "--duration", "1"
    )
    assert "kpis" in out and "customers[20]" in out


def test_benches_import_no_test_code() -> None:
    """The benches take their servers and samples from ``medallion_dev``, not ``tests/``."""
    pattern = re.compile(r"^\s*(from|import) tests\b|sys\.path\.(insert|append)", re.M)
    offenders = [
        p.name for p in sorted((ROOT / "bench").glob("*.py")) if pattern.search(p.read_text())
    ]
    assert offenders == []
