"""``SparkCheckpointDataset``: a node's in-memory output, computed once on Spark."""

from __future__ import annotations

from typing import Any

from kedro.io import MemoryDataset

from medallion_kedro.datasets.spark_lake import is_spark


class SparkCheckpointDataset(MemoryDataset):
    """``MemoryDataset`` that computes a Spark DataFrame once, when it is saved.

    A Spark DataFrame is a plan: every node that counts, joins or collects an intermediate
    result (silver's flagged rows feed the split, the reconciliation counts and the merge)
    would run the whole plan again from bronze. Saving one checkpoints it on the executors
    (``localCheckpoint``: kept in their block managers, memory then disk, lineage cut), so
    the readers scan computed rows. Other values (polars frames, dictionaries) are kept as
    ``MemoryDataset`` keeps them. The checkpoint lives as long as the Spark session.

    Example catalog entry (``conf/spark/catalog.yml``)::

        "flagged_{table}":
          type: medallion_kedro.datasets.SparkCheckpointDataset
    """

    def __init__(self, *, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(metadata=metadata)

    def save(self, data: Any) -> None:
        super().save(data.localCheckpoint(eager=True) if is_spark(data) else data)
