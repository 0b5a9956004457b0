"""Synthetic gold tables matching ``schemas.GOLD``, with nulls where the gold layer has them.

Used by the export and MongoDB dataset tests and by the export and API benches.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from medallion_kedro.schemas import GOLD, GOLD_TABLES

AS_OF = dt.date(2026, 10, 31)
COUNTRIES = ["France", "Germany", "Spain", "Italy", "United Kingdom", "Japan", "Brazil"]
PRODUCTS = ["laptop", "smartphone", "headphones", "monitor", "keyboard", "mouse"]
SEGMENTS = ["Champions", "Loyal", "At Risk", "Hibernating", "Inactive"]


def customer_metrics(n: int, seed: int = 7) -> pl.DataFrame:
    """``n`` customers; one in ten has no orders (null basket, dates, recency and score)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1, dtype=np.int64)
    idle = ids % 10 == 0
    orders = np.where(idle, 0, rng.integers(1, 40, n))
    spent = np.where(idle, 0.0, np.round(rng.uniform(5, 5000, n), 2))
    first = [
        None if i else dt.datetime(2024, 11, 1, 8, 30) + dt.timedelta(minutes=int(m))
        for i, m in zip(idle, rng.integers(0, 500_000, n), strict=True)
    ]
    last = [None if f is None else f + dt.timedelta(days=30) for f in first]
    frame = pl.DataFrame(
        {
            "customer_id": ids,
            "name": [f"Customer {i}" for i in ids],
            "email": [f"customer{i}@example.org" for i in ids],
            "signup_date": [dt.date(2024, 1, 1) + dt.timedelta(days=int(i % 600)) for i in ids],
            "country": [COUNTRIES[i % len(COUNTRIES)] for i in ids],
            "total_spent": spent,
            "order_count": orders,
            "avg_basket": [
                None if o == 0 else round(s / o, 2) for s, o in zip(spent, orders, strict=True)
            ],
            "first_order": first,
            "last_order": last,
            "recency_days": [None if x is None else (AS_OF - x.date()).days for x in last],
            "rfm_score": [
                None if i else f"{1 + k % 5}{1 + k % 4}{1 + k % 3}"
                for k, i in zip(range(n), idle, strict=True)
            ],
            "segment": ["Inactive" if i else SEGMENTS[k % 4] for k, i in enumerate(idle)],
        }
    )
    return frame.cast(GOLD["customer_metrics"])


def _revenue(key: str, values: list[str], avg: str) -> pl.DataFrame:
    n = len(values)
    orders = [10 * (i + 1) for i in range(n)]
    revenue = [round(123.45 * (i + 1) ** 1.5, 2) for i in range(n)]
    return pl.DataFrame(
        {
            key: values,
            "total_revenue": revenue,
            "total_orders": orders,
            avg: [round(r / o, 2) for r, o in zip(revenue, orders, strict=True)],
        }
    )


def gold_tables(n_customers: int = 200) -> dict[str, pl.DataFrame]:
    """Every gold table, each checked against its contract."""
    months = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
    tables = {
        "revenue_by_country": _revenue("country", COUNTRIES, "avg_basket"),
        "revenue_by_product": _revenue("product", PRODUCTS, "avg_price"),
        "monthly_revenue": _revenue("month", months, "avg_basket"),
        "customer_metrics": customer_metrics(n_customers),
        "segments": pl.DataFrame(
            {
                "segment": SEGMENTS,
                "customers": [n_customers // 8, n_customers // 4, 11, 7, 3],
                "total_spent": [98765.43, 4567.89, 1234.5, 99.99, 0.0],
                "avg_basket": [123.45, 67.8, 45.67, 33.33, None],
            }
        ),
        "kpis": pl.DataFrame(
            {
                "total_revenue": [123456.78],
                "total_orders": [4321],
                "total_customers": [n_customers],
                "active_customers": [n_customers // 2],
                "avg_basket": [28.57],
                "revenue_growth_last_month": [None],
                "as_of": [AS_OF],
            }
        ),
    }
    return {
        name: frame.cast(schema).select(schema.names())
        if (frame := tables.get(name)) is not None
        else from_contract(name)
        for name, schema in GOLD.items()
    }


#: Sample values of each column type, for tables without a hand-made sample above.
_VALUES: dict[type[pl.DataType], list[object]] = {
    pl.String: ["alpha", "beta", "gamma"],
    pl.Int64: [3, 2, 1],
    pl.Float64: [1.5, -2.25, 0.0],
    pl.Decimal: [300.0, 200.5, 100.25],
    pl.Date: [AS_OF, AS_OF - dt.timedelta(days=1), AS_OF - dt.timedelta(days=2)],
    pl.Datetime: [
        dt.datetime(2026, 10, 30, 12),
        dt.datetime(2026, 10, 29),
        dt.datetime(2026, 1, 1),
    ],
}


def from_contract(table: str) -> pl.DataFrame:
    """Three rows of ``gold.<table>`` made from its contract alone (one row for a table
    without a key), so a new gold table needs no hand-made sample to be exported."""
    rows = 1 if GOLD_TABLES[table].key is None else 3
    schema = GOLD[table]
    return pl.DataFrame({c: _VALUES[t.base_type()][:rows] for c, t in schema.items()}).cast(schema)


def write_gold_lake(root: Path, n_customers: int = 200) -> Path:
    """A lake at ``root`` whose only tables are :func:`gold_tables`, Delta tables published
    together in one commit (what ``kedro run --pipelines gold`` leaves for the export to
    read). Returns ``root``."""
    from medallion_kedro import lake as lakes
    from medallion_kedro.datasets.delta_table import DeltaTableDataset

    lake = lakes.lake_at(str(root))
    transaction = lakes.Transaction(lake, lakes.new_run_id())
    lakes.begin(transaction)
    try:
        for name, frame in gold_tables(n_customers=n_customers).items():
            path = str(root / "gold" / name)
            DeltaTableDataset(filepath=path, save_args={"mode": "overwrite"}).save(frame)
        transaction.commit(transaction.pending())
    finally:
        lakes.end(lake)
    return root
