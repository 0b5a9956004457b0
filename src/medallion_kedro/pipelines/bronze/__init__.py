"""Landing CSV -> bronze Delta table, every value kept as text."""

from medallion_kedro.pipelines.bronze.pipeline import create_pipeline

__all__ = ["create_pipeline"]
