"""``kedro run --pipelines generate``: seeded synthetic exports into the landing zone.

With ``--params batches=N`` (N > 1) it writes N export files per table into the landing
folders instead of one file each (see :func:`.nodes.to_landing`). The files get the
environment's source layout: the headers of
``bronze.sources.<table>.column_map`` and the landing file names of its catalog.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from medallion_kedro.pipelines.generate.nodes import (
    generate_customers,
    generate_orders,
    to_landing,
)
from medallion_kedro.schemas import TABLES


def create_pipeline(**kwargs: object) -> Pipeline:
    settings = {
        "seed": "params:seed",
        "dirty_share": "params:dirty_share",
        "generator": "params:generator",
    }
    return Pipeline(
        [
            node(
                generate_customers,
                inputs={"n_customers": "params:n_customers", **settings},
                outputs="generated_customers",
                name="generate_customers",
            ),
            node(
                generate_orders,
                inputs={
                    "n_orders": "params:n_orders",
                    "n_customers": "params:n_customers",
                    **settings,
                },
                outputs="generated_orders",
                name="generate_orders",
            ),
            node(
                to_landing,
                inputs={
                    "customers": "generated_customers",
                    "orders": "generated_orders",
                    "batches": "params:batches",
                    "seed": "params:seed",
                    "corrections": "params:corrections",
                    **{f"{table}_source": f"params:bronze.sources.{table}" for table in TABLES},
                },
                outputs=[f"landing.{table}" for table in TABLES],
                name="to_landing",
            ),
        ],
        tags="generate",
    )
