"""``kedro run --pipelines export``: all gold tables to MongoDB as one published run."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Pipeline, node

from medallion_kedro.pipelines.export.nodes import to_export
from medallion_kedro.schemas import GOLD

#: Gold tables published to MongoDB, one collection each, all in one run (``mongo.gold``).
EXPORTED: tuple[str, ...] = tuple(GOLD)


def create_pipeline(**kwargs: Any) -> Pipeline:
    return Pipeline(
        [
            node(
                to_export,
                inputs={
                    "gold_versions": "lake.gold_versions",
                    "lake": "lake.identity",
                    "runs": "quality.runs",
                    "node_runs": "quality.node_runs",
                    **{table: f"gold.{table}" for table in EXPORTED},
                },
                outputs="mongo.gold",
                name="export_gold",
            )
        ],
        tags="export",
    )
