"""Silver -> gold marts."""

from medallion_kedro.pipelines.gold.pipeline import create_pipeline

__all__ = ["create_pipeline"]
