"""The ``spark`` environment's catalog and the choice between Spark's own Delta I/O and the
offline path, without starting Spark (the Spark runs are in ``tests/spark/``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from medallion_kedro import settings
from medallion_kedro.datasets import SparkLakeTableDataset
from medallion_kedro.datasets import spark_lake as spark_lake_module
from medallion_kedro.datasets.spark_lake import s3a_settings
from medallion_kedro.lake import delta_storage_options
from medallion_kedro.settings import CONFIG_LOADER_ARGS
from medallion_kedro.spark.session import (
    DELTA_EXTENSION,
    S3_PACKAGES,
    describe,
    has_delta,
    session_settings,
    spark_layers,
)

CONF = Path(__file__).resolve().parents[2] / "conf"


def _entries(env: str) -> dict[str, Any]:
    raw = yaml.safe_load((CONF / env / "catalog.yml").read_text())
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def test_the_spark_catalog_keeps_base_entries_but_their_type() -> None:
    """Kedro replaces an entry whole: each spark entry must repeat base's arguments."""
    base, spark = _entries("base"), _entries("spark")
    assert {"silver.orders", "quality.{table}"} <= set(spark)
    for name, entry in spark.items():
        if entry["type"] == "medallion_kedro.datasets.SparkCheckpointDataset":
            assert name not in base and "." not in name, f"{name} is a lake table"
            continue
        if name not in base:  # a previous.* table that base's "previous.{table}" gives
            assert name.startswith("previous.") and "previous.{table}" in base, name
            assert entry["load_args"] == base["previous.{table}"]["load_args"], name
            continue
        assert entry["type"] == "medallion_kedro.datasets.SparkLakeTableDataset", name
        assert {k: v for k, v in entry.items() if k != "type"} == {
            k: v for k, v in base[name].items() if k != "type"
        }, f"{name}: conf/spark/catalog.yml differs from base in more than its type"


def test_the_spark_catalog_gives_spark_every_table_silver_reads_or_writes() -> None:
    spark = _entries("spark")
    silver = yaml.safe_load((CONF / "base" / "catalog.yml").read_text())
    quality = [k for k in silver if k.startswith("quality.") and "{" not in k]
    quality = [k for k in quality if k not in ("quality.runs", "quality.node_runs")]
    assert set(quality) <= set(spark), "a quality table silver writes keeps the polars dataset"
    # silver compares its new rows with what silver held: both on one engine
    previous = {"previous.silver_{table}", "previous.rejected_{table}",
                "previous.waiting_orders", "previous.warnings"}  # fmt: skip
    assert previous <= set(spark) if "bronze.{table}" in spark else not previous & set(spark)
    assert not [k for k in spark if k.startswith(("gold.", "landing."))]


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [
        (None, False),
        ("", False),
        ("org.example.Other", False),
        (DELTA_EXTENSION, True),
        (f"org.example.Other, {DELTA_EXTENSION}", True),
        (f"{DELTA_EXTENSION}Extra", False),
    ],
)
def test_delta_is_detected_from_the_session_extensions(
    extensions: str | None, expected: bool
) -> None:
    conf = {"spark.master": "local[2]", "spark.sql.extensions": extensions}
    assert has_delta(conf) is expected


def test_the_start_up_line_says_what_runs_where() -> None:
    offline = describe({"spark.master": "local[2]"}, ["silver", "bronze", "silver"])
    assert "master local[2]" in offline
    assert "the bronze and silver tables load as Spark DataFrames" in offline
    assert "no Delta Lake support" in offline and "conf/spark/spark.yml" in offline
    native = describe({"spark.master": "yarn", "spark.sql.extensions": DELTA_EXTENSION}, [])
    assert "every node runs on polars" in native
    assert "from the executors" in native and "no Delta" not in native


def test_the_s3_connector_joins_the_packages_only_for_a_lake_on_s3() -> None:
    conf = {"spark.master": "local[2]",
            "spark.jars.packages": "io.delta:delta-spark_4.2_2.13:4.4.0",
            S3_PACKAGES: "org.apache.hadoop:hadoop-aws:3.5.0"}  # fmt: skip
    local = session_settings(conf)
    assert local == {k: v for k, v in conf.items() if k != S3_PACKAGES}
    on_s3 = session_settings(conf, s3=True)
    assert on_s3["spark.jars.packages"] == (
        "io.delta:delta-spark_4.2_2.13:4.4.0,org.apache.hadoop:hadoop-aws:3.5.0"
    )
    assert S3_PACKAGES not in on_s3  # not a Spark setting
    assert session_settings({S3_PACKAGES: "a:b:1"}, s3=True)["spark.jars.packages"] == "a:b:1"


def test_the_spark_yml_pins_the_connectors_of_the_installed_pyspark() -> None:
    """delta-spark's artifact names the Spark minor version, hadoop-aws the Hadoop one."""
    spark = yaml.safe_load((CONF / "spark" / "spark.yml").read_text())
    delta = spark["spark.jars.packages"]
    assert (
        delta.startswith("io.delta:delta-spark_")
        and spark["spark.sql.extensions"] == DELTA_EXTENSION
    )
    assert spark[S3_PACKAGES].startswith("org.apache.hadoop:hadoop-aws:")
    assert "spark.jars.ivy" in spark
    pyproject = (CONF.parent / "pyproject.toml").read_text()
    pyspark = re.search(r'"pyspark==(\d+\.\d+)\.\d+"', pyproject)
    assert pyspark is not None, "pin pyspark exactly in the spark extra"
    assert delta.split(":")[1] == f"delta-spark_{pyspark.group(1)}_2.13"
    delta_python = re.search(r'"delta-spark==([\d.]+)"', pyproject)
    assert delta_python is not None and delta.split(":")[2] == delta_python.group(1)


def test_s3a_settings_come_from_the_lake_credentials_for_its_bucket_only() -> None:
    options = delta_storage_options(
        {"key": "AK", "secret": "SK", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}}
    )
    settings = s3a_settings("s3a://lake-1/prefix/silver/orders", options)
    assert settings == {
        "fs.s3a.bucket.lake-1.access.key": "AK",
        "fs.s3a.bucket.lake-1.secret.key": "SK",
        "fs.s3a.bucket.lake-1.endpoint": "http://127.0.0.1:9000",
        "fs.s3a.bucket.lake-1.endpoint.region": "us-east-1",
        "fs.s3a.bucket.lake-1.path.style.access": "true",
        "fs.s3a.bucket.lake-1.connection.ssl.enabled": "false",
        "fs.s3a.bucket.lake-1.aws.credentials.provider":
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
    }  # fmt: skip
    assert s3a_settings("/local/lake/silver/orders", {}) == {}


def test_the_start_up_line_names_the_layers_the_spark_catalog_loads_on_spark() -> None:
    loader = settings.CONFIG_LOADER_CLASS(str(CONF), env="spark", **CONFIG_LOADER_ARGS)  # type: ignore[arg-type]
    layers = spark_layers(loader["catalog"])
    spark = _entries("spark")
    assert layers == {v["filepath"].split("/")[-2] for v in spark.values() if "filepath" in v}
    assert "silver" in layers and "gold" not in layers and "landing" not in layers
    assert spark_layers(_entries("base")) == set()


def test_polars_frames_are_saved_without_spark(tmp_path: Path, monkeypatch: Any) -> None:
    """The bronze stage saves polars frames: no JVM may start for them."""

    def no_spark() -> None:
        raise AssertionError("a polars save started Spark")

    monkeypatch.setattr(spark_lake_module, "spark_session", no_spark)
    ds = SparkLakeTableDataset(filepath=str(tmp_path / "lake" / "bronze" / "t"))
    frame = pl.DataFrame({"k": [1, 2], "v": ["a", "b"]})
    ds.save(frame)
    assert ds.preview(5)["data"] == [[1, "a"], [2, "b"]]


def test_every_computed_once_pattern_names_datasets_of_the_pipelines() -> None:
    """A renamed intermediate would silently lose its checkpoint on Spark."""
    from medallion_kedro.pipelines.gold import create_pipeline as gold
    from medallion_kedro.pipelines.silver import create_pipeline as silver

    names = set().union(*((p.all_inputs() | p.all_outputs()) for p in (silver(), gold())))
    once = [
        name
        for name, entry in _entries("spark").items()
        if entry["type"] == "medallion_kedro.datasets.SparkCheckpointDataset"
    ]
    assert len(once) >= 4
    for pattern in once:
        regex = re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(pattern)) + "$")
        assert [n for n in names if regex.match(n) and "." not in n], pattern


def test_the_spark_environment_resolves_its_datasets_without_starting_spark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building the catalog (`kedro run`, `kedro viz`) must not start a JVM."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from medallion_kedro.spark import session as session_module

    def no_spark() -> None:
        raise AssertionError("building the catalog started Spark")

    monkeypatch.setattr(session_module, "spark_session", no_spark)
    monkeypatch.setattr(spark_lake_module, "spark_session", no_spark)
    root = CONF.parent
    bootstrap_project(root)
    with KedroSession.create(project_path=root, env="spark") as session:
        catalog = session.load_context().catalog
        kinds = {
            name: type(catalog.get(name)).__name__
            for name in ("bronze.orders", "previous.silver_orders", "quality.warnings",
                         "flagged_orders", "valid_orders", "bronze.batches", "gold.kpis")
        }  # fmt: skip
    assert kinds == {
        "bronze.orders": "SparkLakeTableDataset",
        "previous.silver_orders": "SparkLakeTableDataset",
        "quality.warnings": "SparkLakeTableDataset",
        "flagged_orders": "SparkCheckpointDataset",
        "valid_orders": "SparkCheckpointDataset",
        "bronze.batches": "DeltaTableDataset",
        "gold.kpis": "DeltaTableDataset",
    }
