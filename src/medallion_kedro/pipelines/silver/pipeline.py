"""``kedro run --pipelines silver``."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, node

from medallion_kedro.pipelines.silver.nodes import (
    flag_customers,
    flag_orders,
    reconcile,
    split_flagged,
)
from medallion_kedro.schemas import TABLES


def _split_node(table: str) -> Node:
    return node(
        update_wrapper(partial(split_flagged, table=table), split_flagged),
        inputs=[f"flagged_{table}", f"bronze.{table}"],
        outputs=[f"unchecked_{table}", f"unchecked_rejected_{table}"],
        name=f"split_{table}",
    )


def create_pipeline(**kwargs: object) -> Pipeline:
    return Pipeline(
        [
            node(
                flag_customers,
                inputs=["bronze.customers", "params:silver"],
                outputs="flagged_customers",
                name="flag_customers",
            ),
            node(
                flag_orders,
                inputs=["bronze.orders", "unchecked_customers", "params:silver"],
                outputs="flagged_orders",
                name="flag_orders",
            ),
            *(_split_node(table) for table in TABLES),
            node(
                reconcile,
                inputs=[
                    "bronze.customers",
                    "unchecked_customers",
                    "unchecked_rejected_customers",
                    "bronze.orders",
                    "unchecked_orders",
                    "unchecked_rejected_orders",
                ],
                outputs=[
                    "silver.customers",
                    "quality.rejected_customers",
                    "silver.orders",
                    "quality.rejected_orders",
                    "quality.reconciliation",
                ],
                name="reconcile",
            ),
        ],
        tags="silver",
    )
