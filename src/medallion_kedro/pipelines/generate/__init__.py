"""Synthetic source data for the landing zone."""

from medallion_kedro.pipelines.generate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
