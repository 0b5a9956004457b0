"""``kedro run --pipelines bronze``."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, node

from medallion_kedro.pipelines.bronze.nodes import ingest, publish, start_batch
from medallion_kedro.schemas import TABLES


def _ingest_node(table: str) -> Node:
    func = update_wrapper(partial(ingest, table=table), ingest)
    return node(
        func,
        inputs={
            "raw": f"landing.{table}",
            "source": f"params:bronze.sources.{table}",
            "batch": "bronze_batch",
        },
        outputs=f"ingested_{table}",
        name=f"ingest_{table}",
    )


def create_pipeline(**kwargs: object) -> Pipeline:
    return Pipeline(
        [
            node(start_batch, inputs=None, outputs="bronze_batch", name="start_batch"),
            *(_ingest_node(table) for table in TABLES),
            node(
                publish,
                inputs=[f"ingested_{table}" for table in TABLES],
                outputs=[f"bronze.{table}" for table in TABLES],
                name="publish_bronze",
            ),
        ],
        tags="bronze",
    )
