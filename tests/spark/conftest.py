"""One Spark session (``local[2]``) and one small lake built on polars for every Spark test
module: a session costs 20 s or more to start, and the lake (generated data with dirt,
bronze, silver and gold) is what each module compares Spark with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from medallion_kedro.project_catalog import config_loader
from medallion_kedro.spark import configure, spark_session
from tests.kedro_run import PROJECT_ROOT, kedro_run

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PARAMS = {"n_orders": 6_000, "n_customers": 600, "dirty_share": 0.05, "seed": 11, "batches": 2}


def _test_settings() -> dict[str, str]:
    """The ``spark`` environment's own settings (conf/spark/spark.yml: its connectors from
    the Ivy cache setup fills, Delta), on ``local[2]`` with two shuffle partitions."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_MASTER", "local[2]")
        patch.setenv("SPARK_SHUFFLE_PARTITIONS", "2")
        conf = config_loader(PROJECT_ROOT, "spark")["spark"]
    return {str(key): str(value) for key, value in conf.items()}


TEST_SPARK = _test_settings()


@pytest.fixture(scope="package")
def spark() -> Iterator[SparkSession]:
    configure(TEST_SPARK)
    session = spark_session()
    yield session
    session.stop()


@pytest.fixture(scope="package")
def polars_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake built on polars from generated data with 5 % dirt, in two batches per table:
    the first through bronze and silver, then the second through bronze, incremental silver
    (its corrections supersede rows of the first) and gold."""
    root = tmp_path_factory.mktemp("lake")
    held = tmp_path_factory.mktemp("second_batch")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKE_PATH", str(root))
        kedro_run(["generate"], params=PARAMS)
        second = [sorted((root / "landing" / t).glob("*.csv"))[-1] for t in ("customers", "orders")]
        for file in second:
            file.rename(held / f"{file.parent.name}-{file.name}")
        kedro_run(["bronze", "silver"], params=PARAMS)
        for file in second:
            (held / f"{file.parent.name}-{file.name}").rename(file)
        kedro_run(["bronze", "silver", "gold"], params=PARAMS)
    return root
