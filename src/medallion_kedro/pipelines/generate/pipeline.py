"""``kedro run --pipelines generate``: seeded synthetic exports into the landing zone."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from medallion_kedro.pipelines.generate.nodes import generate_customers, generate_orders


def create_pipeline(**kwargs: object) -> Pipeline:
    settings = {
        "seed": "params:seed",
        "as_of": "params:as_of",
        "dirty_share": "params:dirty_share",
        "generator": "params:generator",
    }
    return Pipeline(
        [
            node(
                generate_customers,
                inputs={"n_customers": "params:n_customers", **settings},
                outputs="landing.customers",
                name="generate_customers",
            ),
            node(
                generate_orders,
                inputs={
                    "n_orders": "params:n_orders",
                    "n_customers": "params:n_customers",
                    **settings,
                },
                outputs="landing.orders",
                name="generate_orders",
            ),
        ],
        tags="generate",
    )
