"""``kedro run --pipelines export``: each gold table to the MongoDB collection of its name."""

from __future__ import annotations

from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Pipeline, node

from medallion_kedro.pipelines.export.nodes import to_collection
from medallion_kedro.schemas import GOLD

#: Gold tables published to MongoDB, one collection each (``mongo.<table>`` in the catalog).
EXPORTED: tuple[str, ...] = tuple(GOLD)


def create_pipeline(**kwargs: Any) -> Pipeline:
    return Pipeline(
        [
            node(
                update_wrapper(partial(to_collection, name=table), to_collection),
                inputs=f"gold.{table}",
                outputs=f"mongo.{table}",
                name=f"export_{table}",
            )
            for table in EXPORTED
        ]
    )
