from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from medallion_kedro.pipelines.gold import nodes, rfm

ORDERS = pl.DataFrame(
    {
        "order_id": [1, 2, 3, 4],
        "customer_id": [1, 1, 2, 2],
        "order_ts": [
            dt.datetime(2026, 9, 5),
            dt.datetime(2026, 10, 1),
            dt.datetime(2026, 10, 20),
            dt.datetime(2026, 8, 31, 23),
        ],
        "amount": [10.005, 0.01, 3.333, 100.0],
        "product": ["Laptop", "Mouse", "Mouse", "Laptop"],
    }
)
CUSTOMERS = pl.DataFrame(
    {
        "customer_id": [1, 2, 3],
        "name": ["A", "B", "C"],
        "email": ["a@x.io", "b@x.io", "c@x.io"],
        "signup_date": [dt.date(2024, 1, 1)] * 3,
        "country": ["France", "Spain", "Spain"],
    }
)


def test_money_is_rounded_only_in_gold() -> None:
    by_product = nodes.revenue_by_product(ORDERS.lazy())
    laptop = by_product.filter(pl.col("product") == "Laptop").row(0, named=True)
    assert laptop == {
        "product": "Laptop",
        "total_revenue": pytest.approx(110.0),
        "total_orders": 2,
        "avg_price": pytest.approx(55.0),
    }
    mouse = by_product.filter(pl.col("product") == "Mouse").row(0, named=True)
    assert mouse["total_revenue"] == pytest.approx(3.34)  # 0.01 + 3.333 summed, then rounded


def test_monthly_revenue_is_sorted_by_month() -> None:
    monthly = nodes.monthly_revenue(ORDERS)
    assert monthly["month"].to_list() == ["2026-08", "2026-09", "2026-10"]
    assert monthly["total_orders"].to_list() == [1, 1, 2]


def test_customer_without_orders_is_inactive() -> None:
    metrics = nodes.customer_metrics(ORDERS, CUSTOMERS, "2026-11-01")
    c3 = metrics.filter(pl.col("customer_id") == 3).row(0, named=True)
    assert (c3["total_spent"], c3["order_count"], c3["segment"]) == (0.0, 0, "Inactive")
    assert c3["avg_basket"] is None and c3["rfm_score"] is None and c3["recency_days"] is None
    c1 = metrics.filter(pl.col("customer_id") == 1).row(0, named=True)
    assert c1["recency_days"] == 31 and c1["first_order"] == dt.datetime(2026, 9, 5)


def test_as_of_defaults_to_the_day_after_the_last_order() -> None:
    assert nodes.resolve_as_of(None, ORDERS.lazy()) == dt.date(2026, 10, 21)


def test_kpis_growth_of_last_complete_month() -> None:
    monthly = nodes.monthly_revenue(ORDERS)
    metrics = nodes.customer_metrics(ORDERS, CUSTOMERS, "2026-11-01")
    kpis = nodes.kpis(ORDERS, metrics, monthly, "2026-11-01", {"active_window_days": 30})
    row = kpis.row(0, named=True)
    october, september = 0.01 + 3.333, 10.005
    assert row["revenue_growth_last_month"] == pytest.approx(
        round((round(october, 2) / round(september, 2) - 1) * 100, 2)
    )
    assert row["active_customers"] == 1  # customer 2, 12 days; customer 1 is 31 days ago
    assert (row["total_orders"], row["total_customers"]) == (4, 3)
    assert row["as_of"] == dt.date(2026, 11, 1)


def test_rfm_quintiles_and_segments() -> None:
    scores = pl.DataFrame({"v": [10, 20, 30, 40, 50, None]}).select(rfm.quintile(pl.col("v")))
    assert scores.to_series().to_list() == [1, 2, 3, 4, 5, None]
    frame = pl.DataFrame({"r": [5, 3, 4, 1, 2, 3, None], "f": [4, 3, 1, 4, 2, 1, None]})
    segments = frame.select(rfm.segment(pl.col("r"), pl.col("f"))).to_series().to_list()
    assert segments == [
        "Champions",
        "Loyal",
        "New",
        "At Risk",
        "Hibernating",
        "Needs Attention",
        "Inactive",
    ]
