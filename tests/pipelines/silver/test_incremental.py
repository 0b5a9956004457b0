"""Incremental silver helpers: the live batches, what a run applies, and the rows it checks
again, in export order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from medallion_kedro.datasets import DeltaTableDataset
from medallion_kedro.lake import KeyedChanges, read_table
from medallion_kedro.pipelines.bronze.batches import LEDGER
from medallion_kedro.pipelines.bronze.ledger import RETRACTIONS, live_batches
from medallion_kedro.pipelines.silver.incremental import (
    EXPIRED_REASON,
    Expiry,
    Plan,
    Scope,
    candidate_rows,
    merge_customers,
    merge_orders,
    plan_batches,
    quarantine_schema,
    waiting_schema,
)
from medallion_kedro.schemas import SILVER

T0 = dt.datetime(2026, 11, 1, 10)
LATER = T0 + dt.timedelta(hours=1)


def _ledger(rows: list[tuple[str, str, str, dt.datetime]]) -> pl.DataFrame:
    """Ledger rows (table, batch, file, ingested at)."""
    return pl.DataFrame(
        [(t, b, f, 1, 0.0, 1, at) for t, b, f, at in rows], schema=LEDGER, orient="row"
    )


def _bronze(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    """Bronze order rows (order_id, file, row in file); the batch is the file's name."""
    return pl.DataFrame(
        rows, schema=["order_id", "_source_file", "_source_row"], orient="row"
    ).with_columns(_batch_id=pl.col("_source_file"), _ingested_at=pl.lit(T0))


def test_live_batches_are_the_latest_of_each_file_name_in_name_order() -> None:
    ledger = _ledger([("orders", "b2", "o2.csv", T0), ("orders", "b1", "o1.csv", LATER),
                      ("orders", "b0", "o1.csv", T0),
                      ("customers", "c1", "c1.csv", T0)])  # fmt: skip
    assert live_batches(ledger, pl.LazyFrame()) == {"orders": ["b1", "b2"], "customers": ["c1"]}
    taken_back = pl.DataFrame(
        [("orders", "b2", "o2.csv", True, T0), ("orders", "b1", "o1.csv", True, T0),
         ("orders", "b1", "o1.csv", False, LATER)],
        schema=RETRACTIONS, orient="row",
    )  # fmt: skip
    assert live_batches(ledger, taken_back)["orders"] == ["b1"]  # b1's retraction undone


def test_a_run_checks_a_table_again_whole_when_an_applied_batch_is_no_longer_live() -> None:
    ledger = _ledger([("orders", "b1", "o1.csv", T0), ("orders", "b2", "o2.csv", LATER),
                      ("customers", "c1", "c1.csv", T0)])  # fmt: skip
    applied = pl.DataFrame({"table": ["orders", "customers"], "batch_id": ["b1", "c1"]})
    counted = pl.LazyFrame(schema={"table": pl.String, "waiting_rows": pl.Int64})
    empty = pl.LazyFrame()
    plans = plan_batches(ledger, empty, applied, counted, empty, empty)
    assert plans["orders"] == Plan("orders", ("b1", "b2"), ("b2",), full=False)
    assert plans["customers"] == Plan("customers", ("c1",), (), full=False)

    replaced = pl.concat([ledger, _ledger([("orders", "b3", "o1.csv", LATER)])])
    plans = plan_batches(replaced, empty, applied, counted, empty, empty)
    assert plans["orders"] == Plan("orders", ("b3", "b2"), ("b3", "b2"), full=True)
    assert not plans["customers"].full

    gone = pl.DataFrame([("customers", "c1", "c1.csv", True, LATER)], schema=RETRACTIONS,
                        orient="row")  # fmt: skip
    plans = plan_batches(ledger, gone, applied, counted, empty, empty)
    assert plans["customers"].full and plans["orders"].full  # known customers may shrink


def test_candidates_are_every_live_row_of_the_touched_keys_in_export_order() -> None:
    bronze = _bronze([("7", "o2.csv", 1), ("5", "o2.csv", 2), ("x", "o3.csv", 1),
                      ("5", "o1.csv", 2), ("6", "o1.csv", 1), ("5", "o0.csv", 1)])  # fmt: skip
    plan = Plan("orders", ("o1.csv", "o2.csv", "o3.csv"), ("o3.csv",), full=False)
    scope = Scope(plan, pl.DataFrame({"order_id": [5]}))
    got = candidate_rows(bronze, scope).lazy().collect()
    # o0.csv is not live; o3.csv is new (its unparsable key too); key 5 is touched
    assert got.select("order_id", "_source_file").rows() == [
        ("5", "o1.csv"), ("5", "o2.csv"), ("x", "o3.csv")
    ]  # fmt: skip
    whole = candidate_rows(bronze, Scope(Plan("orders", plan.live, (), full=True), scope.keys))
    assert whole.lazy().collect()["_source_file"].to_list() == [
        "o1.csv", "o1.csv", "o2.csv", "o2.csv", "o3.csv"
    ]  # fmt: skip


def _customers(ids: list[int], name: str) -> pl.DataFrame:
    """Silver customer rows of ``ids``, named ``<name><id>``."""
    return pl.DataFrame(
        [(i, f"{name}{i}", f"c{i}@example.com", dt.date(2024, 1, 1), "France") for i in ids],
        schema=SILVER["customers"], orient="row",
    )  # fmt: skip


def _silver_change(previous: pl.DataFrame, valid: pl.DataFrame, plan: Plan, scope: list[int]):
    keys = pl.DataFrame({"customer_id": scope}, schema={"customer_id": pl.Int64})
    rejected = pl.DataFrame(schema=quarantine_schema("customers"))
    merged = merge_customers(previous, pl.LazyFrame(), valid, rejected, Scope(plan, keys))
    return merged["silver"]


def _rejected(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    """Quarantined customer rows (key text, batch, row in the file)."""
    schema = quarantine_schema("customers")
    given = pl.DataFrame(rows, schema=["customer_id", "_batch_id", "_source_row"], orient="row")
    return given.with_columns(
        pl.lit(None, dtype=schema[c]).alias(c) for c in schema.names() if c not in given.columns
    ).select(schema.names())


def test_the_quarantine_changes_by_row_the_rows_of_the_keys_in_scope() -> None:
    """The quarantine's change deletes the previous rejections of the keys in scope, adds
    this check's, and leaves the others (another key, a key that is not a number)."""
    previous = _rejected([("3", "b1", 1), ("5", "b1", 2), ("x", "b1", 3), ("3", "b2", 1)])
    now = _rejected([("3", "b3", 4)])
    plan = Plan("customers", ("b1", "b2", "b3"), ("b3",), full=False)
    keys = pl.DataFrame({"customer_id": [3]}, schema={"customer_id": pl.Int64})
    changed = merge_customers(
        _customers([1], "old"), previous, _customers([], "new"), now, Scope(plan, keys)
    )["rejected"]
    assert isinstance(changed, KeyedChanges)
    assert changed.rows.equals(now)
    identities = pl.LazyFrame(changed.keys).collect().sort("_batch_id")
    assert identities.rows() == [("b1", 1), ("b2", 1), ("b3", 4)]
    left = changed.applied_to(previous).collect()
    assert sorted(left.select("customer_id", "_batch_id").rows()) == [
        ("3", "b3"), ("5", "b1"), ("x", "b1"),
    ]  # fmt: skip


def test_merge_customers_returns_the_new_state_of_the_keys_in_scope_only(tmp_path: Path) -> None:
    """Silver's change names every key in scope: a corrected key's row replaces it, a new
    key's row is added, a key in scope without a valid row (now rejected) is deleted, and
    no other row is part of the change; saved by key, the table is the rebuilt one."""
    previous = _customers([1, 2, 3, 4, 5], "old")
    valid = _customers([2, 6], "new")
    plan = Plan("customers", ("b1", "b2"), ("b2",), full=False)
    change = _silver_change(previous, valid, plan, [2, 3, 6])
    assert isinstance(change, KeyedChanges)
    assert change.rows.collect_schema() == SILVER["customers"]  # what the contract check sees
    assert change.rows.sort("customer_id").equals(valid)
    assert sorted(pl.LazyFrame(change.keys).collect()["customer_id"]) == [2, 3, 6]

    lake = tmp_path / "lake"
    table = DeltaTableDataset(
        filepath=str(lake / "silver" / "customers"),
        save_args={"mode": "merge", "keys": ["customer_id"]},
    )
    table.save(previous)
    table.save(change)
    got = read_table(str(lake), "silver", "customers").sort("customer_id")
    assert got.equals(pl.concat([_customers([1], "old"), _customers([2], "new"),
                                 _customers([4, 5], "old"), _customers([6], "new")]))  # fmt: skip


def test_a_whole_check_puts_every_key_of_the_table_in_the_change() -> None:
    """Checked again whole, every previous key is in scope: one no longer valid goes."""
    previous = _customers([1, 2, 3], "old")
    plan = Plan("customers", ("b1",), ("b1",), full=True)
    change = _silver_change(previous, _customers([1, 4], "new"), plan, [])
    assert sorted(pl.LazyFrame(change.keys).collect()["customer_id"]) == [1, 2, 3, 4]
    assert change.rows.sort("customer_id").equals(_customers([1, 4], "new"))


def _orders_rows(rows: list[tuple[str, str, int, str]], reason: str | None) -> pl.DataFrame:
    """Quarantined (``reason``) or waiting (None) order rows: key text, batch, row in the
    file, order time."""
    schema = quarantine_schema("orders") if reason else waiting_schema()
    given = pl.DataFrame(
        rows, schema=["order_id", "_batch_id", "_source_row", "order_ts"], orient="row"
    ).with_columns(customer_id=pl.lit("99"))
    if reason:
        given = given.with_columns(reason=pl.lit(reason))
    return given.with_columns(
        pl.lit(None, dtype=schema[c]).alias(c) for c in schema.names() if c not in given.columns
    ).select(schema.names())


def test_the_orders_quarantine_changes_only_where_an_order_expired_or_came_back() -> None:
    """Outside the scope, an order that waited too long before and still has is not part
    of the change; an order that waited and is now too old is added; one that was too old
    and no longer is (the clock went back) is deleted and waits again."""
    old, recent = "2026-01-01 10:00:00", "2026-11-20 10:00:00"
    previous = _orders_rows([("7", "b1", 1, old), ("9", "b1", 3, recent)], EXPIRED_REASON)
    waiting = _orders_rows([("8", "b1", 2, old)], None)
    plan = Plan("orders", ("b1", "b2"), ("b2",), full=False)
    scope = Scope(plan, pl.DataFrame(schema={"order_id": pl.Int64}))
    merged = merge_orders(
        pl.LazyFrame(), previous, waiting, pl.DataFrame(schema=SILVER["orders"]),
        pl.DataFrame(schema=quarantine_schema("orders")), scope,
        Expiry(90, "2026-12-01", "%Y-%m-%d %H:%M:%S"),
    )  # fmt: skip
    changed = merged["rejected"]
    assert isinstance(changed, KeyedChanges)
    assert changed.rows.select("order_id", "reason").rows() == [("8", EXPIRED_REASON)]
    identities = pl.LazyFrame(changed.keys).collect().sort("_source_row")
    assert identities.rows() == [("b1", 2), ("b1", 3)]  # 8 added, 9 deleted; 7 stays
    assert merged["waiting"]["order_id"].to_list() == ["9"]
