"""``kedro run --pipelines gold``."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from medallion_kedro.pipelines.gold.nodes import (
    customer_metrics,
    kpis,
    monthly_revenue,
    reconciled_silver,
    reference_date,
    revenue_by_country,
    revenue_by_product,
    segments,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    orders, customers = "reconciled_orders", "reconciled_customers"
    # silver's rows changed since the published gold was built, and that gold
    order_changes, customer_changes = "changes.silver_orders", "changes.silver_customers"
    return Pipeline(
        [
            node(
                reconciled_silver,
                inputs=["quality.reconciliation", "silver.orders", "silver.customers"],
                outputs=[orders, customers],
                name="reconciled_silver",
            ),
            node(
                reference_date,
                inputs=["params:as_of", orders],
                outputs="as_of_date",
                name="reference_date",
            ),
            node(
                revenue_by_product,
                inputs=[orders, order_changes, "previous.gold_revenue_by_product"],
                outputs="gold.revenue_by_product",
                name="revenue_by_product",
            ),
            node(
                monthly_revenue,
                inputs=[orders, order_changes, "previous.gold_monthly_revenue"],
                outputs="gold.monthly_revenue",
                name="monthly_revenue",
            ),
            node(
                customer_metrics,
                inputs=[
                    orders,
                    customers,
                    order_changes,
                    customer_changes,
                    "previous.gold_customer_metrics",
                    "as_of_date",
                    "params:gold",
                ],
                outputs="gold.customer_metrics",
                name="customer_metrics",
            ),
            node(
                revenue_by_country,
                inputs="gold.customer_metrics",
                outputs="gold.revenue_by_country",
                name="revenue_by_country",
            ),
            node(
                segments,
                inputs="gold.customer_metrics",
                outputs="gold.segments",
                name="segments",
            ),
            node(
                kpis,
                inputs=[
                    "gold.customer_metrics",
                    "gold.monthly_revenue",
                    "as_of_date",
                    "params:gold",
                ],
                outputs="gold.kpis",
                name="kpis",
            ),
        ],
        tags="gold",
    )
