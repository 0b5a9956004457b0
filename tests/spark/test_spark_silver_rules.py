"""Silver's row rules written once: typing, checks, deduplication, quarantine with excerpts
and warnings give on Spark frames exactly what they give on polars, and their Spark
queries spread rows over partitions.

The bronze tables come from the package's small lake built on polars (``conftest.py``,
generated data with dirt, two batches per table); each is handed to Spark through Arrow,
its rows shuffled, in the package's Spark session. Skipped without PySpark or Java.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl
import pytest
import yaml

from tests.spark import skip_without_spark

skip_without_spark()

from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from medallion_kedro import frames, parsing  # noqa: E402
from medallion_kedro.frames import ROW_NUMBER  # noqa: E402
from medallion_kedro.lake import read_table  # noqa: E402
from medallion_kedro.pipelines.silver import incremental, nodes  # noqa: E402
from medallion_kedro.pipelines.silver import rules as r  # noqa: E402
from medallion_kedro.schemas import DUPLICATE_REASON, KEYS, REASON, TABLES  # noqa: E402
from tests.kedro_run import PROJECT_ROOT  # noqa: E402
from tests.spark.test_spark_gold import (  # noqa: E402
    _plan,
    _record_spark_plans,
    single_partition_funnels,
)

AS_OF = dt.date(2026, 11, 28)


def _rules() -> dict[str, Any]:
    text = (Path(PROJECT_ROOT) / "conf/base/parameters_silver.yml").read_text()
    return dict(yaml.safe_load(text)["silver"])


def _spark(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    return spark.createDataFrame(frame.to_arrow())


def _polars(frame: Any, like: pl.Schema | None = None) -> pl.DataFrame:
    """A node's output as a polars frame; Spark's time-zone-aware lineage times back to the
    naive ones of ``like``."""
    out = frames.collect(frame)
    if like is not None:
        out = out.cast({c: t for c, t in like.items() if c in out.columns})
    return out


def _silver_run(bronze: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    """The silver nodes of one run over every batch of ``bronze``, as the pipeline wires
    them (outputs on the engine of ``bronze``)."""
    batches = {
        t: tuple(
            frames.collect(frames.lazy(bronze[t]).select("_batch_id").unique())
            .get_column("_batch_id")
            .sort()
        )
        for t in TABLES
    }
    whole = {t: incremental.Scope(incremental.Plan(t, batches[t], batches[t], full=True),
                                  pl.DataFrame()) for t in TABLES}  # fmt: skip
    new = {t: incremental.candidate_rows(bronze[t], whole[t]) for t in TABLES}
    out: dict[str, Any] = {"new": new}
    countries = nodes.match_countries(new["customers"], rules)
    out["flagged.customers"] = nodes.flag_customers(new["customers"], countries, rules)
    split = nodes.split_flagged(out["flagged.customers"], new["customers"], "customers", rules)
    out["silver.customers"], out["rejected.customers"], out["warnings.customers"] = split
    known = incremental.known_customers(out["silver.customers"])
    out["flagged.orders"] = nodes.flag_orders(new["orders"], known, rules, AS_OF)
    split = nodes.split_flagged(out["flagged.orders"], new["orders"], "orders", rules)
    out["silver.orders"], out["rejected.orders"], out["warnings.orders"] = split
    out["countries"] = countries
    return out


@pytest.fixture(scope="module")
def bronze(polars_lake: Path) -> dict[str, pl.DataFrame]:
    """Both batches of the lake's bronze tables (their corrections repeat earlier keys)."""
    return {t: read_table(str(polars_lake), "bronze", t) for t in TABLES}


@pytest.fixture(scope="module")
def runs(spark: SparkSession, bronze: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """The silver nodes on polars (bronze in ingestion order) and on Spark (the same rows,
    shuffled), with the physical plan of every Spark query they ran or returned."""
    rules = _rules()
    on_polars = _silver_run(bronze, rules)
    shuffled = {t: bronze[t].sample(fraction=1, shuffle=True, seed=5) for t in TABLES}
    with pytest.MonkeyPatch.context() as patch:
        plans = _record_spark_plans(patch)
        on_spark = _silver_run({t: _spark(spark, shuffled[t]) for t in TABLES}, rules)
    for key, value in on_spark.items():
        if isinstance(value, DataFrame):
            plans.append(_plan(value))
            on_spark[key] = value.cache()
    return {"polars": on_polars, "spark": on_spark, "plans": plans, "rules": rules}


def _flagged_by_lineage(run: dict[str, Any], table: str) -> pl.DataFrame:
    """The flagged rows of ``table`` keyed by their lineage columns, reasons as text."""
    flagged = _polars(run[f"flagged.{table}"])
    if ROW_NUMBER in flagged.columns:  # polars: the row number of the new bronze rows
        new = frames.collect(run["new"][table]).with_row_index(ROW_NUMBER)
        flagged = flagged.join(new.select(ROW_NUMBER, *nodes.LINEAGE), on=ROW_NUMBER)
        flagged = flagged.drop(ROW_NUMBER)
    return flagged.with_columns(pl.col(REASON).cast(pl.String)).sort(nodes.LINEAGE)


@pytest.mark.parametrize("table", TABLES)
def test_flagged_rows_on_spark_equal_polars(runs: dict[str, Any], table: str) -> None:
    """Every row's typed values and reason (duplicates included), by lineage."""
    on_polars = _flagged_by_lineage(runs["polars"], table)
    on_spark = _flagged_by_lineage(runs["spark"], table)
    on_spark = on_spark.select(on_polars.columns).cast(dict(on_polars.schema))
    assert on_spark.equals(on_polars)
    reasons = set(on_polars[REASON].drop_nulls())
    # The dirt reaches the rules compared here: duplicates, bad keys, and more.
    assert DUPLICATE_REASON in reasons and len(reasons) >= 4, reasons


@pytest.mark.parametrize("table", TABLES)
def test_silver_quarantine_and_warnings_on_spark_equal_polars(
    runs: dict[str, Any], table: str
) -> None:
    """Silver (same types, any row order), the quarantine with its excerpts and reasons and
    the warnings (both in ingestion order)."""
    polars, spark = runs["polars"], runs["spark"]
    key = KEYS[table]
    silver = _polars(polars[f"silver.{table}"]).sort(key)
    assert _polars(spark[f"silver.{table}"]).sort(key).equals(silver)
    assert silver.height > 0
    rejected = _polars(polars[f"rejected.{table}"])
    assert rejected.height > 0
    assert _polars(spark[f"rejected.{table}"], rejected.schema).equals(rejected)
    warnings = _polars(polars[f"warnings.{table}"])
    assert _polars(spark[f"warnings.{table}"]).equals(warnings)


def test_batch_counts_of_spark_outputs_equal_polars(runs: dict[str, Any]) -> None:
    def report(run: dict[str, Any]) -> pl.DataFrame:
        return pl.concat(
            nodes._per_batch(frames.lazy(run["new"][t]), run[f"rejected.{t}"], None) for t in TABLES
        )

    on_polars = report(runs["polars"])
    assert on_polars["duplicates_removed"].sum() > 0
    assert report(runs["spark"]).equals(on_polars)


def test_spark_silver_rules_have_no_single_partition_funnel(runs: dict[str, Any]) -> None:
    assert len(runs["plans"]) >= 8
    for plan in runs["plans"]:
        assert single_partition_funnels(plan) == [], plan


#: Raw texts that polars parses in a way a plain Spark parser would not (or the reverse).
EDGES = {
    "int": [
        "5",
        "+5",
        "-5",
        "007",
        " 5 ",
        "5.0",
        "1e3",
        "",
        "5\n",
        "٥",
        "0x10",
        "5_000",
        "+-5",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "00000000000000000000001",
        "\x005",
    ],
    "amount": [
        "12",
        "12.",
        ".5",
        "12.5",
        "12.500",
        "12.345",
        "-3",
        "1e3",
        "1,000",
        " 7.10\t",
        "12.50\n",
        "NaN",
        "inf",
        "9999999999999999.99",
        "12.5.0",
    ],
    "date": [
        "2024-01-02",
        "2024-1-2",
        "2024- 1-02",
        " 2024-01-02 ",
        "2024-13-01",
        "2024-02-30",
        "2024-02-29",
        "2023-02-29",
        "24-01-02",
        "+2024-01-02",
        "12024-01-02",
        "2024-01-02x",
        "2024-01-02\n",
        "2024/01/02",
        "2024-01-02T00:00",
        "0001-01-01",
    ],
    "timestamp": [
        "2024-01-02 10:00:00",
        "2024-01-02T10:00:00",
        "2024-01-02 10:00",
        "2024-01-02 1:2:3",
        "2024-01-02 10:00:00.5",
        "2024-01-02 24:00:00",
        "2024-01-02 10:00:60",
        "2024-01-02",
        "2024-01-02 10:00:00Z",
        "2024-01-02  10:00:00",
        "2024-1-2 10:00:00",
        "2024-01-02 10:0:00",
        "2024-01-02 10:00:00\n",
        "2026-03-29 02:30:00",
    ],
    "text": ["  Ann  ", "\tBo\x00b\x7f ", "\x01\x02", "", "   ", "é ", "a\u00a0"],
    "email": [
        "ANN@X.IO",
        " bo@x.io ",
        "cy@x",
        "a b@x.io",
        "a@b.c\u2028",
        "a@b.c\n",
        "ÉLODIE@EXAMPLE.FR",
        "a@@b.c",
        "a@b.c\u00a0",
    ],
    "too_long": ["abcd", "abcde", "ééé", "éé", ""],
}


@pytest.mark.parametrize("kind", sorted(EDGES))
def test_parsers_on_spark_equal_polars_on_edge_cases(spark: SparkSession, kind: str) -> None:
    """Each parse gives the same value (or null) on both engines on every edge case; among
    them the texts a plain Spark parser would accept and polars rejects (``T`` in a
    timestamp, a line break after a number, a 5-digit year)."""
    values = [*EDGES[kind], None]
    raw = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    fmt = {"date": "%Y-%m-%d", "timestamp": "%Y-%m-%d %H:%M:%S", "too_long": 4}.get(kind)
    spec = {"typed": parsing.Parse(kind, "raw", fmt)}  # type: ignore[arg-type]
    on_polars = frames.collect(parsing.with_parsed(frames.lazy(raw), spec))
    on_spark = frames.collect(parsing.with_parsed(frames.lazy(_spark(spark, raw)), spec))
    assert on_polars["typed"].null_count() not in (0, len(values))  # both kinds of text
    assert on_spark.sort("raw").equals(on_polars.sort("raw")), kind


def test_excerpts_and_lookups_on_spark_equal_polars(spark: SparkSession) -> None:
    """Excerpts cut characters and count bytes on both engines; a lookup gives null for a
    value that is not a key."""
    raw = pl.DataFrame({"text": ["short", "é" * 30, "x" * 31, None, "ab" * 10]})
    keys, values = pl.Series(["short", "ab" * 10]), pl.Series(["S", "AB"])
    for frame in (frames.lazy(raw), frames.lazy(_spark(spark, raw))):
        cut = frames.excerpts(frame.with_columns(nw.col("text").alias("long")), ["long"], 8)
        found = frames.collect(frames.lookup(cut, "text", keys, values, "found")).sort("text")
        assert found["long"].to_list() == [
            None, "abababab … [20 bytes]", "short", "xxxxxxxx … [31 bytes]",
            "éééééééé … [60 bytes]",
        ]  # fmt: skip
        assert found["found"].to_list() == [None, "AB", "S", None, None]
    assert r.title("p") == parsing.Parse("title", "p")


def test_bronze_without_lineage_is_refused_on_spark(
    spark: SparkSession, bronze: dict[str, pl.DataFrame]
) -> None:
    """Without ``_source_row`` Spark could not tell a file's rows apart: a clear error
    instead of a wrong deduplication."""
    older = bronze["customers"].head(20).drop("_source_row")
    countries = nodes.match_countries(older, _rules())
    assert nodes.flag_customers(older, countries, _rules()).height == 20  # polars: row numbers
    with pytest.raises(ValueError, match="no _source_row column.*kedro run --pipelines bronze"):
        nodes.flag_customers(_spark(spark, older), countries, _rules())


def test_no_row_to_check_gives_no_rows_on_the_engine_of_bronze(
    spark: SparkSession, bronze: dict[str, pl.DataFrame]
) -> None:
    """A table with nothing new still hands the next nodes a frame of bronze's engine (a
    polars frame there would meet Spark frames in the same node)."""
    on_spark = _spark(spark, bronze["orders"].head(50))
    batches = tuple(bronze["orders"]["_batch_id"].unique())
    plan = incremental.Plan("orders", batches, (), full=False)
    scope = incremental.Scope(plan, pl.DataFrame(schema={"order_id": pl.Int64}))
    nothing = incremental.candidate_rows(on_spark, scope)
    assert isinstance(nothing, DataFrame)
    assert nothing.count() == 0 and nothing.columns == bronze["orders"].columns
