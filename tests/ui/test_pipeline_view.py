"""The Pipeline tab's chart of rejected rows and the rows by stage, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from medallion_kedro.run_stages import stage_rows
from ui.pipeline_tab import _rejected_by_run
from ui.sources.pipeline import QUALITY_SCHEMA

T0 = datetime(2026, 12, 8, 0, 30, 5, tzinfo=UTC)


def test_two_runs_of_one_minute_are_two_bars() -> None:
    # UUIDv7 ids: the first 8 characters are the same within a minute
    first, second = "019afb1c-0000-7000-8000-00000000aaaa", "019afb1c-0000-7000-8000-00000000bbbb"
    rows = [
        {"run_id": run, "started_at": T0 + timedelta(seconds=s), "table": "orders",
         "kind": kind, "reason": "bad amount: not a decimal", "rows": n}
        for run, s, kind, n in [(first, 0, "rejected", 3), (second, 40, "rejected", 5),
                                (second, 40, "warning", 7)]
    ]  # fmt: skip
    chart = _rejected_by_run(pl.DataFrame(rows, schema=QUALITY_SCHEMA))
    assert chart.to_dict("records") == [
        {"run": "12-08 00:30:05 ·aaaa", "reason": "orders: bad amount", "rows": 3},
        {"run": "12-08 00:30:45 ·bbbb", "reason": "orders: bad amount", "rows": 5},
    ]


def _node(stage: str, inputs: dict[str, int | None], outputs: dict[str, int | None]) -> dict:
    return {
        "tags": [stage],
        "seconds": 0.5,
        "inputs": [{"dataset": d, "rows": n} for d, n in inputs.items()],
        "outputs": [{"dataset": d, "rows": n} for d, n in outputs.items()],
    }


def test_a_stage_counts_each_dataset_once_and_not_what_passes_between_its_nodes() -> None:
    nodes = [
        _node("bronze", {"previous.bronze_batches": None}, {"ingested_orders": 100}),
        _node("bronze", {"ingested_orders": 100}, {"bronze.orders": 100}),
        _node("silver", {"bronze.orders": 100}, {"new_orders": 100}),
        _node("silver", {"new_orders": 100}, {"checked": 90, "rejected": 10}),
        _node(
            "silver",
            {"checked": 90, "rejected": 10, "bronze.orders": 100},
            {"silver.orders": 90, "quality.rejected_orders": 10},
        ),  # fmt: skip
        _node("gold", {"silver.orders": 90}, {"gold.customer_metrics": 20}),
        _node("gold", {"gold.customer_metrics": 20}, {"gold.kpis": 1}),
    ]
    assert [(s["stage"], s["rows_in"], s["rows_out"], s["seconds"]) for s in stage_rows(nodes)] == [
        ("bronze", None, 100, 1.0),
        ("silver", 100, 100, 1.5),
        ("gold", 90, 21, 1.0),
    ]
