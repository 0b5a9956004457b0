"""``kedro run --pipelines silver``."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, node

from medallion_kedro.pipelines.silver.nodes import (
    flag_customers,
    flag_orders,
    match_countries,
    reconcile,
    split_flagged,
)
from medallion_kedro.schemas import TABLES


def _split_node(table: str) -> Node:
    return node(
        update_wrapper(partial(split_flagged, table=table), split_flagged),
        inputs={
            "flagged": f"flagged_{table}",
            "bronze": f"bronze.{table}",
            "rules": "params:silver",
        },
        outputs=[
            f"unchecked_{table}",
            f"unchecked_rejected_{table}",
            f"unchecked_warnings_{table}",
        ],
        name=f"split_{table}",
    )


def create_pipeline(**kwargs: object) -> Pipeline:
    return Pipeline(
        [
            node(
                match_countries,
                inputs=["bronze.customers", "params:silver"],
                outputs="country_matches",
                name="match_countries",
            ),
            node(
                flag_customers,
                inputs=["bronze.customers", "country_matches", "params:silver"],
                outputs="flagged_customers",
                name="flag_customers",
            ),
            node(
                flag_orders,
                inputs=["bronze.orders", "unchecked_customers", "params:silver", "params:as_of"],
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
                    "unchecked_warnings_customers",
                    "bronze.orders",
                    "unchecked_orders",
                    "unchecked_rejected_orders",
                    "unchecked_warnings_orders",
                    "country_matches",
                    "params:silver",
                ],
                outputs=[
                    "silver.customers",
                    "quality.rejected_customers",
                    "silver.orders",
                    "quality.rejected_orders",
                    "quality.reconciliation",
                    "quality.warnings",
                    "quality.country_mappings",
                ],
                name="reconcile",
            ),
        ],
        tags="silver",
    )
