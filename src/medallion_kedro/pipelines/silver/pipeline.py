"""``kedro run --pipelines silver``: the bronze batches not applied yet, typed, checked and
merged into silver (see :mod:`.incremental`)."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, node

from medallion_kedro.pipelines.silver.incremental import (
    known_customers,
    merge_batches,
    new_rows,
    pending_batches,
)
from medallion_kedro.pipelines.silver.nodes import (
    flag_customers,
    flag_orders,
    match_countries,
    reconcile,
    split_flagged,
)
from medallion_kedro.schemas import TABLES


def _new_rows_node(table: str) -> Node:
    return node(
        update_wrapper(partial(new_rows, table=table), new_rows),
        inputs={"bronze": f"bronze.{table}", "pending": "pending_batches"},
        outputs=f"new_{table}",
        name=f"new_{table}",
    )


def _split_node(table: str) -> Node:
    return node(
        update_wrapper(partial(split_flagged, table=table), split_flagged),
        inputs={
            "flagged": f"flagged_{table}",
            "bronze": f"new_{table}",
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
                pending_batches,
                inputs=[
                    "bronze.batches",
                    "previous.batch_reconciliation",
                    "bronze.customers",
                    "bronze.orders",
                ],
                outputs="pending_batches",
                name="pending_batches",
            ),
            *(_new_rows_node(table) for table in TABLES),
            node(
                match_countries,
                inputs=["new_customers", "params:silver"],
                outputs="country_matches",
                name="match_countries",
            ),
            node(
                flag_customers,
                inputs=["new_customers", "country_matches", "params:silver"],
                outputs="flagged_customers",
                name="flag_customers",
            ),
            node(
                known_customers,
                inputs=["previous.silver_customers", "unchecked_customers"],
                outputs="known_customers",
                name="known_customers",
            ),
            node(
                flag_orders,
                inputs=["new_orders", "known_customers", "params:silver", "params:as_of"],
                outputs="flagged_orders",
                name="flag_orders",
            ),
            *(_split_node(table) for table in TABLES),
            node(
                reconcile,
                inputs=[
                    "new_customers",
                    "unchecked_customers",
                    "unchecked_rejected_customers",
                    "unchecked_warnings_customers",
                    "new_orders",
                    "unchecked_orders",
                    "unchecked_rejected_orders",
                    "unchecked_warnings_orders",
                    "country_matches",
                    "params:silver",
                ],
                outputs=[
                    "checked_customers",
                    "checked_rejected_customers",
                    "checked_orders",
                    "checked_rejected_orders",
                    "batch_report",
                    "checked_warnings",
                    "checked_country_mappings",
                ],
                name="reconcile",
            ),
            node(
                merge_batches,
                inputs=[
                    "batch_report",
                    "checked_customers",
                    "checked_rejected_customers",
                    "checked_orders",
                    "checked_rejected_orders",
                    "checked_warnings",
                    "checked_country_mappings",
                    "bronze.customers",
                    "bronze.orders",
                    "new_customers",
                    "new_orders",
                    "previous.silver_customers",
                    "previous.silver_orders",
                    "previous.reconciliation",
                ],
                outputs=[
                    "silver.customers",
                    "quality.rejected_customers",
                    "silver.orders",
                    "quality.rejected_orders",
                    "quality.reconciliation",
                    "quality.warnings",
                    "quality.country_mappings",
                    "quality.batch_reconciliation",
                ],
                name="merge_batches",
            ),
        ],
        tags="silver",
    )
