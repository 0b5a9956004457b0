"""The ``spark`` environment: gold on Spark equals gold on polars; silver is read exactly
as the lake's commit record publishes it; no step funnels every row through one partition.

The Spark session and the polars lake are the package's (``conftest.py``); skipped without
PySpark or Java.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import narwhals as nw
import polars as pl
import pytest

from tests.spark import skip_without_spark

skip_without_spark()

from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from medallion_kedro import frames  # noqa: E402
from medallion_kedro.datasets import SparkLakeTableDataset  # noqa: E402
from medallion_kedro.lake import read_table  # noqa: E402
from medallion_kedro.pipelines.gold import rfm  # noqa: E402
from medallion_kedro.spark import SparkHooks, configure  # noqa: E402
from medallion_kedro.spark import session as session_module  # noqa: E402
from tests.kedro_run import kedro_run  # noqa: E402
from tests.spark.conftest import PARAMS, TEST_SPARK  # noqa: E402


def _gold(lake: Path) -> dict[str, tuple[str, pl.DataFrame]]:
    """Each published gold table: the version the commit record names, and its rows."""
    record = json.loads((lake / "_lake.json").read_text())["tables"]
    return {
        key: (json.dumps(entry, sort_keys=True), read_table(str(lake), *key.split(".", 1)))
        for key, entry in record.items()
        if key.startswith("gold.")
    }


def test_gold_from_the_spark_environment_equals_gold_from_polars(
    spark: SparkSession,
    polars_lake: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAKE_PATH", str(polars_lake))
    on_polars = _gold(polars_lake)
    plans = _record_spark_plans(monkeypatch)
    monkeypatch.setenv("SPARK_MASTER", "local[2]")  # conf/spark/spark.yml reads these
    monkeypatch.setenv("SPARK_SHUFFLE_PARTITIONS", "2")
    # silver is unchanged since polars built gold: recompute gold from every silver row
    kedro_run(["gold"], env="spark", params={**PARAMS, "gold_max_change_share": 0})
    on_spark = _gold(polars_lake)
    assert on_spark.keys() == on_polars.keys() and len(on_spark) == 6
    for key, (file, frame) in on_spark.items():
        assert file != on_polars[key][0], f"{key} was not rebuilt on Spark"
        assert frame.schema == on_polars[key][1].schema, key
        assert frame.equals(on_polars[key][1]), key
    metrics = on_spark["gold.customer_metrics"][1]
    assert metrics["segment"].n_unique() >= 5  # the scores were really exercised
    # Every query gold ran on Spark (7 or more: the tables read from silver; the others sum
    # gold.customer_metrics, a polars table) spreads its rows over the partitions.
    assert len(plans) >= 7
    for plan in plans:
        assert single_partition_funnels(plan) == [], plan


def test_the_hook_reads_spark_yml_and_says_what_runs_where(
    caplog: pytest.LogCaptureFixture,
) -> None:
    silver = {"type": "medallion_kedro.datasets.SparkLakeTableDataset",
              "filepath": "/lake/silver/orders"}  # fmt: skip
    config = {"spark": {"spark.master": "local[1]"}, "catalog": {"silver.orders": silver}}
    context = SimpleNamespace(config_loader=config)
    with caplog.at_level(logging.INFO, logger=session_module.log.name):
        SparkHooks().after_context_created(context)  # type: ignore[arg-type]
    assert "master local[1]" in caplog.text
    assert "the silver tables load as Spark DataFrames" in caplog.text
    assert "no Delta Lake support" in caplog.text  # this one sets no spark.sql.extensions
    assert session_module._conf == {"spark.master": "local[1]"}
    configure(TEST_SPARK)


def test_spark_reads_exactly_the_delta_version_the_record_names(
    spark: SparkSession, tmp_path: Path
) -> None:
    from deltalake import DeltaTable, write_deltalake

    folder = tmp_path / "silver" / "orders"
    rows = pl.DataFrame({"id": [1, 2, 3], "amount": [10, 20, 30]}).to_arrow()
    write_deltalake(str(folder), rows)  # version 0
    changes = pl.DataFrame({"id": [2, 4], "amount": [21, 40]}).to_arrow()
    (
        DeltaTable(str(folder))
        .merge(changes, "t.id = s.id", source_alias="s", target_alias="t")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )  # version 1 rewrites the file holding id 2
    record = {"tables": {"silver.orders": {"format": "delta", "version": 1}}, "previous": {}}
    (tmp_path / "_lake.json").write_text(json.dumps(record))
    dataset = SparkLakeTableDataset(filepath=str(folder))
    got = sorted((r.id, r.amount) for r in dataset.load().collect())
    assert got == [(1, 10), (2, 21), (3, 30), (4, 40)]
    assert dataset.preview()  # Kedro-Viz's preview reads with polars
    # The fault this avoids: the table folder holds the replaced file of version 0 too.
    assert spark.read.parquet(str(folder)).count() > len(got)
    record["tables"]["silver.orders"]["version"] = 0
    (tmp_path / "_lake.json").write_text(json.dumps(record))
    assert sorted(r.id for r in dataset.load().collect()) == [1, 2, 3]


def single_partition_funnels(plan: str) -> list[str]:
    """The ``Exchange SinglePartition`` of a physical plan that carry every row: those whose
    input is not a partial aggregate (one row per partition, as a global count has)."""
    lines = plan.splitlines()
    funnels = []
    for i, line in enumerate(lines):
        if "Exchange SinglePartition" in line:
            child = lines[i + 1] if i + 1 < len(lines) else ""
            if "Aggregate" not in child or "partial_" not in child:
                funnels.append(line.strip())
    return funnels


def _plan(frame: DataFrame) -> str:
    return str(frame._jdf.queryExecution().executedPlan().toString())


def _record_spark_plans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The physical plans of the Spark queries that narwhals collects from now on."""
    plans: list[str] = []
    collect = nw.LazyFrame.collect

    def recording(self: nw.LazyFrame[Any], *args: Any, **kwargs: Any) -> Any:
        native = self.to_native()
        if isinstance(native, DataFrame):  # the scores run on the collected polars table
            plans.append(_plan(native))
        return collect(self, *args, **kwargs)

    monkeypatch.setattr(nw.LazyFrame, "collect", recording)
    return plans


def test_rfm_scores_on_spark_need_no_global_rank(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rfm.score`` on a Spark frame: same scores as on polars, no funnel in its plans."""
    rows = [(c, 1 + c * c % 7, c * c % 11 * 10 + 5, c % 400) for c in range(1, 200)]
    schema = {"customer_id": pl.Int64, "order_count": pl.Int64, "total_spent": pl.Decimal(18, 2)}
    metrics = pl.DataFrame(
        rows, schema={**schema, "recency_days": pl.Int64}, orient="row"
    ).with_columns(
        pl.when(pl.col("customer_id") % 9 == 0)
        .then(0)
        .otherwise("order_count")
        .alias("order_count")
    )
    on_polars = frames.collect(rfm.score(nw.from_native(metrics).lazy(), 90))
    plans = _record_spark_plans(monkeypatch)
    on_spark = frames.collect(
        rfm.score(nw.from_native(spark.createDataFrame(metrics.to_arrow())), 90)
    )
    assert on_spark.sort("customer_id").equals(on_polars.sort("customer_id"))
    assert on_polars["rfm_score"].n_unique() >= 10
    assert len(plans) == 3  # two histograms, then the scores
    for plan in plans:
        assert single_partition_funnels(plan) == [], plan


def test_the_plan_check_finds_the_global_rank_funnel(spark: SparkSession) -> None:
    """The rank-based quintile (the definition) puts every row through one partition."""
    values = nw.from_native(spark.range(100).selectExpr("id % 13 as v"))
    ranked = values.select(rfm.quintile(nw.col("v"))).to_native()
    assert len(single_partition_funnels(_plan(ranked))) == 1
