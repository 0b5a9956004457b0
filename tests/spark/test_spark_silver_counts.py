"""Bronze typing and the silver counts written once: on Spark frames they give what they give
on polars, and their Spark queries spread rows over partitions.

The tables come from the package's small lake built on polars (``conftest.py``, generated
data with dirt); each is handed to Spark through Arrow, in the package's Spark session.
Skipped without PySpark or Java.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from tests.spark import skip_without_spark

skip_without_spark()

from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from medallion_kedro import frames  # noqa: E402
from medallion_kedro.frames import ROW_NUMBER  # noqa: E402
from medallion_kedro.lake import read_table  # noqa: E402
from medallion_kedro.pipelines.bronze.ledger import live_batches  # noqa: E402
from medallion_kedro.pipelines.silver import incremental, nodes  # noqa: E402
from medallion_kedro.schemas import DUPLICATE_REASON, KEYS, REASON, TABLES  # noqa: E402
from tests.kedro_run import PROJECT_ROOT  # noqa: E402
from tests.spark.test_spark_gold import (  # noqa: E402
    _record_spark_plans,
    single_partition_funnels,
)

NOW = dt.datetime(2026, 11, 28, 12)
LAKE_TABLES = (
    "bronze.customers",
    "bronze.orders",
    "bronze.batches",
    "silver.customers",
    "silver.orders",
    "quality.rejected_customers",
    "quality.rejected_orders",
    "quality.warnings",
    "quality.waiting_orders",
    "quality.batch_reconciliation",
    "quality.reconciliation",
)


@pytest.fixture(scope="module")
def lake(polars_lake: Path) -> dict[str, pl.DataFrame]:
    """The bronze, silver and quality tables of the package's polars lake; and, under
    ``first.``, what its first run (the first batch of each table) gave: silver's first
    Delta version, the bronze rows, quarantine and warnings of that batch."""
    tables = {key: read_table(str(polars_lake), *key.split(".", 1)) for key in LAKE_TABLES}
    ledger = tables["bronze.batches"].sort("ingested_at", "source_file")
    for table in TABLES:
        batch = ledger.filter(pl.col("table") == table)["batch_id"][0]
        tables[f"first.silver.{table}"] = read_table(str(polars_lake), "silver", table, version=0)
        for key in (f"bronze.{table}", f"quality.rejected_{table}"):
            tables[f"first.{key}"] = tables[key].filter(pl.col("_batch_id") == batch)
        warnings = tables["quality.warnings"].filter(pl.col("table") == table)
        tables[f"first.warnings.{table}"] = warnings.filter(pl.col("batch_id") == batch)
    return tables


def _spark(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    return spark.createDataFrame(frame.to_arrow())


def _rules() -> dict[str, Any]:
    text = (Path(PROJECT_ROOT) / "conf/base/parameters_silver.yml").read_text()
    return dict(yaml.safe_load(text)["silver"])


def _plan(lake: dict[str, pl.DataFrame], table: str) -> incremental.Plan:
    """Every live batch of ``table``, none of them new (the gate is left out)."""
    live = live_batches(lake["bronze.batches"], pl.LazyFrame())[table]
    return incremental.Plan(table, tuple(live), (), full=False)


def _counts(lake: dict[str, pl.DataFrame], frame: Any, table: str) -> dict[str, pl.DataFrame]:
    """``count_table`` of the lake's ``table``, every table given through ``frame``."""
    waiting = {"waiting": frame(lake["quality.waiting_orders"])} if table == "orders" else {}
    return nodes.count_table(
        _plan(lake, table),
        frame(lake[f"bronze.{table}"]),
        frame(lake[f"silver.{table}"]),
        frame(lake[f"quality.rejected_{table}"]),
        frame(lake["quality.warnings"]),
        _rules(),
        **waiting,
    )


def test_counts_on_spark_equal_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = _record_spark_plans(monkeypatch)
    for table in TABLES:
        on_polars = _counts(lake, lambda t: t, table)
        on_spark = _counts(lake, lambda t: _spark(spark, t), table)
        assert on_polars["counts"]["balanced"].item()
        assert on_spark["counts"].equals(on_polars["counts"])
        assert on_spark["batches"].equals(on_polars["batches"])
    report = _counts(lake, lambda t: t, "orders")["counts"]
    assert report["rejected_rows"].item() > 0  # the dirt was really counted
    assert len(plans) >= 4
    for plan in plans:
        assert single_partition_funnels(plan) == [], plan


def test_the_reject_share_check_names_the_same_causes_on_spark(
    spark: SparkSession, lake: dict[str, pl.DataFrame]
) -> None:
    rejected = lake["quality.rejected_orders"]
    batch = rejected["_batch_id"][0]
    causes = [nodes._top_reasons(f, batch) for f in (rejected, _spark(spark, rejected))]
    assert causes[0] == causes[1]
    assert " x 'invalid" in causes[0]


def test_country_matches_on_spark_equal_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame]
) -> None:
    customers = lake["bronze.customers"]
    on_polars = nodes.match_countries(customers, _rules())
    assert on_polars["how"].n_unique() >= 3  # exact, fuzzy or alias, unknown
    assert nodes.match_countries(_spark(spark, customers), _rules()).equals(on_polars)


def test_known_customers_on_spark_equal_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = _record_spark_plans(monkeypatch)
    silver = lake["silver.customers"]
    on_polars = incremental.known_customers(silver).sort("customer_id")
    assert on_polars.height == silver.height
    on_spark = incremental.known_customers(_spark(spark, silver))
    assert isinstance(on_spark, DataFrame)  # the keys stay on Spark for the orphan join
    assert frames.collect(on_spark).sort("customer_id").equals(on_polars)
    for plan in plans:
        assert single_partition_funnels(plan) == [], plan


def test_the_plan_on_spark_equals_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame]
) -> None:
    ledger, applied = lake["bronze.batches"], lake["quality.batch_reconciliation"]
    counted = lake["quality.reconciliation"]
    bronze = [lake[f"bronze.{t}"] for t in TABLES]
    on_polars = incremental.plan_batches(ledger, pl.LazyFrame(), applied, counted, *bronze)
    assert not any(p.new or p.full for p in on_polars.values())  # the lake is up to date
    on_spark = incremental.plan_batches(
        _spark(spark, ledger), pl.LazyFrame(), _spark(spark, applied), _spark(spark, counted),
        *(_spark(spark, f) for f in bronze),
    )  # fmt: skip
    assert on_spark == on_polars


def test_duplicate_losers_on_spark_equal_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last ingested row wins on both engines, by the lineage columns: the rows given
    in another physical order lose the same way as the rows polars flags in bronze order."""
    bronze = lake["bronze.orders"].sort(nodes.LINEAGE)
    flagged = nodes.flag_orders(bronze, lake["silver.customers"], _rules(), as_of=NOW.date())
    duplicate = pl.col(REASON) == DUPLICATE_REASON
    lineage = bronze.with_row_index(ROW_NUMBER).select(ROW_NUMBER, *nodes.LINEAGE)
    flagged = flagged.join(lineage, on=ROW_NUMBER).with_columns(
        pl.col(REASON).cast(pl.String), pl.col(ROW_NUMBER).cast(pl.Int64)
    )
    expected = flagged.filter(duplicate).select(nodes.LINEAGE).sort(nodes.LINEAGE)
    assert expected.height > 0  # the dirt has repeated keys, and the fault below is seen
    unflagged = flagged.with_columns(pl.when(~duplicate).then(pl.col(REASON)).alias(REASON))
    shuffled = unflagged.sample(fraction=1, shuffle=True, seed=3)
    key = nodes._typed(KEYS["orders"])
    on_polars = frames.collect(nodes.duplicate_losers(shuffled, key)).sort(nodes.LINEAGE)
    assert on_polars.equals(expected)
    # The fault of ordering the other way (the first row wins) changes the losers.
    reversed_order = shuffled.with_columns(-pl.col(ROW_NUMBER).cast(pl.Int64).alias("_back"))
    first_wins = frames.collect(nodes.duplicate_losers(reversed_order, key, ("_back",)))
    losers = set(flagged.filter(duplicate)[ROW_NUMBER].cast(pl.Int64))
    assert first_wins.height == len(losers)
    assert set((-first_wins["_back"]).to_list()) != losers
    plans = _record_spark_plans(monkeypatch)
    on_spark = frames.collect(nodes.duplicate_losers(_spark(spark, shuffled), key))
    assert on_spark.schema["_ingested_at"] == pl.Datetime("us", "UTC")  # Spark's timestamps
    assert on_spark.cast(dict(expected.schema)).sort(nodes.LINEAGE).equals(expected)
    assert plans
    for plan in plans:
        assert single_partition_funnels(plan) == [], plan
