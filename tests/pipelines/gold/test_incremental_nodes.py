"""Gold's nodes maintained from silver's changes equal the nodes computed from every row.

In-process, on polars frames: a random silver, gold computed from it, a random change of
silver (orders added, deleted, corrected; customers added, renamed, moved, deleted) and
a later ``as_of``; gold from the previous gold and the changes must equal gold computed
from the changed silver, table by table, to the cent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from medallion_kedro.datasets.table_changes import TableChanges
from medallion_kedro.lake import KeyedChanges
from medallion_kedro.pipelines.gold import nodes

MONEY = pl.Decimal(18, 2)
PARAMS = {"active_window_days": 30}
FULL = TableChanges.unknown("computed from every row")
START = dt.datetime(2026, 1, 1)

cents = st.integers(1, 50_000).map(lambda c: Decimal(c) / 100)
order_row = st.fixed_dictionaries(
    {
        "customer_id": st.integers(1, 8),
        "order_ts": st.integers(0, 300 * 24).map(lambda h: START + dt.timedelta(hours=h)),
        "amount": cents,
        "product": st.sampled_from(["laptop", "mouse", None]),
    }
)
customer_row = st.fixed_dictionaries(
    {"name": st.sampled_from(["A", "B"]), "country": st.sampled_from(["France", "Spain", None])}
)


def _orders(rows: dict[int, dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "order_ts": pl.Datetime("us"),
        "amount": MONEY,
        "product": pl.String,
    }
    return pl.DataFrame([{"order_id": k, **v} for k, v in sorted(rows.items())], schema=schema)


def _customers(rows: dict[int, dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "customer_id": pl.Int64,
        "name": pl.String,
        "email": pl.String,
        "signup_date": pl.Date,
        "country": pl.String,
    }
    return pl.DataFrame(
        [
            {"customer_id": k, "email": f"c{k}@x.io", "signup_date": dt.date(2025, 1, 1), **v}
            for k, v in sorted(rows.items())
        ],
        schema=schema,
    )


def _changes(before: pl.DataFrame, after: pl.DataFrame) -> TableChanges:
    """What the changes dataset gives: the rows only one side has."""
    same = {"on": after.columns, "how": "anti", "nulls_equal": True}
    return TableChanges(before.join(after, **same), after.join(before, **same))  # type: ignore[arg-type]


def _applied(previous: pl.DataFrame, changes: KeyedChanges) -> pl.DataFrame:
    """A keyed table after the changes (the meaning of KeyedChanges)."""
    kept = previous.join(changes.keys, on="customer_id", how="anti")
    return pl.concat([kept, changes.rows]).sort("customer_id")


def _gold(
    orders: pl.DataFrame,
    customers: pl.DataFrame,
    as_of: dt.date,
    previous: dict[str, pl.DataFrame] | None = None,
    order_changes: TableChanges = FULL,
    customer_changes: TableChanges = FULL,
) -> dict[str, pl.DataFrame]:
    before = previous or {}
    empty = pl.DataFrame()
    metrics = nodes.customer_metrics(
        orders,
        customers,
        order_changes,
        customer_changes,
        before.get("customer_metrics", empty),
        as_of,
        PARAMS,
    )
    return {
        "revenue_by_product": nodes.revenue_by_product(
            orders, order_changes, before.get("revenue_by_product", empty)
        ),
        "monthly_revenue": nodes.monthly_revenue(
            orders, order_changes, before.get("monthly_revenue", empty)
        ),
        "customer_metrics": _applied(before.get("customer_metrics", empty.clear()), metrics)
        if before
        else metrics.rows,
    }


@st.composite
def silver_and_change(draw: st.DrawFn) -> dict[str, Any]:
    customers = draw(st.dictionaries(st.integers(1, 8), customer_row, min_size=1))
    orders = draw(st.dictionaries(st.integers(1, 40), order_row, max_size=30))
    later = {k: dict(v) for k, v in customers.items()}
    for key in draw(st.sets(st.sampled_from(sorted(customers)))):  # moved or renamed
        later[key] = draw(customer_row)
    later.update(draw(st.dictionaries(st.integers(9, 12), customer_row, max_size=2)))  # new
    for key in draw(st.sets(st.sampled_from(sorted(later)), max_size=1)):  # deleted
        del later[key]
    changed = {k: dict(v) for k, v in orders.items()}
    for key in draw(st.sets(st.sampled_from(sorted(orders)))) if orders else []:
        changed[key] = {**changed[key], **draw(order_row)}  # corrected
    for key in draw(st.sets(st.sampled_from(sorted(orders)))) if orders else []:
        changed.pop(key, None)  # retracted
    changed.update(draw(st.dictionaries(st.integers(41, 60), order_row, max_size=8)))  # new
    days = draw(st.integers(0, 60)), draw(st.integers(0, 60))
    # silver holds only the orders of known customers
    return {
        "before": (
            _orders({k: v for k, v in orders.items() if v["customer_id"] in customers}),
            _customers(customers),
        ),
        "after": (
            _orders({k: v for k, v in changed.items() if v["customer_id"] in later}),
            _customers(later),
        ),
        "as_of": [dt.date(2026, 11, 1) + dt.timedelta(days=d) for d in days],
    }


@settings(max_examples=150, deadline=None)
@given(case=silver_and_change())
def test_gold_from_changes_equals_gold_from_every_row(case: dict[str, Any]) -> None:
    (orders_0, customers_0), (orders_1, customers_1) = case["before"], case["after"]
    first, second = case["as_of"]
    previous = _gold(orders_0, customers_0, first)
    maintained = _gold(
        orders_1,
        customers_1,
        second,
        previous,
        _changes(orders_0, orders_1),
        _changes(customers_0, customers_1),
    )
    recomputed = _gold(orders_1, customers_1, second)
    for table, expected in recomputed.items():
        got = maintained[table]
        assert got.sort(got.columns[0]).equals(expected.sort(expected.columns[0])), (
            f"{table} differs:\n{got}\nexpected\n{expected}"
        )
