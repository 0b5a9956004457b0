"""`kedro run --env minio` against moto's standalone S3 server over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest
import s3fs
from deltalake import DeltaTable

from medallion_kedro.lake import delta_storage_options, read_table
from tests import handmade as hm
from tests.fault_run import fault_run, paused_run
from tests.kedro_run import kedro_run
from tests.servers import S3Server, free_port, wait_for_port

PARAMS = {"n_customers": 200, "n_orders": 3000, "dirty_share": 0.1, "seed": 11}
GOLD = ("revenue_by_country", "revenue_by_product", "monthly_revenue", "customer_metrics", "kpis")


def _client(s3: S3Server):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id=s3.key,
        aws_secret_access_key=s3.secret,
        region_name="us-east-1",
    )


@pytest.fixture
def bucket(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"lake-{uuid.uuid4().hex[:8]}"
    _client(s3).create_bucket(Bucket=name)
    for key, value in s3.env(name).items():
        monkeypatch.setenv(key, value)
    yield name


def test_minio_env_builds_the_same_gold_as_local(
    bucket: str, s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kedro_run(["generate"], env="minio", params=PARAMS)
    kedro_run(["bronze", "silver", "gold"], env="minio", params=PARAMS)

    keys = {o["Key"] for o in _client(s3).list_objects_v2(Bucket=bucket)["Contents"]}
    published = s3_record(s3, bucket)["tables"]
    assert {"landing/customers.csv", "landing/orders.csv", "_lake.json"} <= keys
    assert all(e["format"] == "delta" for e in published.values())
    for key, entry in published.items():  # each named version's log entry is on S3
        folder = key.replace(".", "/", 1)
        assert f"{folder}/_delta_log/{entry['version']:020d}.json" in keys, key
    expected = {
        "bronze.orders",
        "silver.orders",
        "quality.reconciliation",
        "quality.rejected_orders",
    }
    assert expected | {f"gold.{t}" for t in GOLD} <= set(published)
    assert "_lock.json" not in keys  # released after the run

    monkeypatch.setenv("LAKE_PATH", str(tmp_path / "lake"))
    kedro_run(["generate"], params=PARAMS)
    kedro_run(["bronze", "silver", "gold"], params=PARAMS)

    for table in GOLD:
        remote = s3_table(s3, bucket, f"gold.{table}")
        local = read_table(str(tmp_path / "lake"), "gold", table)
        assert remote.height > 0
        assert remote.equals(local), table


#: Append-only run history beside the tables: kept on purpose, never a table version.
RUN_HISTORY = ("quality/runs/", "quality/node_runs/")


def s3_record(s3: S3Server, bucket: str) -> dict[str, Any]:
    fs = s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True)
    return dict(json.loads(fs.cat_file(f"{bucket}/_lake.json")))


def s3_table(s3: S3Server, bucket: str, key: str) -> pl.DataFrame:
    layer, table = key.split(".", 1)
    return read_table(f"s3://{bucket}", layer, table, s3.credentials())


def s3_latest(s3: S3Server, bucket: str, key: str) -> int:
    """The newest Delta version of a table on S3, named by the record or not."""
    uri = f"s3://{bucket}/{key.replace('.', '/', 1)}"
    return int(DeltaTable(uri, storage_options=delta_storage_options(s3.credentials())).version())


def test_kill_between_bronze_saves_on_s3_publishes_no_bronze(bucket: str, s3: S3Server) -> None:
    kedro_run(["generate"], env="minio", params=PARAMS)
    kedro_run(["bronze", "silver", "gold"], env="minio")
    before = s3_record(s3, bucket)
    kpis = s3_table(s3, bucket, "gold.kpis")
    kedro_run(["generate"], env="minio", params={**PARAMS, "n_customers": 100, "seed": 3})

    run = fault_run(s3.env(bucket), "--env", "minio", "--pipelines", "bronze",
                    "--kill-after", "bronze.orders")  # fmt: skip

    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    assert s3_record(s3, bucket) == before
    # the dead run's lock object is taken over and its version restored; in a process of
    # its own: delta-rs' restore holds the GIL, which would block this process's S3 server
    rerun = fault_run(s3.env(bucket), "--env", "minio", "--pipelines", "silver,gold")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = s3_record(s3, bucket)["tables"]
    for key in ("bronze.customers", "bronze.orders"):
        assert after[key]["run_id"] == before["tables"][key]["run_id"]
        assert after[key]["batch_ids"] == before["tables"][key]["batch_ids"]
        # the killed run's Delta version was undone: the latest is the one named
        assert s3_latest(s3, bucket, key) == after[key]["version"], key
    assert s3_table(s3, bucket, "gold.kpis").equals(kpis)
    keys = {o["Key"] for o in _client(s3).list_objects_v2(Bucket=bucket)["Contents"]}
    states = sorted(k.split(".")[-2] for k in keys if k.startswith("quality/runs/"))
    # cleanup keeps the run history: five runs started, the killed one was found and marked
    assert states.count("running") == 5 and states.count("killed") == 1, states
    assert "_lock.json" not in keys


def test_second_run_on_s3_fails_cleanly_while_the_lake_is_locked(bucket: str, s3: S3Server) -> None:
    kedro_run(["generate"], env="minio", params=PARAMS)
    env = s3.env(bucket)
    with paused_run(env, "--env", "minio", "--pipelines", "bronze",
                    "--pause-after", "bronze.customers") as first:  # fmt: skip
        with pytest.raises(Exception, match=rf"is locked by run \S+ \(pid {first.pid} on"):
            kedro_run(["bronze", "silver", "gold"], env="minio")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    kedro_run(["bronze", "silver", "gold"], env="minio")
    assert (
        s3_table(s3, bucket, "gold.kpis")["total_orders"][0]
        == s3_table(s3, bucket, "silver.orders").height
    )


def test_missing_bucket_is_named(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in s3.env("no-such-bucket").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(Exception, match=r"bucket 'no-such-bucket' does not exist at http"):
        kedro_run(["bronze"], env="minio")


def test_unreachable_endpoint_says_what_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    dead = S3Server(port=free_port())  # nothing listens there
    for key, value in dead.env("lake").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(Exception, match=r"Cannot reach the S3 endpoint .*start MinIO"):
        kedro_run(["bronze"], env="minio")


def test_missing_credentials_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.setenv("LAKE_BUCKET", "lake")
    with pytest.raises(Exception, match="AWS_ACCESS_KEY_ID"):
        kedro_run(["bronze"], env="minio")


@pytest.fixture
def strict_s3() -> Iterator[S3Server]:
    """A moto server that checks access keys (none is valid: IAM is empty)."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield S3Server(port=port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_wrong_credentials_are_reported(
    strict_s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in strict_s3.env("lake").items():
        monkeypatch.setenv(key, value)
    with pytest.raises(Exception, match=r"refused the access key .*AWS_SECRET_ACCESS_KEY"):
        kedro_run(["bronze"], env="minio")


def test_batches_on_s3_are_ingested_once_and_merged(bucket: str, s3: S3Server) -> None:
    client = _client(s3)
    client.put_object(Bucket=bucket, Key="landing/customers/c1.csv",
                      Body=hm.csv_text("customers", ["1,Ann,ann@example.com,2024-01-01,France"])
                      .encode())  # fmt: skip
    first = [f"{i},1,2026-10-01 10:00:00,10.00,laptop" for i in range(1, 5)]
    client.put_object(Bucket=bucket, Key="landing/orders/o1.csv",
                      Body=hm.csv_text("orders", first).encode())  # fmt: skip
    kedro_run(["bronze", "silver", "gold"], env="minio", params={"as_of": "2026-11-01"})
    # a correction and a new order; the first file dropped again under another name
    second = ["2,1,2026-10-01 10:00:00,20.00,laptop", "5,1,2026-10-02 10:00:00,5.00,mouse"]
    client.put_object(Bucket=bucket, Key="landing/orders/o2.csv",
                      Body=hm.csv_text("orders", second).encode())  # fmt: skip
    client.put_object(Bucket=bucket, Key="landing/orders/o1-again.csv",
                      Body=hm.csv_text("orders", first).encode())  # fmt: skip
    kedro_run(["bronze", "silver", "gold"], env="minio", params={"as_of": "2026-11-01"})

    bronze = s3_table(s3, bucket, "bronze.orders")
    assert sorted(set(bronze["_source_file"])) == ["o1.csv", "o2.csv"] and bronze.height == 6
    orders = s3_table(s3, bucket, "silver.orders").sort("order_id")
    assert [(r[0], str(r[1])) for r in orders.select("order_id", "amount").rows()] == [
        (1, "10.00"), (2, "20.00"), (3, "10.00"), (4, "10.00"), (5, "5.00"),
    ]  # fmt: skip
    report = {r["table"]: r for r in s3_table(s3, bucket, "quality.reconciliation").iter_rows(
        named=True)}  # fmt: skip
    assert report["orders"]["balanced"] and report["orders"]["duplicates_removed"] == 1
