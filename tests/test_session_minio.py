"""`kedro run --env minio` against moto's standalone S3 server over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import polars as pl
import pytest
import s3fs

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
    expected = {
        "landing/customers.csv",
        "landing/orders.csv",
        "bronze/orders.parquet",
        "silver/orders.parquet",
        "quality/reconciliation.parquet",
        "quality/rejected_orders.parquet",
        *(f"gold/{t}.parquet" for t in GOLD),
    }
    assert expected <= keys

    monkeypatch.setenv("LAKE_PATH", str(tmp_path / "lake"))
    kedro_run(["generate"], params=PARAMS)
    kedro_run(["bronze", "silver", "gold"], params=PARAMS)

    fs = s3fs.S3FileSystem(**s3.credentials())
    for table in GOLD:
        with fs.open(f"{bucket}/gold/{table}.parquet", "rb") as f:
            remote = pl.read_parquet(f)
        local = pl.read_parquet(tmp_path / "lake" / "gold" / f"{table}.parquet")
        assert remote.height > 0
        assert remote.equals(local), table


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
