"""What the export node hands to ``MongoExportDataset``, in a module of its own so the
export pipeline (which Kedro imports for every run, to list the pipelines) imports neither
pymongo nor pandas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medallion_kedro.datasets.mongo_export_dataset import Frame


@dataclass(frozen=True)
class ExportBatch:
    """What an export node hands to :class:`MongoExportDataset`: tables plus provenance.

    ``sources`` (table -> facts about the lake table it came from: rows, a fingerprint, a
    table version when the lake has one) and ``lake_version`` are written to the manifest
    as they are; ``pipeline_run_id`` links the manifest to the run record that built it;
    ``lake`` (``{"id", "uri"}``, :mod:`medallion_kedro.lake_identity`) names the lake the
    tables come from, so an export never replaces another lake's manifest unasked.
    """

    tables: Mapping[str, Frame]
    sources: Mapping[str, Any] = field(default_factory=dict)
    lake_version: Any = None
    pipeline_run_id: str | None = None
    lake: Mapping[str, str] | None = None
