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
    "quality.batch_reconciliation",
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


def _reconcile(lake: dict[str, pl.DataFrame], frame: Any, countries: pl.DataFrame) -> Any:
    """``reconcile`` of the lake's first run, every table given through ``frame``."""
    return nodes.reconcile(
        *(
            frame(lake[f"first.{key}"])
            for table in TABLES
            for key in (
                f"bronze.{table}",
                f"silver.{table}",
                f"quality.rejected_{table}",
                f"warnings.{table}",
            )
        ),
        countries,
        {**_rules(), "max_reject_share": 1},
    )


def test_reconciliation_on_spark_equals_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    countries = nodes.match_countries(lake["first.bronze.customers"], _rules())
    on_polars = _reconcile(lake, lambda t: t, countries)
    plans = _record_spark_plans(monkeypatch)
    on_spark = _reconcile(lake, lambda t: _spark(spark, t), countries)
    report = on_polars[4]
    assert report.filter(pl.col("table") == "orders")["rejected_rows"].item() > 0
    assert report["warning_rows"].sum() > 0  # the dirt was really counted
    assert on_spark[4].equals(report)
    assert isinstance(on_spark[5], DataFrame)  # warnings stay on Spark
    assert frames.collect(on_spark[5]).equals(on_polars[5])
    assert len(plans) >= 10
    for plan in plans:
        assert single_partition_funnels(plan) == [], plan


def test_the_reject_share_check_names_the_same_causes_on_spark(
    spark: SparkSession, lake: dict[str, pl.DataFrame]
) -> None:
    row = {"table": "orders", "bronze_rows": 100, "rejected_rows": 50}
    rejected = lake["quality.rejected_orders"]
    messages = []
    for frame in (rejected, _spark(spark, rejected)):
        with pytest.raises(nodes.RejectShareError) as caught:
            nodes._check_reject_share(row, frame, 0.1)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "Main reasons: " in messages[0] and " x 'invalid" in messages[0]


def test_country_matches_on_spark_equal_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame]
) -> None:
    customers = lake["bronze.customers"]
    on_polars = nodes.match_countries(customers, _rules())
    assert on_polars["how"].n_unique() >= 3  # exact, fuzzy or alias, unknown
    assert nodes.match_countries(_spark(spark, customers), _rules()).equals(on_polars)


def test_batch_counts_and_known_customers_on_spark_equal_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = _record_spark_plans(monkeypatch)
    bronze, rejected = lake["bronze.orders"], lake["quality.rejected_orders"]
    on_polars = incremental._per_batch(bronze, rejected, "orders", NOW)
    published = lake["quality.batch_reconciliation"].filter(pl.col("table") == "orders")
    published = published.sort("applied_at")
    assert on_polars.height == 2  # the two batches, applied by two runs
    assert on_polars.drop("applied_at").equals(published.drop("applied_at"))
    assert on_polars["duplicates_removed"].sum() > 0
    on_spark = incremental._per_batch(_spark(spark, bronze), _spark(spark, rejected), "orders", NOW)
    assert on_spark.equals(on_polars)
    silver = lake["silver.customers"]
    new = silver.head(5).with_columns(pl.col("customer_id") + 10**9)
    on_polars = incremental.known_customers(silver, new).sort("customer_id")
    assert on_polars.height == silver.height + 5
    on_spark = incremental.known_customers(_spark(spark, silver), _spark(spark, new))
    assert isinstance(on_spark, DataFrame)  # the keys stay on Spark for the orphan join
    assert frames.collect(on_spark).sort("customer_id").equals(on_polars)
    for plan in plans:
        assert single_partition_funnels(plan) == [], plan


def test_pending_batches_on_spark_equal_polars(
    spark: SparkSession, lake: dict[str, pl.DataFrame]
) -> None:
    ledger, applied = lake["bronze.batches"], lake["quality.batch_reconciliation"]
    bronze = [lake[f"bronze.{t}"] for t in TABLES]
    on_spark = [_spark(spark, f) for f in bronze]
    none: dict[str, list[str]] = {"customers": [], "orders": []}
    assert incremental.pending_batches(ledger, applied, *bronze) == none
    assert (
        incremental.pending_batches(_spark(spark, ledger), _spark(spark, applied), *on_spark)
        == none
    )
    # Bronze of an older release (no ledger): the batch ids of its rows in ingestion order.
    nothing = pl.LazyFrame()
    legacy = incremental.pending_batches(nothing, nothing, *bronze)
    ids = {
        t: lake[f"bronze.{t}"].sort("_ingested_at")["_batch_id"].unique(maintain_order=True)
        for t in TABLES
    }
    ids = {t: batch_ids.to_list() for t, batch_ids in ids.items()}
    assert legacy == ids and len(ids["orders"]) == 2
    assert incremental.pending_batches(nothing, nothing, *on_spark) == legacy


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
