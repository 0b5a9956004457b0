"""Gold marts -> MongoDB collections."""

from medallion_kedro.pipelines.export.pipeline import create_pipeline

__all__ = ["create_pipeline"]
