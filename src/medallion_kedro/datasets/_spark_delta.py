"""Delta Lake read and written by Spark itself, for sessions that have delta-spark.

Used by :class:`~medallion_kedro.datasets.SparkLakeTableDataset` only when the session's
settings configure Delta (:func:`medallion_kedro.spark.session.has_delta`). No session on
the project's own machines has it (the Delta jars come from a Maven repository), so this
module is kept small and is not run by the test suite; the offline path (Arrow through
the driver, delta-rs) is the tested one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import medallion_kedro.lake as lakes
from medallion_kedro.schemas import BATCH_ID

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def read(spark: SparkSession, uri: str, version: int) -> DataFrame:
    """Delta ``version`` of the table at ``uri``, read natively."""
    return spark.read.format("delta").option("versionAsOf", version).load(uri)


def write(
    frame: DataFrame,
    uri: str,
    *,
    mode: str,
    predicate: str | None,
    run_id: str,
    before: lakes.Entry | None,
) -> lakes.Entry:
    """Write one Delta version of ``uri`` from the executors; return its commit record
    entry (the same fields as the delta-rs path's)."""
    from delta.tables import DeltaTable  # delta-spark, present wherever the session has Delta

    spark = frame.sparkSession
    if mode == "merge":
        (
            DeltaTable.forPath(spark, uri)
            .alias("t")
            .merge(frame.alias("s"), predicate)
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute()
        )
    else:
        writer = frame.write.format("delta").mode(mode)
        if mode == "overwrite":
            writer = writer.option("overwriteSchema", "true")
        writer.save(uri)
    last = DeltaTable.forPath(spark, uri).history(1).collect()[0]
    metrics: dict[str, Any] = dict(last["operationMetrics"] or {})
    entry: lakes.Entry = {
        "format": "delta",
        "version": int(last["version"]),
        "run_id": run_id,
        "mode": mode,
        "written_at": lakes.now_iso(),
    }
    previous = int(before.get("rows", 0)) if before is not None else 0
    if mode == "merge":
        inserted = int(metrics.get("numTargetRowsInserted", 0))
        entry["merge"] = {
            "num_source_rows": int(metrics.get("numSourceRows", 0)),
            "num_target_rows_inserted": inserted,
            "num_target_rows_updated": int(metrics.get("numTargetRowsUpdated", 0)),
        }
        entry["rows"] = previous + inserted
    else:
        written = int(metrics.get("numOutputRows", 0))
        entry["rows"] = previous + written if mode == "append" else written
    if BATCH_ID in frame.columns:
        batches = {r[0] for r in frame.select(BATCH_ID).distinct().collect() if r[0] is not None}
        if mode != "overwrite" and before is not None:
            batches |= set(before.get("batch_ids", []))
        entry["batch_ids"] = sorted(batches)
    return entry
