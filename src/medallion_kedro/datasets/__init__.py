"""Custom Kedro datasets of the project."""

from medallion_kedro.datasets.landing_csv import LandingCSVDataset
from medallion_kedro.datasets.mongodb_dataset import MongoDBDataset

__all__ = ["LandingCSVDataset", "MongoDBDataset"]
