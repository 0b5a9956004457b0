"""``kedro run --pipelines gold``."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from medallion_kedro.pipelines.gold.nodes import (
    customer_metrics,
    kpis,
    monthly_revenue,
    revenue_by_country,
    revenue_by_product,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    orders, customers = "silver.orders", "silver.customers"
    return Pipeline(
        [
            node(
                revenue_by_country,
                inputs=[orders, customers],
                outputs="gold.revenue_by_country",
                name="revenue_by_country",
            ),
            node(
                revenue_by_product,
                inputs=orders,
                outputs="gold.revenue_by_product",
                name="revenue_by_product",
            ),
            node(
                monthly_revenue,
                inputs=orders,
                outputs="gold.monthly_revenue",
                name="monthly_revenue",
            ),
            node(
                customer_metrics,
                inputs=[orders, customers, "params:as_of"],
                outputs="gold.customer_metrics",
                name="customer_metrics",
            ),
            node(
                kpis,
                inputs=[
                    orders,
                    "gold.customer_metrics",
                    "gold.monthly_revenue",
                    "params:as_of",
                    "params:gold",
                ],
                outputs="gold.kpis",
                name="kpis",
            ),
        ],
        tags="gold",
    )
