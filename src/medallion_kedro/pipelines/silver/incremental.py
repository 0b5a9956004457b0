"""Incremental silver: only the rows of bronze batches not applied yet are typed and
checked, by the silver rules of :mod:`.nodes` unchanged, then MERGEd into silver by
business key.

The last ingested valid row of a key wins, across batches too: a later export's correction
updates silver (the row it replaces is counted as superseded, with the duplicates).
Quarantine and warnings are appended, with their batch id. ``quality.batch_reconciliation``
lists each applied batch (also the ledger of what silver has applied) and
``quality.reconciliation`` the cumulative counts, which must hold
``bronze = silver + rejected + duplicates`` over the whole history: a run that would break
it fails before anything is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import narwhals as nw
import polars as pl
from narwhals.typing import IntoFrame

from medallion_kedro import frames
from medallion_kedro.pipelines.bronze.batches import SOURCE_ROW, bronze_schema
from medallion_kedro.pipelines.silver.nodes import ReconciliationError
from medallion_kedro.schemas import (
    BRONZE_META,
    DUPLICATE_REASON,
    KEYS,
    REASON,
    SILVER,
    Frame,
    _schema,
)

log = logging.getLogger(__name__)

BATCH = BRONZE_META[2]

#: One row per (batch, table) applied to silver.
BATCH_RECONCILIATION = _schema(
    {
        "batch_id": pl.String,
        "table": pl.String,
        "source_file": pl.String,
        "bronze_rows": pl.Int64,
        "silver_rows": pl.Int64,
        "rejected_rows": pl.Int64,
        "duplicates_removed": pl.Int64,
        "applied_at": pl.Datetime("us"),
    }
)


def pending_batches(
    ledger: IntoFrame, applied: IntoFrame, bronze_customers: IntoFrame, bronze_orders: IntoFrame
) -> dict[str, list[str]]:
    """Per table, the batch ids bronze holds and silver has not applied, in ingestion order.

    The batches come from the ledger (``bronze.batches``); a table the ledger does not know
    (bronze written by an older release, one batch per run) lists the batch ids of its
    bronze rows instead, in the order of their ingestion time.
    """
    done = frames.collect(applied)
    seen = set(done.get_column("batch_id")) if done.width else set()
    rows = frames.collect(ledger)
    listed = rows.sort("ingested_at", "source_file", maintain_order=True) if rows.width else rows
    bronze = {"customers": bronze_customers, "orders": bronze_orders}
    pending: dict[str, list[str]] = {}
    for table in KEYS:
        ids: list[str] = (
            listed.filter(pl.col("table") == table).get_column("batch_id").to_list()
            if rows.width
            else []
        )
        if not ids:
            found = (
                frames.lazy(bronze[table])
                .filter(~nw.col(BATCH).is_null())
                .group_by(BATCH)
                .agg(nw.col(BRONZE_META[0]).min())
                .sort(BRONZE_META[0], BATCH)
            )
            ids = frames.collect(found).get_column(BATCH).to_list()
        pending[table] = [b for b in ids if b not in seen]
    log.debug("silver: batches to apply: %s",
              ", ".join(f"{t} {len(b)}" for t, b in pending.items()))  # fmt: skip
    return pending


def new_rows(bronze: IntoFrame, pending: dict[str, list[str]], table: str) -> Any:
    """The bronze rows of the pending batches of ``table``, in ingestion order where rows
    have an order (polars), on the engine of ``bronze``.

    Lazy: when the scan already gives the rows in ingestion order (the usual case: bronze
    is appended to in that order), the silver nodes stream them from bronze instead of
    holding every text column of every new row in memory. Only the order columns are read
    to check it; otherwise the rows are collected and sorted (see :func:`frames.in_order`).
    """
    batches = pending.get(table, [])
    rows = frames.lazy(bronze)
    names = rows.collect_schema().names()
    if not batches:  # no rows, on the engine of bronze when there is a bronze table
        return rows.head(0).to_native() if names else pl.LazyFrame(schema=bronze_schema(table))
    order = [c for c in (*BRONZE_META[:2], SOURCE_ROW) if c in names]
    present = frames.collect(rows.select(BATCH).unique()).get_column(BATCH)
    if set(present.drop_nulls()) <= set(batches):
        found = rows  # every batch of bronze is new (a first run): no filter to apply
    else:
        found = rows.filter(nw.col(BATCH).is_in(batches))
    return frames.in_order(found, order).to_native()


def _keys(previous: IntoFrame, table: str) -> nw.LazyFrame[Any]:
    """The business keys silver holds (only that column is read)."""
    frame = frames.lazy(previous)
    if not frame.collect_schema().names():
        empty = pl.DataFrame(schema={KEYS[table]: SILVER[table][KEYS[table]]})
        return nw.from_native(empty).lazy()
    return frame.select(KEYS[table])


def known_customers(previous: IntoFrame, new: IntoFrame) -> Any:
    """The customers an order may reference: silver's, and the valid ones of this run (one
    column, on the engine of ``new``: on Spark they stay on the executors, and
    :func:`.nodes.flag_orders` joins with them)."""
    valid = frames.lazy(new).select("customer_id")
    if not frames.lazy(previous).collect_schema().names():  # no silver yet
        return frames.to_native(valid.unique())
    return frames.to_native(nw.concat([_keys(previous, "customers"), valid]).unique())


def _per_batch(
    bronze_new: IntoFrame, rejected: IntoFrame, table: str, now: dt.datetime
) -> pl.DataFrame:
    """Counts of each batch of this run: bronze, rejected, duplicates; silver the rest.

    One row per batch, in ingestion order (a batch is one landing file: one ingestion time
    and source file)."""
    counts = (
        frames.lazy(bronze_new)
        .group_by(BATCH)
        .agg(
            nw.col(BRONZE_META[0]).min(),
            nw.col(BRONZE_META[1]).min().alias("source_file"),
            nw.len().alias("bronze_rows"),
        )
    )
    lost = (
        frames.lazy(rejected)
        .group_by(BATCH)
        .agg(
            (nw.col(REASON) != DUPLICATE_REASON).cast(nw.Int64).sum().alias("rejected_rows"),
            (nw.col(REASON) == DUPLICATE_REASON).cast(nw.Int64).sum().alias("duplicates_removed"),
        )
    )
    lost_rows = nw.col("rejected_rows").fill_null(0)
    duplicates = nw.col("duplicates_removed").fill_null(0)
    out = counts.join(lost, on=BATCH, how="left").sort(BRONZE_META[0], "source_file", BATCH)
    return frames.collect(
        out.select(
            nw.col(BATCH).cast(nw.String).alias("batch_id"),
            nw.lit(table, dtype=nw.String).alias("table"),
            nw.col("source_file").cast(nw.String),
            nw.col("bronze_rows").cast(nw.Int64),
            (nw.col("bronze_rows") - lost_rows - duplicates).cast(nw.Int64).alias("silver_rows"),
            lost_rows.cast(nw.Int64).alias("rejected_rows"),
            duplicates.cast(nw.Int64).alias("duplicates_removed"),
            nw.lit(now, dtype=nw.Datetime("us")).alias("applied_at"),
        )
    )


def _cumulative(
    table: str,
    before: dict[str, dict[str, int]],
    run: dict[str, int],
    silver_before: int,
    new_silver: IntoFrame,
    previous: nw.LazyFrame[Any],
    bronze: IntoFrame,
) -> dict[str, Any]:
    """Cumulative counts of ``table`` after merging this run's valid rows into silver."""
    key = KEYS[table]
    prior = before.get(table, {})
    if prior.get("silver_rows", 0) != silver_before:
        raise ReconciliationError(
            f"silver.{table} holds {silver_before} rows but quality.reconciliation counted "
            f"{prior.get('silver_rows', 0)}: silver changed outside a reconciled run. "
            "Nothing was written; roll it back with `kedro lake rollback` or rebuild the lake."
        )
    new = frames.lazy(new_silver)
    updated = frames.rows(new.select(key).join(previous, on=key, how="semi"))
    new_rows_ = frames.rows(new)
    row: dict[str, Any] = {
        "table": table,
        "bronze_rows": frames.rows(bronze),
        "silver_rows": silver_before + new_rows_ - updated,
        "rejected_rows": prior.get("rejected_rows", 0) + run["rejected_rows"],
        "duplicates_removed": prior.get("duplicates_removed", 0)
        + run["duplicates_removed"]
        + updated,
        "warning_rows": prior.get("warning_rows", 0) + run["warning_rows"],
    }
    row["balanced"] = row["bronze_rows"] == (
        row["silver_rows"] + row["rejected_rows"] + row["duplicates_removed"]
    )
    log.info("silver.%s: %d new valid rows, %d of them supersede earlier rows; cumulative %s",
             table, new_rows_, updated, row)  # fmt: skip
    if not row["balanced"]:
        raise ReconciliationError(
            f"silver.{table} would not reconcile over its history: bronze holds "
            f"{row['bronze_rows']} rows but silver {row['silver_rows']} + rejected "
            f"{row['rejected_rows']} + duplicates and superseded {row['duplicates_removed']} "
            f"differ. Nothing was written: a batch is in bronze twice or was never applied."
        )
    return row


def merge_batches(  # noqa: PLR0913
    report: pl.DataFrame,
    silver_customers: pl.DataFrame,
    rejected_customers: pl.DataFrame,
    silver_orders: pl.DataFrame,
    rejected_orders: pl.DataFrame,
    warnings: pl.DataFrame,
    mappings: pl.DataFrame,
    bronze_customers: Frame,
    bronze_orders: Frame,
    new_customers: Frame,
    new_orders: Frame,
    previous_customers: Frame,
    previous_orders: Frame,
    previous_reconciliation: Frame,
) -> tuple[
    pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame,
    pl.DataFrame, pl.DataFrame, pl.DataFrame,
]:  # fmt: skip
    """Release this run's rows, once the history reconciles: valid rows to MERGE into
    silver, quarantine and warnings to append, the cumulative and per-batch counts.

    ``report`` is :func:`.nodes.reconcile`'s check of this run's rows alone.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    prior = frames.collect(previous_reconciliation)
    before = {r["table"]: r for r in prior.iter_rows(named=True)} if prior.width else {}
    run = {r["table"]: r for r in report.iter_rows(named=True)}
    previous = {"customers": _keys(previous_customers, "customers"),
                "orders": _keys(previous_orders, "orders")}  # fmt: skip
    rows = [
        _cumulative(
            table, before, run[table], frames.rows(previous[table]), new, previous[table], bronze
        )
        for table, new, bronze in (
            ("customers", silver_customers, bronze_customers),
            ("orders", silver_orders, bronze_orders),
        )
    ]
    cumulative = pl.DataFrame(rows, schema=report.schema, orient="row")
    per_batch = pl.concat(
        [
            _per_batch(new_customers, rejected_customers, "customers", now),
            _per_batch(new_orders, rejected_orders, "orders", now),
        ]
    )
    return (
        silver_customers,
        rejected_customers,
        silver_orders,
        rejected_orders,
        cumulative,
        warnings,
        mappings,
        per_batch,
    )
