"""Custom Kedro datasets of the project."""

from medallion_kedro.datasets.delta_table import DeltaTableDataset
from medallion_kedro.datasets.lake_record import LakeRecordDataset
from medallion_kedro.datasets.landing_csv import LandingCSVDataset
from medallion_kedro.datasets.landing_folder import LandingFile, LandingFolderDataset
from medallion_kedro.datasets.mongo_export_dataset import ExportBatch, MongoExportDataset
from medallion_kedro.datasets.mongodb_dataset import MongoDBDataset
from medallion_kedro.datasets.parquet_folder import ParquetFolderDataset
from medallion_kedro.datasets.parquet_table import ParquetTableDataset
from medallion_kedro.datasets.spark_checkpoint import SparkCheckpointDataset
from medallion_kedro.datasets.spark_lake import SparkLakeTableDataset

__all__ = [
    "DeltaTableDataset",
    "ExportBatch",
    "LakeRecordDataset",
    "LandingCSVDataset",
    "LandingFile",
    "LandingFolderDataset",
    "MongoDBDataset",
    "MongoExportDataset",
    "ParquetFolderDataset",
    "ParquetTableDataset",
    "SparkCheckpointDataset",
    "SparkLakeTableDataset",
]
