"""``kedro run --env spark`` end to end: the lake it builds equals the default polars run's,
table by table; and how ``SparkLakeTableDataset`` saves Spark DataFrames.

The Spark session is the package's (``conftest.py``); skipped without PySpark or Java.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest

from tests.spark import skip_without_spark

skip_without_spark()

from deltalake import DeltaTable  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from medallion_kedro.datasets import (  # noqa: E402
    DeltaTableDataset,
    SparkCheckpointDataset,
    SparkLakeTableDataset,
    _spark_delta,
)
from medallion_kedro.datasets import spark_lake as spark_lake_module  # noqa: E402
from medallion_kedro.lake import read_table  # noqa: E402
from medallion_kedro.lake.changes import KeyedChanges  # noqa: E402
from medallion_kedro.pipelines.silver.nothing_new import nothing_new  # noqa: E402
from medallion_kedro.project_catalog import build_catalog  # noqa: E402
from medallion_kedro.schemas import SILVER  # noqa: E402
from tests.kedro_run import PROJECT_ROOT, kedro_run  # noqa: E402
from tests.servers import S3Server  # noqa: E402
from tests.spark.test_spark_gold import _plan, single_partition_funnels  # noqa: E402
from tests.test_incremental_equals_rebuild import assert_same_lake, snapshot  # noqa: E402

RUN = {"n_orders": 3_000, "n_customers": 300, "dirty_share": 0.05, "seed": 23, "batches": 2}
#: Columns that hold when a run happened, not what it computed.
RUN_TIME = {"_ingested_at", "ingested_at", "applied_at"}


def _record(lake: Path) -> dict[str, Any]:
    return dict(json.loads((lake / "_lake.json").read_text())["tables"])


def _rows(lake: Path, key: str) -> pl.DataFrame:
    frame = read_table(str(lake), *key.split(".", 1))
    frame = frame.drop([c for c in frame.columns if c in RUN_TIME])
    return frame.sort(frame.columns, nulls_last=True)


def _spark(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    return spark.createDataFrame(frame.to_arrow())


def _orders(keys: list[int], tag: str, batch: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "k": keys,
            "v": [f"{tag}{k}" for k in keys],
            "amount": [Decimal(k) / 100 for k in keys],
            "at": [dt.datetime(2026, 1, 1) + dt.timedelta(hours=k) for k in keys],
            "_batch_id": [batch] * len(keys),
        },
        schema={
            "k": pl.Int64,
            "v": pl.String,
            "amount": pl.Decimal(18, 2),
            "at": pl.Datetime("us"),
            "_batch_id": pl.String,
        },  # fmt: skip
    )


# -- SparkLakeTableDataset: Spark's own Delta reader and writer ---------------------------


@pytest.fixture
def no_rows_to_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a test that brings a frame's rows to the driver as Arrow or pandas."""

    def refused(self: DataFrame, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a lake write brought a table's rows to the driver")

    monkeypatch.setattr(DataFrame, "toArrow", refused)
    monkeypatch.setattr(DataFrame, "toPandas", refused)


def _operations(folder: Path) -> list[tuple[str, str]]:
    """(operation, engine) of each Delta version, oldest first."""
    history = reversed(DeltaTable(str(folder)).history())
    return [(h["operation"], str(h.get("engineInfo", "")).split("/")[0]) for h in history]


def test_spark_frames_merge_append_and_overwrite_natively(
    spark: SparkSession, tmp_path: Path, no_rows_to_the_driver: None
) -> None:
    lake = tmp_path / "lake"
    merged = SparkLakeTableDataset(
        filepath=str(lake / "silver" / "t"),
        save_args={"mode": "merge", "keys": ["k"], "compression": "lz4"},
    )
    first = _orders([1, 2, 3], "a", "b1")
    merged.save(_spark(spark, first))  # no table yet: written whole
    merged.save(_spark(spark, _orders([3, 4], "b", "b2")))
    expected = pl.concat([first.filter(pl.col("k") < 3), _orders([3, 4], "b", "b2")])
    assert read_table(str(lake), "silver", "t").sort("k").equals(expected)  # types kept
    entry = _record(lake)["silver.t"]
    assert entry["rows"] == 4 and entry["batch_ids"] == ["b1", "b2"]
    assert entry["merge"] == {
        "num_source_rows": 2, "num_target_rows_inserted": 1, "num_target_rows_updated": 1,
    }  # fmt: skip
    assert _operations(lake / "silver" / "t") == [
        ("WRITE", "Apache-Spark"), ("MERGE", "Apache-Spark"),
    ]  # fmt: skip
    loaded = merged.load()
    assert isinstance(loaded, DataFrame)
    assert sorted(r["k"] for r in loaded.collect()) == [1, 2, 3, 4]
    with pytest.raises(Exception, match="repeat keys"):
        merged.save(_spark(spark, _orders([5, 5], "c", "b3")))
    assert _record(lake)["silver.t"]["version"] == entry["version"]

    appended = SparkLakeTableDataset(filepath=str(lake / "quality" / "a"),
                                     save_args={"mode": "append"})  # fmt: skip
    appended.save(first)  # polars: delta-rs, then Spark appends to the same table
    appended.save(_spark(spark, first))
    assert read_table(str(lake), "quality", "a").equals(pl.concat([first, first]))
    assert _record(lake)["quality.a"]["rows"] == 6
    assert _operations(lake / "quality" / "a")[-1] == ("WRITE", "Apache-Spark")

    replaced = SparkLakeTableDataset(filepath=str(lake / "quality" / "o"))
    replaced.save(_spark(spark, first))
    replaced.save(_spark(spark, first.head(1).drop("v")))
    assert read_table(str(lake), "quality", "o").equals(first.head(1).drop("v"))


def test_keyed_changes_from_spark_give_the_polars_datasets_table(
    spark: SparkSession, tmp_path: Path, no_rows_to_the_driver: None
) -> None:
    """The same changes, handed to the polars dataset and to the Spark one: rows replace or
    add their key, keys without a row are deleted, the other rows stay."""
    steps = [
        (_orders([1, 2, 3, 4], "a", "b1"), [1, 2, 3, 4]),
        (_orders([2, 5], "b", "b2"), [1, 2, 5]),  # 1 deleted, 2 replaced, 5 added
        (_orders([], "c", "b3"), [3, 9]),  # 3 deleted; 9 is in no table
    ]
    save_args = {"mode": "merge", "keys": ["k"]}
    on_polars = DeltaTableDataset(filepath=str(tmp_path / "p" / "silver" / "t"),
                                  save_args=save_args)  # fmt: skip
    on_spark = SparkLakeTableDataset(filepath=str(tmp_path / "s" / "silver" / "t"),
                                     save_args=save_args)  # fmt: skip
    for rows, keys in steps:
        key_frame = pl.DataFrame({"k": keys}, schema={"k": pl.Int64})
        on_polars.save(KeyedChanges(rows, key_frame))
        on_spark.save(KeyedChanges(_spark(spark, rows), _spark(spark, key_frame)))
        expected = read_table(str(tmp_path / "p"), "silver", "t").sort("k")
        assert read_table(str(tmp_path / "s"), "silver", "t").sort("k").equals(expected)
        assert _record(tmp_path / "s")["silver.t"]["rows"] == expected.height
    assert read_table(str(tmp_path / "s"), "silver", "t")["k"].sort().to_list() == [2, 4, 5]
    assert [op for op, _ in _operations(tmp_path / "s" / "silver" / "t")] == [
        "WRITE", "MERGE", "MERGE",
    ]  # fmt: skip
    assert _record(tmp_path / "s")["silver.t"]["merge"]["num_target_rows_deleted"] == 1
    repeated = KeyedChanges(_spark(spark, _orders([7, 7], "d", "b4")),
                            _spark(spark, pl.DataFrame({"k": [7]})))  # fmt: skip
    with pytest.raises(Exception, match="repeat keys"):
        on_spark.save(repeated)


def test_a_session_without_delta_is_refused_with_what_to_set(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = SparkLakeTableDataset(filepath=str(tmp_path / "lake" / "silver" / "t"))
    dataset.save(_orders([1], "a", "b1"))  # polars: delta-rs
    monkeypatch.setattr(spark_lake_module, "session_has_delta", lambda session: False)
    with pytest.raises(Exception, match="no Delta Lake support.*spark.jars.packages"):
        dataset.load()
    with pytest.raises(Exception, match="no Delta Lake support"):
        dataset.save(_spark(spark, _orders([2], "b", "b2")))


def test_a_missing_table_reads_as_no_rows_with_its_contract_columns(
    spark: SparkSession, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    path = str(lake / "silver" / "orders")
    empty = SparkLakeTableDataset(filepath=path, load_args={"missing": "empty"}).load()
    assert isinstance(empty, DataFrame) and empty.count() == 0
    assert empty.columns == list(SILVER["orders"])
    assert (
        dict(empty.dtypes)["order_id"] == "bigint"
        and dict(empty.dtypes)["amount"] == "decimal(18,2)"
    )
    other = SparkLakeTableDataset(
        filepath=str(lake / "bronze" / "t"), load_args={"missing": "empty"}
    )
    assert other.load().columns == []  # no contract: no columns
    with pytest.raises(Exception, match="no published version"):
        SparkLakeTableDataset(filepath=path).load()


def test_a_checkpointed_frame_is_computed_once_when_saved(
    spark: SparkSession, tmp_path: Path
) -> None:
    source = tmp_path / "rows.parquet"
    _orders([1, 2, 3], "a", "b1").write_parquet(source)
    frame = spark.read.parquet(str(source)).filter("k > 1")
    dataset = SparkCheckpointDataset()
    dataset.save(frame)
    source.unlink()  # a plan would have to read it again; computed rows do not
    assert sorted(r["k"] for r in dataset.load().collect()) == [2, 3]
    assert dataset.load().count() == 2
    plain = {"not": "a frame"}
    dataset.save(plain)
    assert dataset.load() == plain


# -- kedro run --env spark, end to end -----------------------------------------------------


def _record_write_plans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The physical plans of the frames Spark writes to the lake from now on."""
    plans: list[str] = []
    write, apply_changes = _spark_delta.write, _spark_delta.apply_changes

    def recording_write(frame: DataFrame, *args: Any, **kwargs: Any) -> Any:
        plans.append(_plan(frame))
        return write(frame, *args, **kwargs)

    def recording_changes(rows: DataFrame, keys: DataFrame, *args: Any, **kwargs: Any) -> Any:
        plans.extend((_plan(rows), _plan(keys)))
        return apply_changes(rows, keys, *args, **kwargs)

    monkeypatch.setattr(_spark_delta, "write", recording_write)
    monkeypatch.setattr(_spark_delta, "apply_changes", recording_changes)
    return plans


def _build(lake: Path, batches: list[list[Path]], env: str | None) -> None:
    """Land each batch of files in ``lake`` and run the pipelines on it, as an hourly
    schedule would: bronze and silver for the first, then bronze, silver and gold."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKE_PATH", str(lake))
        patch.setenv("SPARK_MASTER", "local[2]")  # conf/spark/spark.yml reads these
        patch.setenv("SPARK_SHUFFLE_PARTITIONS", "2")
        for number, files in enumerate(batches):
            for file in files:
                target = lake / "landing" / file.parent.name
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target / file.name)
            last = number == len(batches) - 1
            kedro_run(["bronze", "silver", *(["gold"] if last else [])], env=env, params=RUN)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> list[list[Path]]:
    """Generated landing files with 5 % dirt, two batches per table."""
    root = tmp_path_factory.mktemp("generated")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKE_PATH", str(root))
        kedro_run(["generate"], params=RUN)
    files = {t: sorted((root / "landing" / t).glob("*.csv")) for t in ("customers", "orders")}
    assert all(len(f) == 2 for f in files.values())
    return [[files["customers"][n], files["orders"][n]] for n in (0, 1)]


@pytest.mark.timeout(900)  # two lakes built end to end, one of them on Spark
def test_kedro_run_env_spark_builds_the_same_lake_as_polars(
    spark: SparkSession,
    landing: list[list[Path]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on_polars, on_spark = tmp_path / "polars", tmp_path / "spark"
    _build(on_polars, landing, env=None)
    saved: Counter[tuple[str, str]] = Counter()
    loaded: Counter[tuple[str, str]] = Counter()
    save, load = SparkLakeTableDataset.save, SparkLakeTableDataset.load

    def counting_save(self: SparkLakeTableDataset, data: Any) -> None:
        frame = data.rows if isinstance(data, KeyedChanges) else data
        saved[self.key, type(frame).__module__.split(".")[0]] += 1
        save(self, data)

    def counting_load(self: SparkLakeTableDataset) -> Any:
        frame = load(self)
        loaded[self.key, type(frame).__module__.split(".")[0]] += 1
        return frame

    monkeypatch.setattr(SparkLakeTableDataset, "save", counting_save)
    monkeypatch.setattr(SparkLakeTableDataset, "load", counting_load)
    written = _record_write_plans(monkeypatch)
    _build(on_spark, landing, env="spark")
    # Run again with nothing new: the one line, as on polars (no node runs).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKE_PATH", str(on_spark))
        patch.setenv("SPARK_MASTER", "local[*]")
        line = nothing_new(build_catalog("spark"))
    assert line is not None and line.startswith("Nothing new: every landing file"), line
    # Every Spark write ran on the executors: no plan funnels every row into one partition.
    assert len(written) >= 10, written
    for plan in written:
        assert single_partition_funnels(plan) == [], plan

    # The tables after bronze were read by Spark (silver's nodes read bronze and silver's
    # previous.silver_* on Spark, gold read silver on Spark), and silver's tables were
    # written from Spark frames. (Keyed by table: previous.silver_* are silver.* too.)
    assert loaded[("silver.orders", "pyspark")] >= 3, loaded
    assert loaded[("bronze.orders", "pyspark")] >= 2, loaded
    for key in ("silver.customers", "silver.orders", "quality.rejected_customers",
                "quality.rejected_orders", "quality.warnings"):  # fmt: skip
        assert saved[(key, "pyspark")] == 2, (key, saved)

    tables = _record(on_polars)
    assert tables.keys() == _record(on_spark).keys()
    expected = {"bronze.orders", "silver.orders", "quality.rejected_orders", "quality.warnings",
                "quality.reconciliation", "quality.batch_reconciliation",
                "gold.customer_metrics", "gold.kpis"}  # fmt: skip
    assert expected <= tables.keys()
    for key in sorted(tables):
        polars_rows, spark_rows = _rows(on_polars, key), _rows(on_spark, key)
        assert spark_rows.schema == polars_rows.schema, key
        assert spark_rows.equals(polars_rows), key
    # The second batch really corrected earlier rows, and the dirt reached quarantine.
    counts = _rows(on_spark, "quality.reconciliation")
    assert counts.filter(pl.col("table") == "orders")["duplicates_removed"].item() > 0
    # and the two runs on Spark built what one run over every file builds
    rebuilt = tmp_path / "rebuilt"
    _build(rebuilt, [[f for files in landing for f in files]], env=None)
    assert_same_lake(snapshot(on_spark), snapshot(rebuilt))
    reasons = _rows(on_spark, "quality.rejected_orders")["reason"]
    assert reasons.n_unique() >= 4


#: One process lands each batch on S3 and builds the lake on Spark, run after run, as
#: `kedro run --env spark` would (a session with the S3 connector is a JVM of its own: the
#: tests' session has none). argv[1]: [[[[local file, key], ...], "pipelines"] per run, params].
_S3_BUILD = """
import json, os, sys
import boto3
from tests.kedro_run import kedro_run
client = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name="us-east-1")
runs, params = json.loads(sys.argv[1])
for files, pipelines in runs:
    for file, key in files:
        client.upload_file(file, os.environ["LAKE_BUCKET"], key)
    kedro_run(pipelines.split(","), env="spark", params=params)
"""


@pytest.mark.timeout(900)  # two lakes built end to end, one of them on Spark
def test_kedro_run_env_spark_on_s3_builds_the_same_lake_as_polars(
    landing: list[list[Path]],
    s3: S3Server,
    tmp_path: Path,
) -> None:
    """``LAKE_PATH=s3://bucket kedro run --env spark`` against the S3 server, through s3a,
    from the same landing files as a local polars lake: the same published tables."""
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3.endpoint_url, aws_access_key_id=s3.key,
                          aws_secret_access_key=s3.secret, region_name="us-east-1")  # fmt: skip
    client.create_bucket(Bucket=bucket)
    env = {**os.environ, **s3.env(bucket), "LAKE_PATH": f"s3://{bucket}",
           "SPARK_MASTER": "local[2]", "SPARK_SHUFFLE_PARTITIONS": "2"}  # fmt: skip
    runs = [
        [[[str(f), f"landing/{f.parent.name}/{f.name}"] for f in files], pipelines]
        for files, pipelines in zip(landing, ["bronze,silver", "bronze,silver,gold"], strict=True)
    ]  # the second batch lands after the first run: an incremental merge
    build = [sys.executable, "-c", _S3_BUILD, json.dumps([runs, RUN])]
    subprocess.run(build, env=env, cwd=PROJECT_ROOT, check=True)

    on_polars = tmp_path / "polars"
    _build(on_polars, landing, env=None)
    credentials = s3.credentials()
    on_s3 = json.loads(client.get_object(Bucket=bucket, Key="_lake.json")["Body"].read())["tables"]
    assert on_s3.keys() == _record(on_polars).keys()
    log = client.list_objects_v2(Bucket=bucket, Prefix="silver/orders/_delta_log/")["Contents"]
    engines = {
        json.loads(line)["commitInfo"].get("engineInfo", "").split("/")[0]
        for entry in log
        if entry["Key"].endswith(".json")
        for line in client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].iter_lines()
        if b'"commitInfo"' in line
    }
    assert "Apache-Spark" in engines, engines  # silver was written by Spark, on S3
    for key in sorted(on_s3):
        frame = read_table(f"s3://{bucket}", *key.split(".", 1), credentials=credentials)
        # when a landing file was written (bronze.batches): its upload to S3, its local copy
        landed = [c for c in frame.columns if c in RUN_TIME or c == "modified"]
        frame = frame.drop(landed)
        spark_rows = frame.sort(frame.columns, nulls_last=True)
        polars_rows = _rows(on_polars, key).drop(landed, strict=False)
        assert spark_rows.schema == polars_rows.schema, key
        assert spark_rows.equals(polars_rows), key
