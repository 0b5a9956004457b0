"""``kedro run --pipelines silver``: the live bronze batches' rows a run can change, typed,
checked and merged into silver (see :mod:`.incremental`); customers first, as an order
needs to know its customer."""

from __future__ import annotations

from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node, Pipeline, node

from medallion_kedro.pipelines.silver.incremental import (
    candidate_rows,
    customers_scope,
    known_customers,
    live_rows,
    merge_customers,
    merge_orders,
    merge_warnings,
    order_expiry,
    orders_scope,
    plan_batches,
)
from medallion_kedro.pipelines.silver.nodes import (
    count_table,
    country_mappings,
    flag_customers,
    flag_orders,
    match_countries,
    reconcile,
    split_flagged,
)
from medallion_kedro.schemas import TABLES


def _bound(func: Any, **kwargs: Any) -> Any:
    return update_wrapper(partial(func, **kwargs), func)


def _check_nodes(table: str) -> list[Node]:
    """The rows to check of ``table``, split into valid, rejected and warned rows."""
    return [
        node(
            candidate_rows,
            inputs={"bronze": f"bronze.{table}", "scope": f"scope_{table}"},
            outputs=f"candidate_{table}",
            name=f"candidate_{table}",
        ),
        node(
            _bound(split_flagged, table=table),
            inputs={
                "flagged": f"flagged_{table}",
                "bronze": f"candidate_{table}",
                "rules": "params:silver",
            },
            outputs=[f"valid_{table}", f"rejected_{table}", f"warnings_{table}"],
            name=f"split_{table}",
        ),
    ]


def _merge_inputs(table: str) -> dict[str, str]:
    return {
        "previous_silver": f"previous.silver_{table}",
        "previous_rejected": f"previous.rejected_{table}",
        "valid": f"valid_{table}",
        "rejected": f"rejected_{table}",
        "scope": f"scope_{table}",
    }


def _count_node(table: str) -> Node:
    inputs = {
        "plan": f"plan_{table}",
        "bronze": f"bronze.{table}",
        "silver": f"silver.{table}",
        "rejected": f"quality.rejected_{table}",
        "warnings": "quality.warnings",
        "rules": "params:silver",
    }
    if table == "orders":
        inputs["waiting"] = "quality.waiting_orders"
    return node(
        count_table,
        inputs=inputs,
        outputs={"counts": f"counts_{table}", "batches": f"batch_counts_{table}"},
        name=f"count_{table}",
    )


def create_pipeline(**kwargs: object) -> Pipeline:
    return Pipeline(
        [
            node(
                plan_batches,
                inputs={
                    "ledger": "bronze.batches",
                    "retractions": "bronze.retractions",
                    "applied": "previous.batch_reconciliation",
                    "previous_reconciliation": "previous.reconciliation",
                    "bronze_customers": "bronze.customers",
                    "bronze_orders": "bronze.orders",
                },
                outputs={t: f"plan_{t}" for t in TABLES},
                name="plan_batches",
            ),
            # customers
            node(
                customers_scope,
                inputs={"bronze": "bronze.customers", "plan": "plan_customers"},
                outputs="scope_customers",
                name="scope_customers",
            ),
            node(
                live_rows,
                inputs={"bronze": "bronze.customers", "plan": "plan_customers"},
                outputs="live_customers",
                name="live_customers",
            ),
            node(
                match_countries,
                inputs=["live_customers", "params:silver"],
                outputs="country_matches",
                name="match_countries",
            ),
            node(
                country_mappings,
                inputs="country_matches",
                outputs="quality.country_mappings",
                name="country_mappings",
            ),
            node(
                flag_customers,
                inputs=["candidate_customers", "country_matches", "params:silver"],
                outputs="flagged_customers",
                name="flag_customers",
            ),
            *_check_nodes("customers"),
            node(
                merge_customers,
                inputs=_merge_inputs("customers"),
                outputs={"silver": "silver.customers", "rejected": "quality.rejected_customers"},
                name="merge_customers",
            ),
            node(
                known_customers,
                inputs="silver.customers",
                outputs="known_customers",
                name="known_customers",
            ),
            # orders
            node(
                orders_scope,
                inputs={
                    "bronze": "bronze.orders",
                    "plan": "plan_orders",
                    "waiting": "previous.waiting_orders",
                    "rejected": "previous.rejected_orders",
                    "known": "known_customers",
                },
                outputs="scope_orders",
                name="scope_orders",
            ),
            node(
                flag_orders,
                inputs=["candidate_orders", "known_customers", "params:silver", "params:as_of"],
                outputs="flagged_orders",
                name="flag_orders",
            ),
            node(
                order_expiry,
                inputs=["params:silver", "params:as_of"],
                outputs="order_expiry",
                name="order_expiry",
            ),
            *_check_nodes("orders"),
            node(
                merge_orders,
                inputs={
                    **_merge_inputs("orders"),
                    "previous_waiting": "previous.waiting_orders",
                    "expiry": "order_expiry",
                },
                outputs={
                    "silver": "silver.orders",
                    "rejected": "quality.rejected_orders",
                    "waiting": "quality.waiting_orders",
                },
                name="merge_orders",
            ),
            # both tables
            node(
                merge_warnings,
                inputs={
                    "previous": "previous.warnings",
                    "customers": "warnings_customers",
                    "orders": "warnings_orders",
                    "customers_scope": "scope_customers",
                    "orders_scope": "scope_orders",
                },
                outputs="quality.warnings",
                name="merge_warnings",
            ),
            *(_count_node(table) for table in TABLES),
            node(
                reconcile,
                inputs={
                    "customers": "counts_customers",
                    "orders": "counts_orders",
                    "customer_batches": "batch_counts_customers",
                    "order_batches": "batch_counts_orders",
                    "ledger": "bronze.batches",
                    "applied": "previous.batch_reconciliation",
                },
                outputs={
                    "reconciliation": "quality.reconciliation",
                    "batches": "quality.batch_reconciliation",
                },
                name="reconcile",
            ),
        ],
        tags="silver",
    )
