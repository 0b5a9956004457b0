"""Incremental silver helpers: pending batches and the rows of a batch in ingestion order."""

from __future__ import annotations

import datetime as dt

import polars as pl

from medallion_kedro.pipelines.bronze.batches import LEDGER
from medallion_kedro.pipelines.silver.incremental import new_rows, pending_batches

T0 = dt.datetime(2026, 11, 1, 10)


def _bronze(rows: list[tuple[str, dt.datetime, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["order_id", "_ingested_at", "_source_file", "_source_row"], orient="row"
    ).with_columns(_batch_id=pl.col("_source_file"))


def test_new_rows_are_in_ingestion_order_whatever_the_scan_order() -> None:
    later = T0 + dt.timedelta(hours=1)
    rows = [("c", later, "b.csv", 1), ("b", T0, "a.csv", 2), ("a", T0, "a.csv", 1),
            ("x", T0, "z.csv", 1)]  # fmt: skip
    got = new_rows(_bronze(rows), {"orders": ["a.csv", "b.csv"]}, "orders").collect()
    assert got["order_id"].to_list() == ["a", "b", "c"]
    in_order = _bronze([rows[2], rows[1], rows[0]])
    assert new_rows(in_order, {"orders": ["a.csv", "b.csv"]}, "orders").collect().equals(in_order)


def test_pending_batches_are_the_ledger_minus_the_applied_ones() -> None:
    ledger = pl.DataFrame(
        [("orders", "b2", "o2.csv", 1, 0.0, 1, T0), ("orders", "b1", "o1.csv", 1, 0.0, 1, T0),
         ("customers", "c1", "c1.csv", 1, 0.0, 1, T0)],
        schema=LEDGER, orient="row",
    )  # fmt: skip
    applied = pl.DataFrame({"batch_id": ["b1"]})
    empty = pl.LazyFrame()
    assert pending_batches(ledger, applied, empty, empty) == {
        "customers": ["c1"],
        "orders": ["b2"],
    }
    legacy = _bronze([("a", T0, "a.csv", 1)])  # bronze of an older release: no ledger rows
    assert pending_batches(pl.LazyFrame(), pl.LazyFrame(), legacy, legacy)["orders"] == ["a.csv"]
