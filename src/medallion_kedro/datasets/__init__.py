"""Custom Kedro datasets of the project.

The classes are imported on first use (a module ``__getattr__``): Kedro resolves each
``type: medallion_kedro.datasets.<Class>`` of the catalog by attribute, so a command
imports only the datasets its catalog entries name, and not, say, pandas and
``pyarrow.dataset`` (through kedro-datasets' polars package) when no entry needs them.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medallion_kedro.datasets.delta_table import DeltaTableDataset
    from medallion_kedro.datasets.export_batch import ExportBatch
    from medallion_kedro.datasets.lake_record import LakeRecordDataset
    from medallion_kedro.datasets.landing_csv import LandingCSVDataset
    from medallion_kedro.datasets.landing_folder import LandingFile, LandingFolderDataset
    from medallion_kedro.datasets.memory import MemoryDataset
    from medallion_kedro.datasets.mongo_export_dataset import MongoExportDataset
    from medallion_kedro.datasets.mongodb_dataset import MongoDBDataset
    from medallion_kedro.datasets.parquet_folder import ParquetFolderDataset
    from medallion_kedro.datasets.spark_checkpoint import SparkCheckpointDataset
    from medallion_kedro.datasets.spark_lake import SparkLakeTableDataset

#: Public name -> the module of this package that defines it.
_MODULES = {
    "DeltaTableDataset": "delta_table",
    "ExportBatch": "export_batch",
    "LakeRecordDataset": "lake_record",
    "LandingCSVDataset": "landing_csv",
    "LandingFile": "landing_folder",
    "LandingFolderDataset": "landing_folder",
    "MemoryDataset": "memory",
    "MongoDBDataset": "mongodb_dataset",
    "MongoExportDataset": "mongo_export_dataset",
    "ParquetFolderDataset": "parquet_folder",
    "SparkCheckpointDataset": "spark_checkpoint",
    "SparkLakeTableDataset": "spark_lake",
}

__all__ = [
    "DeltaTableDataset",
    "ExportBatch",
    "LakeRecordDataset",
    "LandingCSVDataset",
    "LandingFile",
    "LandingFolderDataset",
    "MemoryDataset",
    "MongoDBDataset",
    "MongoExportDataset",
    "ParquetFolderDataset",
    "SparkCheckpointDataset",
    "SparkLakeTableDataset",
    "is_a",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})


def is_a(obj: object, *names: str) -> bool:
    """``isinstance(obj, <one of the named classes of this package>)`` without importing a
    class's module: no object of a class whose module was never imported can exist, so
    such a class is skipped (hooks check every catalog entry this way, and importing,
    say, ``SparkLakeTableDataset`` would import PySpark for nothing)."""
    for name in names:
        module = sys.modules.get(f"{__name__}.{_MODULES[name]}")
        if module is not None and isinstance(obj, getattr(module, name)):
            return True
    return False
