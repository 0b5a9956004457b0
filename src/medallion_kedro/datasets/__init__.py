"""Custom Kedro datasets of the project."""

from medallion_kedro.datasets.landing_csv import LandingCSVDataset

__all__ = ["LandingCSVDataset"]
