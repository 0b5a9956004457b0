"""Whether a ``kedro run`` of the lakehouse would change nothing: no new landing file (by
content), silver built from exactly the live batches, and gold built after the silver it
reads."""

from __future__ import annotations

from typing import Any

from medallion_kedro import frames
from medallion_kedro.pipelines.bronze.batches import new_files
from medallion_kedro.pipelines.silver.incremental import plan_batches
from medallion_kedro.schemas import GOLD, TABLES


def _run_of(record: dict[str, Any], key: str) -> str | None:
    entry = record.get("tables", {}).get(key)
    return None if entry is None else str(entry.get("run_id"))


def nothing_new(catalog: Any) -> str | None:
    """The one line to print when a run would change nothing, else None.

    ``catalog`` is the project's catalog; the datasets are read directly (no node runs).
    """
    ledger = frames.collect(catalog.get("previous.bronze_batches").load())
    for table in TABLES:
        if new_files(catalog.get(f"landing.{table}").load(), ledger, table):
            return None
    if ledger.is_empty():
        return None  # nothing ingested yet (or bronze of an older release): run
    plans = plan_batches(
        ledger,
        catalog.get("bronze.retractions").load(),
        catalog.get("previous.batch_reconciliation").load(),
        catalog.get("previous.reconciliation").load(),
        *(catalog.get(f"bronze.{table}").load() for table in TABLES),
    )
    if any(plan.new or plan.full for plan in plans.values()):
        return None
    record = catalog.get("silver.orders").lake.read_record()
    silver = [_run_of(record, f"silver.{t}") for t in TABLES]
    gold = [_run_of(record, f"gold.{t}") for t in GOLD]
    if None in silver or None in gold:
        return None
    if min(str(g) for g in gold) < max(str(s) for s in silver):
        return None  # gold is older than the silver it reads: rebuild it
    return (
        f"Nothing new: every landing file is already in the lake ({ledger.height} batches) and "
        "gold is up to date; drop export files into landing/<table>/ and run again."
    )
