"""Bronze -> silver (typed, validated, deduplicated) and the quality tables."""

from medallion_kedro.pipelines.silver.pipeline import create_pipeline

__all__ = ["create_pipeline"]
