"""Gold marts: revenue by country, product and month, customer metrics and the KPI row.

Money is summed at full precision and rounded to 2 decimals here, and only here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from medallion_kedro.dates import parse_as_of
from medallion_kedro.pipelines.gold import rfm
from medallion_kedro.schemas import GOLD, Frame, check_schema

_MONEY = 2


def _money(expr: pl.Expr) -> pl.Expr:
    return expr.round(_MONEY)


def resolve_as_of(as_of: str | dt.date | None, orders: Frame) -> dt.date:
    """The reference date: ``as_of`` when set, else the day after the latest order."""
    if as_of:
        return parse_as_of(as_of)
    latest = orders.lazy().select(pl.col("order_ts").max()).collect().item()
    if latest is None:
        raise ValueError("as_of is not set and silver.orders is empty: set params as_of")
    return latest.date() + dt.timedelta(days=1)


def _revenue_by(orders: Frame, key: str, avg_name: str) -> pl.DataFrame:
    return (
        orders.lazy()
        .group_by(key)
        .agg(total_revenue=pl.col("amount").sum(), total_orders=pl.len().cast(pl.Int64))
        .with_columns(**{avg_name: _money(pl.col("total_revenue") / pl.col("total_orders"))})
        .with_columns(total_revenue=_money(pl.col("total_revenue")))
        .sort(["total_revenue", key], descending=[True, False])
        .collect()
    )


def revenue_by_country(orders: Frame, customers: Frame) -> pl.DataFrame:
    """Revenue, orders and average basket per customer country."""
    countries = customers.lazy().select("customer_id", "country")
    with_country = orders.lazy().join(countries, on="customer_id")
    out = _revenue_by(with_country, "country", "avg_basket")
    return check_schema(out, GOLD["revenue_by_country"], "gold.revenue_by_country")


def revenue_by_product(orders: Frame) -> pl.DataFrame:
    """Revenue, orders and average price per product."""
    out = _revenue_by(orders, "product", "avg_price")
    return check_schema(out, GOLD["revenue_by_product"], "gold.revenue_by_product")


def monthly_revenue(orders: Frame) -> pl.DataFrame:
    """Revenue, orders and average basket per calendar month ``YYYY-MM``."""
    months = orders.lazy().with_columns(month=pl.col("order_ts").dt.strftime("%Y-%m"))
    out = _revenue_by(months, "month", "avg_basket").sort("month")
    return check_schema(out, GOLD["monthly_revenue"], "gold.monthly_revenue")


def customer_metrics(orders: Frame, customers: Frame, as_of: str | None) -> pl.DataFrame:
    """Per customer: spend, order count, basket, first/last order, recency and RFM segment.

    Customers without orders have ``total_spent`` 0, ``order_count`` 0, null basket, dates,
    recency and score, and the segment ``Inactive`` (see :mod:`.rfm` for the rule).
    """
    reference = resolve_as_of(as_of, orders)
    per_customer = (
        orders.lazy()
        .group_by("customer_id")
        .agg(
            total_spent=pl.col("amount").sum(),
            order_count=pl.len().cast(pl.Int64),
            first_order=pl.col("order_ts").min(),
            last_order=pl.col("order_ts").max(),
        )
    )
    metrics = (
        customers.lazy()
        .join(per_customer, on="customer_id", how="left")
        .with_columns(
            total_spent=_money(pl.col("total_spent").fill_null(0.0)),
            order_count=pl.col("order_count").fill_null(0),
            avg_basket=_money(pl.col("total_spent") / pl.col("order_count")),
            recency_days=(pl.lit(reference) - pl.col("last_order").dt.date()).dt.total_days(),
        )
    )
    out = rfm.score(metrics.collect()).select(GOLD["customer_metrics"].names())
    out = out.sort("customer_id")
    return check_schema(out, GOLD["customer_metrics"], "gold.customer_metrics")


def _month_before(day: dt.date) -> str:
    return (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def kpis(
    orders: Frame,
    metrics: Frame,
    monthly: Frame,
    as_of: str | None,
    params: dict[str, Any],
) -> pl.DataFrame:
    """The one-row KPI table.

    ``active_customers``: customers whose last order is at most ``active_window_days``
    before ``as_of``. ``revenue_growth_last_month``: growth in percent of the last complete
    month before ``as_of`` over the month before it (null when that month had no revenue).
    """
    reference = resolve_as_of(as_of, orders)
    last = _month_before(reference)
    previous = _month_before(dt.date.fromisoformat(last + "-01"))
    months = monthly.lazy().select("month", "total_revenue").collect()
    revenue = dict(zip(months["month"], months["total_revenue"], strict=True))
    growth = (
        round((revenue.get(last, 0.0) / revenue[previous] - 1) * 100, _MONEY)
        if revenue.get(previous)
        else None
    )
    totals = orders.lazy().select(pl.col("amount").sum(), pl.len()).collect()
    total, count = float(totals.item(0, 0)), int(totals.item(0, 1))
    window = int(params["active_window_days"])
    customers = (
        metrics.lazy()
        .select(pl.len(), (pl.col("recency_days") <= window).sum().cast(pl.Int64))
        .collect()
    )
    n_customers, active = int(customers.item(0, 0)), int(customers.item(0, 1))
    out = pl.DataFrame(
        {
            "total_revenue": [round(total, _MONEY)],
            "total_orders": [count],
            "total_customers": [n_customers],
            "active_customers": [active],
            "avg_basket": [round(total / count, _MONEY) if count else 0.0],
            "revenue_growth_last_month": [growth],
            "as_of": [reference],
        },
        schema=GOLD["kpis"],
    )
    return check_schema(out, GOLD["kpis"], "gold.kpis")
