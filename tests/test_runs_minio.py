"""Run history and lineage events on an S3 lake (`--env minio` against moto's S3 server)."""

from __future__ import annotations

import io
import json
import uuid

import boto3
import polars as pl
import pytest

from medallion_kedro.lake import read_table
from medallion_kedro.runs import latest
from tests.kedro_run import kedro_run
from tests.servers import S3Server

pytestmark = pytest.mark.slow


def test_runs_and_lineage_are_written_to_the_bucket(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"runs-{uuid.uuid4().hex[:8]}"
    client = boto3.client(
        "s3", endpoint_url=s3.endpoint_url, aws_access_key_id=s3.key,
        aws_secret_access_key=s3.secret, region_name="us-east-1",
    )  # fmt: skip
    client.create_bucket(Bucket=bucket)
    for key, value in s3.env(bucket).items():
        monkeypatch.setenv(key, value)
    kedro_run(["generate", "bronze"], env="minio", params={"n_customers": 100, "n_orders": 500})

    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]

    def read(prefix: str) -> pl.DataFrame:
        return pl.concat(
            pl.read_parquet(io.BytesIO(client.get_object(Bucket=bucket, Key=k)["Body"].read()))
            for k in keys
            if k.startswith(prefix)
        )

    run = latest(read("quality/runs/")).row(0, named=True)
    assert run["status"] == "succeeded" and run["env"] == "minio"
    nodes = read(f"quality/node_runs/{run['run_id']}")
    bronze = nodes.filter(pl.col("node") == "publish_bronze")["outputs"].item()
    published = read_table(f"s3://{bucket}", "bronze", "customers", s3.credentials())
    assert {d["dataset"]: d["rows"] for d in bronze}["bronze.customers"] == published.height

    # one object per run, its events one a line
    objects = [k for k in keys if k.startswith("_lineage/events-")]
    assert len(objects) == 1 and objects[0].endswith(".jsonl"), objects
    body = client.get_object(Bucket=bucket, Key=objects[0])["Body"].read().decode()
    events = [json.loads(line) for line in body.splitlines()]
    assert len(events) == 2 + 2 * nodes.height  # the run's START and COMPLETE, each node's
    mine = [e for e in events if e["run"]["runId"] == run["run_id"]]
    assert sorted(e["eventType"] for e in mine) == ["COMPLETE", "START"]
    complete = next(e for e in mine if e["eventType"] == "COMPLETE")
    assert {d["namespace"] for d in complete["outputs"]} == {f"s3://{bucket}"}
    assert {d["name"] for d in complete["outputs"]} >= {"landing/orders", "bronze/orders"}
