"""Silver's row rules on Spark do each row's work once: the Spark queries a node runs (the
frames narwhals collects, the frames checkpointed, and the frame the node returns) parse
each row's text in one of them only, and none runs Python on the executors.

The bronze tables come from the package's small lake built on polars (``conftest.py``),
handed to Spark through Arrow. Skipped without PySpark or Java.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from tests.spark import skip_without_spark

skip_without_spark()

from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from medallion_kedro.lake import read_table  # noqa: E402
from medallion_kedro.pipelines.silver import incremental, nodes  # noqa: E402
from medallion_kedro.schemas import TABLES  # noqa: E402
from medallion_kedro.spark.plans import PYTHON_OPERATORS  # noqa: E402
from tests.kedro_run import PROJECT_ROOT  # noqa: E402
from tests.spark.test_spark_gold import _plan, _record_spark_plans  # noqa: E402

AS_OF = "2026-11-28"
#: The parse of a date or timestamp (``parsing._spark``): one per parsed row in a plan.
PARSE = "try_make_timestamp_ntz("


def _rules() -> dict[str, Any]:
    text = (Path(PROJECT_ROOT) / "conf/base/parameters_silver.yml").read_text()
    return dict(yaml.safe_load(text)["silver"])


def _spark(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    return spark.createDataFrame(frame.to_arrow())


def _plans_of(
    node: Callable[[], Any], spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The physical plans of every Spark query ``node`` runs or returns: the frames
    narwhals collects, the frames it checkpoints, and its result."""
    plans = _record_spark_plans(monkeypatch)
    frame_type = type(spark.range(1))  # the session's DataFrame class (classic or Connect)
    checkpoint = frame_type.localCheckpoint

    def recording(self: DataFrame, *args: Any, **kwargs: Any) -> DataFrame:
        plans.append(_plan(self))
        return checkpoint(self, *args, **kwargs)

    monkeypatch.setattr(frame_type, "localCheckpoint", recording)
    result = node()
    plans.append(_plan(result))
    return plans


@pytest.fixture(scope="module")
def flag_plans(spark: SparkSession, polars_lake: Path) -> dict[str, list[str]]:
    """The plans of ``flag_customers`` and ``flag_orders`` over every live bronze row of
    the lake, on Spark."""
    rules = _rules()
    candidates = {}
    for table in TABLES:
        bronze = _spark(spark, read_table(str(polars_lake), "bronze", table))
        batches = tuple(r[0] for r in bronze.select("_batch_id").distinct().collect())
        plan = incremental.Plan(table, batches, batches, full=True)
        scope = incremental.Scope(plan, pl.DataFrame())
        candidates[table] = incremental.candidate_rows(bronze, scope).localCheckpoint()
    countries = nodes.match_countries(candidates["customers"], rules)
    known = incremental.known_customers(
        _spark(spark, read_table(str(polars_lake), "silver", "customers"))
    )
    run = {
        "customers": lambda: nodes.flag_customers(candidates["customers"], countries, rules),
        "orders": lambda: nodes.flag_orders(candidates["orders"], known, rules, AS_OF),
    }
    out = {}
    for table, node in run.items():
        with pytest.MonkeyPatch.context() as patch:
            out[table] = _plans_of(node, spark, patch)
    return out


@pytest.mark.parametrize("table", TABLES)
def test_flagging_parses_each_row_once_on_spark(
    flag_plans: dict[str, list[str]], table: str
) -> None:
    """The checks read the typed columns of several branches (the rows, the repeated keys,
    the duplicates' window): the parsed rows are computed once and read by all of them,
    not parsed again in each branch."""
    parses = [plan.count(PARSE) for plan in flag_plans[table]]
    assert sum(parses) == 1, parses


@pytest.mark.parametrize("table", TABLES)
def test_flagging_runs_no_python_on_the_executors(
    flag_plans: dict[str, list[str]], table: str
) -> None:
    for plan in flag_plans[table]:
        found = [op for op in PYTHON_OPERATORS if op in plan]
        assert found == [], plan
