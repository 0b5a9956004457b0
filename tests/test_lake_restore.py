"""Only published data is read, and the lake is restored whole: time travel through the
published history, gold's sources, outside Delta readers after a killed run, and the
restore and rollback commands followed as a user would type them."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import s3fs
from deltalake import DeltaTable

from medallion_kedro.lake import delta_storage_options, read_table
from tests.fault_run import fault_run
from tests.kedro_run import (
    BATCH_A,
    BATCH_B,
    LAKEHOUSE,
    PROJECT_ROOT,
    kedro_run,
    lake_built_from_batch_a,
)
from tests.servers import MongoServer, S3Server

pytestmark = pytest.mark.slow


def record(lake: Path) -> dict[str, Any]:
    return dict(json.loads((lake / "_lake.json").read_text()))


def kedro(lake: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    """``kedro ARGS`` typed in the project folder, on the lake at ``lake`` (else the one
    the environment names)."""
    where = {"LAKE_PATH": str(lake)} if lake is not None else {}
    return subprocess.run(
        [sys.executable, "-m", "kedro", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **where, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def built_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lake_built_from_batch_a(tmp_path_factory.mktemp("restore") / "lake")


@pytest.fixture
def lake(
    built_lake: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mongo: MongoServer,
    mongo_db_name: str,
) -> Path:
    """A copy of the lake built from batch A; a plain `kedro run` exports to ``mongo``."""
    copy = tmp_path / "lake"
    shutil.copytree(built_lake, copy)
    monkeypatch.setenv("LAKE_PATH", str(copy))
    monkeypatch.setenv("MONGO_URI", mongo.uri)
    monkeypatch.setenv("MONGO_DB", mongo_db_name)
    return copy


def killed_silver(lake: Path) -> int:
    """Land batch B and run bronze and silver, killed right after silver.orders is saved:
    silver.orders gets a Delta version no commit names. Returns that version."""
    kedro_run(["generate"], params=BATCH_B)
    run = fault_run({}, "--pipelines", "bronze,silver", "--kill-after", "silver.orders")
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    latest = int(DeltaTable(str(lake / "silver" / "orders")).version())
    assert latest != record(lake)["tables"]["silver.orders"]["version"]
    return latest


def test_time_travel_never_reads_a_killed_runs_version(lake: Path) -> None:
    published = read_table(str(lake), "silver", "orders")
    gold_before = read_table(str(lake), "gold", "kpis")
    killed = killed_silver(lake)
    after_kill = dt.datetime.now(dt.UTC).isoformat()

    shown = ok(kedro(lake, "lake", "show", "silver.orders", "--as-of", after_kill))
    assert f"silver.orders: {published.height} rows" in shown
    assert "silver.orders: published Delta version" in shown

    refused = kedro(lake, "lake", "show", "silver.orders", "--version", str(killed))
    assert refused.returncode != 0
    assert f"Version {killed} of silver.orders was never published" in refused.stderr

    # gold rebuilt from silver as published at that time: the same gold as before
    built = ok(kedro(lake, "run", "--pipelines", "gold", "--params", f"silver_as_of={after_kill}"))
    assert re.search(r"reading silver\.orders at Delta version \d+, the version published", built)
    assert read_table(str(lake), "gold", "kpis").equals(gold_before)


def test_a_time_before_the_first_published_version_is_an_error(lake: Path) -> None:
    early = kedro(lake, "lake", "show", "silver.orders", "--as-of", "2000-01-01T00:00:00")
    assert early.returncode != 0
    assert "is before the first published version of silver.orders" in early.stderr


def test_gold_sources_name_the_versions_it_was_built_from(lake: Path) -> None:
    kedro_run(["generate"], params=BATCH_B)
    kedro_run(LAKEHOUSE)  # a combined incremental run: silver written and read by gold
    tables = record(lake)["tables"]
    for key in ("silver.orders", "silver.customers", "quality.reconciliation"):
        assert tables["gold.kpis"]["sources"][key] == tables[key]["version"], key

    kedro_run(["gold"])  # gold alone, from the published silver
    tables = record(lake)["tables"]
    assert tables["gold.kpis"]["sources"]["silver.orders"] == tables["silver.orders"]["version"]


def test_an_outside_delta_reader_sees_published_data_after_a_killed_run(lake: Path) -> None:
    published = read_table(str(lake), "silver", "orders")
    killed_silver(lake)

    ok(kedro(lake, "lake", "show", "gold.kpis"))  # any command puts the tables back

    outside = pl.from_arrow(DeltaTable(str(lake / "silver" / "orders")).to_pyarrow_table())
    assert isinstance(outside, pl.DataFrame)
    assert outside.sort("order_id").equals(published.sort("order_id"))
    for key, entry in record(lake)["tables"].items():
        folder = lake / key.replace(".", "/", 1)
        assert DeltaTable(str(folder)).version() == entry["version"], key


def test_the_restore_example_ends_in_a_lake_kedro_run_builds(lake: Path) -> None:
    """The README's lines, typed as a user would, each printed command followed."""
    kedro_run(["generate"], params=BATCH_B)
    kedro_run(LAKEHOUSE)
    built = read_table(str(lake), "silver", "orders")
    time.sleep(0.01)

    history = ok(kedro(lake, "lake", "history", "silver.orders"))
    assert re.search(r"^\s*version\s+written \(UTC\)\s+operation", history, re.M)
    refused = kedro(lake, "lake", "restore", "silver.orders", "--version", "0")
    assert refused.returncode != 0
    command = re.search(r"`(kedro lake restore --run (\S+))`", refused.stderr)
    assert command is not None, refused.stderr
    commits = ok(kedro(lake, "lake", "history"))  # the lake's commits name that run
    assert re.search(rf"^{command.group(2)}\s+\S+\s+run\s+.*silver\.orders v0", commits, re.M)
    restored = ok(kedro(lake, *command.group(1).split()[1:]))
    assert "in one commit" in restored
    assert read_table(str(lake), "silver", "orders").height != built.height  # batch A only
    tables = record(lake)["tables"]
    assert len({tables[k]["run_id"] for k in tables if k.startswith("silver.")}) == 1

    ok(kedro(lake, "run"))  # the printed advice: the next run ingests batch B again

    rebuilt = read_table(str(lake), "silver", "orders")
    assert rebuilt.sort("order_id").equals(built.sort("order_id"))
    assert read_table(str(lake), "quality", "reconciliation")["balanced"].all()


def test_kedro_lake_rollback_undoes_the_last_run(lake: Path) -> None:
    before = read_table(str(lake), "gold", "kpis")
    kedro_run(["generate"], params=BATCH_B)
    kedro_run(LAKEHOUSE)
    assert not read_table(str(lake), "gold", "kpis").equals(before)

    ok(kedro(lake, "lake", "rollback"))

    assert read_table(str(lake), "gold", "kpis").equals(before)
    ok(kedro(lake, "run"))  # and the lake builds again
    assert read_table(str(lake), "quality", "reconciliation")["balanced"].all()


def test_rollback_and_restore_on_s3(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same commands on the S3 lake (`--env minio`), each in a process of its own:
    delta-rs' restore holds the GIL, which would block this process's S3 server."""
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True).mkdir(bucket)
    for key, value in s3.env(bucket).items():
        monkeypatch.setenv(key, value)
    uri = f"s3://{bucket}"

    def gold() -> pl.DataFrame:
        return read_table(uri, "gold", "kpis", s3.credentials())

    kedro_run(["generate"], env="minio", params=BATCH_A)
    kedro_run(LAKEHOUSE, env="minio")
    first, first_run = gold(), record_s3(s3, bucket)["tables"]["gold.kpis"]["run_id"]
    kedro_run(["generate"], env="minio", params=BATCH_B)
    kedro_run(LAKEHOUSE, env="minio")
    second = gold()
    assert not second.equals(first)

    ok(kedro(None, "lake", "rollback", "--env", "minio"))
    assert gold().equals(first)
    ok(kedro(None, "lake", "restore", "--run", first_run, "--env", "minio"))
    assert gold().equals(first)
    for key, entry in record_s3(s3, bucket)["tables"].items():
        table = DeltaTable(f"{uri}/{key.replace('.', '/', 1)}",
                           storage_options=delta_storage_options(s3.credentials()))  # fmt: skip
        assert table.version() == entry["version"], key


def record_s3(s3: S3Server, bucket: str) -> dict[str, Any]:
    fs = s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True)
    return dict(json.loads(fs.cat_file(f"{bucket}/_lake.json")))
