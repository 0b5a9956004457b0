"""Delta Lake read and written by Spark itself (delta-spark), from the executors.

:class:`~medallion_kedro.datasets.SparkLakeTableDataset` calls these with the version the
lake's commit record names (reads) and turns what a write did into the record's entry
(writes); staging, the lake lock and the gates stay the dataset's. No table's rows pass
through the driver: only each write's metrics and its distinct batch ids do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import medallion_kedro.lake as lakes
from medallion_kedro.datasets.delta_table import repeated_keys_error
from medallion_kedro.schemas import BATCH_ID

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: The marker column of :func:`apply_changes`' source: set where a changed key has a row.
_HAS_ROW = "__medallion_has_row"


def read(spark: SparkSession, uri: str, version: int) -> DataFrame:
    """Delta ``version`` of the table at ``uri``."""
    return spark.read.format("delta").option("versionAsOf", version).load(uri)


def lake_types(frame: DataFrame) -> DataFrame:
    """``frame`` with each ``timestamp`` column as ``timestamp_ntz`` (its UTC wall clock,
    the session's time zone being UTC): the lake's times are naive UTC, as polars writes
    them, so both engines write one Delta schema."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    instants = [f.name for f in frame.schema.fields if isinstance(f.dataType, TimestampType)]
    if not instants:
        return frame
    return frame.withColumns({c: F.col(c).cast("timestamp_ntz") for c in instants})


def refuse_repeated_keys(frame: DataFrame, keys: Sequence[str], table: str) -> None:
    """A MERGE source must name each key once: say which key repeats (a distributed
    count per key; at most three keys come to the driver)."""
    repeated = frame.groupBy(*keys).count().filter("count > 1").limit(3).collect()
    if repeated:
        raise repeated_keys_error(table, list(keys), [tuple(row)[:-1] for row in repeated])


def write(
    frame: DataFrame,
    uri: str,
    *,
    mode: str,
    predicate: str | None,
    run_id: str,
    before: lakes.Entry | None,
) -> lakes.Entry:
    """Write one Delta version of ``uri``: ``append`` or ``overwrite`` with
    ``DataFrameWriter.format("delta")``, ``merge`` with ``DeltaTable.merge`` on
    ``predicate`` (``s`` the new rows, ``t`` the table); return its commit record entry."""
    from delta.tables import DeltaTable

    frame = lake_types(frame)
    if mode == "merge":
        assert predicate is not None
        (
            DeltaTable.forPath(frame.sparkSession, uri)
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
    return _entry(frame.sparkSession, uri, mode, run_id, before, frame if mode != "merge" else None)


def apply_changes(
    rows: DataFrame,
    keys: DataFrame,
    uri: str,
    *,
    key_columns: Sequence[str],
    run_id: str,
    before: lakes.Entry,
) -> lakes.Entry:
    """Apply :class:`~medallion_kedro.lake.changes.KeyedChanges` with one ``MERGE``: each
    key of ``keys`` (and of ``rows``) with a row in ``rows`` is updated or inserted, each
    one without is deleted; other rows are not touched."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    rows = lake_types(rows)
    columns = rows.columns
    changed = keys.select(*key_columns).unionByName(rows.select(*key_columns)).distinct()
    source = changed.join(
        rows.withColumn(_HAS_ROW, F.lit(True)), on=list(key_columns), how="left"
    ).select(*columns, _HAS_ROW)
    on = " AND ".join(f"s.`{k}` = t.`{k}`" for k in key_columns)
    values: dict[str, str | Column] = {f"`{c}`": f"s.`{c}`" for c in columns}
    (
        DeltaTable.forPath(rows.sparkSession, uri)
        .alias("t")
        .merge(source.alias("s"), on)
        .whenMatchedDelete(condition=f"s.`{_HAS_ROW}` IS NULL")
        .whenMatchedUpdate(set=values)
        .whenNotMatchedInsert(condition=f"s.`{_HAS_ROW}`", values=values)
        .execute()
    )
    return _entry(rows.sparkSession, uri, "merge", run_id, before, None)


def _entry(
    spark: SparkSession,
    uri: str,
    mode: str,
    run_id: str,
    before: lakes.Entry | None,
    written: DataFrame | None,
) -> lakes.Entry:
    """The commit record entry of the version just written (the same fields as the
    delta-rs path's), from the Delta log's metrics. The batch ids are those of
    ``written`` (the rows of an append, with the table's, or of an overwrite); after a
    merge, the table's own (one column read)."""
    from delta.tables import DeltaTable

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
        deleted = int(metrics.get("numTargetRowsDeleted", 0))
        entry["merge"] = {
            "num_source_rows": int(metrics.get("numSourceRows", 0)),
            "num_target_rows_inserted": inserted,
            "num_target_rows_updated": int(metrics.get("numTargetRowsUpdated", 0)),
        }
        if deleted:
            entry["merge"]["num_target_rows_deleted"] = deleted
        entry["rows"] = previous + inserted - deleted
    else:
        written_rows = int(metrics.get("numOutputRows", 0))
        entry["rows"] = previous + written_rows if mode == "append" else written_rows
    source = written if written is not None else read(spark, uri, int(entry["version"]))
    if BATCH_ID in source.columns:
        batches = {r[0] for r in source.select(BATCH_ID).distinct().collect() if r[0] is not None}
        if mode == "append" and before is not None:
            batches |= set(before.get("batch_ids", []))
        entry["batch_ids"] = sorted(batches)
    return entry
