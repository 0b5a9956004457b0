"""Errors a user causes print one short message with the fix from a real ``kedro run``, not
a traceback; ``MEDALLION_TRACEBACK=1`` shows the traceback (``errors.py``, ``cli.run``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.io.core import DatasetError

from medallion_kedro.datasets.delta_table import DeltaTableDataset
from medallion_kedro.errors import TRACEBACK_VARIABLE, expected_error
from medallion_kedro.lake import LakeLockedError, lake_at
from medallion_kedro.pipelines.bronze.nodes import SourceLayoutError
from tests import handmade as hm
from tests.kedro_run import PROJECT_ROOT
from tests.servers import S3Server, free_port
from tests.test_lake_lock import held_elsewhere

pytestmark = pytest.mark.slow

#: Most lines an expected error may print, from Kedro's log of the failure to the end
#: (that log, Kedro's resume hint, the run's last record and our message).
SHORT = 15


def _kedro_run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != TRACEBACK_VARIABLE}
    environ.update({"KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "200", **env})
    return subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args], cwd=PROJECT_ROOT, env=environ,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _assert_short(done: subprocess.CompletedProcess[str], fix: str) -> None:
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if " ERROR " in line or "Error: " in line)
    assert len(lines) - first <= SHORT, "\n".join(lines[first:])
    assert re.search(fix, lines[-2]) and lines[-2].startswith("Error: "), lines[-2]
    assert f"{TRACEBACK_VARIABLE}=1" in lines[-1]


def test_a_bad_landing_header(tmp_path: Path) -> None:
    customers = hm.CUSTOMERS_CSV.replace("name,", "nom,", 1)
    hm.write_landing(tmp_path, customers=customers)
    done = _kedro_run("--pipelines", "bronze", LAKE_PATH=str(tmp_path))
    _assert_short(done, r"customers.csv has no column \['name'\].*column_map")


def test_a_gate_refusal(tmp_path: Path) -> None:
    rows = [f"{i},1,2026-10-01 10:00:00,{amount},laptop" for i, amount in enumerate("xyz")]
    hm.write_landing(tmp_path, orders=hm.csv_text("orders", rows))
    done = _kedro_run(LAKE_PATH=str(tmp_path))
    _assert_short(done, r"were rejected, above silver.max_reject_share.*raise")


def test_mixed_silver_and_the_traceback_on_request(tmp_path: Path) -> None:
    hm.write_landing(tmp_path)
    built = _kedro_run("--pipelines", "bronze,silver", LAKE_PATH=str(tmp_path))
    assert built.returncode == 0, built.stderr[-3000:]
    orders = DeltaTableDataset(filepath=str(tmp_path / "silver" / "orders"))
    orders.save(orders.load().collect().head(2))  # one silver table rewritten alone
    done = _kedro_run("--pipelines", "gold", LAKE_PATH=str(tmp_path))
    _assert_short(done, r"different runs .*kedro run --pipeline")
    verbose = _kedro_run(
        "--pipelines", "gold", LAKE_PATH=str(tmp_path), **{TRACEBACK_VARIABLE: "1"}
    )
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr
    assert "LakeMixedError" in verbose.stderr


def test_a_lake_lock_held(tmp_path: Path) -> None:
    hm.write_landing(tmp_path)
    with held_elsewhere(lake_at(str(tmp_path))):
        done = _kedro_run("--pipelines", "bronze", LAKE_PATH=str(tmp_path))
    _assert_short(done, r"locked by run run-a .*LAKE_LOCK")


def test_a_missing_bucket(s3: S3Server) -> None:
    done = _kedro_run("--env", "minio", "--pipelines", "bronze", **s3.env("no-such-bucket"))
    _assert_short(done, r"bucket 'no-such-bucket' does not exist at http.*create it")


def test_an_unreachable_s3_endpoint() -> None:
    dead = S3Server(port=free_port())  # nothing listens there
    done = _kedro_run("--env", "minio", "--pipelines", "bronze", **dead.env("lake"))
    _assert_short(done, r"Cannot reach the S3 endpoint .*start MinIO")


def test_only_errors_a_user_causes_are_shortened() -> None:
    """A layout error is found through the errors it caused; a bug keeps its traceback."""
    layout = SourceLayoutError("Landing file x.csv has no column ['name']")
    try:
        try:
            raise layout
        except SourceLayoutError as exc:
            raise DatasetError("Failed while loading data") from exc
    except DatasetError as wrapped:
        assert expected_error(wrapped) is layout
    assert expected_error(ValueError("a bug")) is None
    assert expected_error(LakeLockedError("held")) is not None
