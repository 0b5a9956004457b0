"""``kedro run --pipelines bronze``: the new landing batches appended to bronze, and the
retraction ``kedro lake retract`` asks for recorded."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, node

from medallion_kedro.pipelines.bronze.batches import ingest_batches, publish_batches
from medallion_kedro.pipelines.bronze.ledger import record_retraction
from medallion_kedro.pipelines.bronze.nodes import start_batch
from medallion_kedro.schemas import TABLES


def _ingest_node(table: str) -> Node:
    func = update_wrapper(partial(ingest_batches, table=table), ingest_batches)
    return node(
        func,
        inputs={
            "files": f"landing.{table}",
            "ledger": "previous.bronze_batches",
            "source": f"params:bronze.sources.{table}",
            "batch": "bronze_batch",
        },
        outputs=[f"ingested_{table}", f"ledger_{table}"],
        name=f"ingest_{table}",
    )


def create_pipeline(**kwargs: object) -> Pipeline:
    return Pipeline(
        [
            node(start_batch, inputs=None, outputs="bronze_batch", name="start_batch"),
            *(_ingest_node(table) for table in TABLES),
            node(
                publish_batches,
                inputs=[
                    *(f"ingested_{table}" for table in TABLES),
                    *(f"ledger_{table}" for table in TABLES),
                ],
                outputs=[*(f"bronze.{table}" for table in TABLES), "bronze.batches"],
                name="publish_bronze",
            ),
            node(
                record_retraction,
                inputs=["params:retraction", "bronze.batches"],
                outputs="bronze.retractions",
                name="record_retraction",
            ),
        ],
        tags="bronze",
    )
