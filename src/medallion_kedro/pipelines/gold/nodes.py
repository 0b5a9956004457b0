"""Gold marts: revenue by country, product and month, customer metrics, RFM segments and
the KPI row.

Money is exact: silver amounts are ``Decimal(18, 2)``, sums are exact decimals, so every
total (by country, product, month, customer, the KPI row) adds up to the same cent, on
every build. Averages (``avg_basket``, ``avg_price``) are the exact sum divided by the
count, rounded once to the cent *half to even* (banker's rounding: 0.125 -> 0.12,
0.135 -> 0.14) with integer arithmetic, so two builds give the same cents whatever the
summation order. ``revenue_growth_last_month`` is a percentage, rounded half to even to 2
decimals from the exact monthly totals.

A customer without a recognised country and an order without a product are grouped under
``Unknown`` in gold (silver keeps them as null and lists them in ``quality.warnings``).

One implementation for every engine: the nodes take whatever frames the catalog gives
(polars by default, Spark DataFrames in the ``spark`` environment) and express the heavy
part (joins, group-bys, exact decimal sums, RFM) with narwhals, lazily. Each gold table is
small, so it is then collected to polars, where the money is finished with exact integer
arithmetic (``money_avg``) and the table is sorted and published through the lake.

Revenue by product and month and customer metrics are maintained from the published gold
and the rows silver changed since it was built, when those are known (``changes.*``,
:mod:`.changes`, docs/design/gold.md); else they are computed from every silver row.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl
from narwhals.typing import IntoFrame

from medallion_kedro import frames
from medallion_kedro.dates import AsOf, parse_as_of
from medallion_kedro.errors import UserError
from medallion_kedro.frames import collect, lazy
from medallion_kedro.lake import KeyedChanges
from medallion_kedro.pipelines.gold import rfm
from medallion_kedro.pipelines.gold.changes import (
    changed_rows,
    known,
    touched_customers,
    updated_sums,
)
from medallion_kedro.schemas import GOLD, MONEY

if TYPE_CHECKING:
    from medallion_kedro.datasets.table_changes import TableChanges

log = logging.getLogger(__name__)

#: Gold's label for a country or product silver could not recognise.
UNKNOWN = "Unknown"
_CENTS = 10**MONEY.scale


def _cents(total: pl.Expr) -> pl.Expr:
    """A decimal money sum as its whole number of cents (Int128)."""
    return total.cast(pl.Decimal(38, MONEY.scale)).to_physical()


def money_avg(total: pl.Expr, count: pl.Expr) -> pl.Expr:
    """``total / count`` rounded to the cent, half to even, exactly (null when count is 0)."""
    cents, n = _cents(total), count.cast(pl.Int128)
    q = cents // n
    twice_r = (cents - q * n) * 2
    up = (twice_r > n) | ((twice_r == n) & (q % 2 == 1))
    rounded = pl.when(up).then(q + 1).otherwise(q)
    return pl.when(n > 0).then((rounded.cast(pl.Decimal(38, 2)) / _CENTS).cast(MONEY))


def _money(total: pl.Expr) -> pl.Expr:
    """An exact sum back to the gold money type (fails loudly on overflow)."""
    return total.cast(MONEY, strict=True)


class UnreconciledSilverError(UserError, RuntimeError):
    """Silver does not hold the rows its reconciliation counted."""


def reconciled_silver(
    reconciliation: IntoFrame, orders: IntoFrame, customers: IntoFrame
) -> tuple[IntoFrame, IntoFrame]:
    """Release silver to gold only when it holds exactly the rows ``reconcile`` counted.

    ``quality.reconciliation`` is written in the same commit as silver; a silver table
    changed since (by hand, or by a run that never reconciled) is refused here, so gold is
    always built from reconciled silver. Counting a lake table reads only file footers.
    """
    report = collect(lazy(reconciliation).select("table", "silver_rows"))
    counted = dict(report.iter_rows())
    for table, frame in (("orders", orders), ("customers", customers)):
        rows = frames.rows(frame)
        if counted.get(table) != rows:
            raise UnreconciledSilverError(
                f"silver.{table} holds {rows} rows but quality.reconciliation counted "
                f"{counted.get(table)}: silver changed after it was reconciled. Rebuild it "
                "with `kedro run --pipelines silver`, then run gold."
            )
    return orders, customers


def reference_date(as_of: AsOf, orders: IntoFrame) -> dt.date:
    """The ``as_of`` of this gold build: the parameter when set, else the day after the
    latest valid order. Logged once, with where it came from."""
    if as_of:
        reference = parse_as_of(as_of)
        log.info("as_of %s: from the as_of parameter", reference)
        return reference
    latest = collect(lazy(orders).select(nw.col("order_ts").max())).item()
    if latest is None:
        raise ValueError(
            "as_of is not set and silver.orders is empty: nothing to date the build from. "
            "Pass --params as_of=YYYY-MM-DD or load orders first."
        )
    reference = latest.date() + dt.timedelta(days=1)
    log.info(
        "as_of %s: the day after the latest valid order (%s); set --params as_of=YYYY-MM-DD "
        "to choose another",
        reference,
        latest,
    )
    return reference


def active_window(params: dict[str, Any]) -> int:
    """``gold.active_window_days``, checked: a whole number of days, 0 or more."""
    days = params.get("active_window_days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(
            f"gold.active_window_days must be a whole number of days >= 0, got {days!r}: "
            "fix conf/base/parameters_gold.yml or --params gold.active_window_days=90"
        )
    return days


def _revenue_by(orders: nw.LazyFrame[Any], key: str, avg_name: str) -> pl.DataFrame:
    sums = collect(
        orders.group_by(key).agg(total_revenue=nw.col("amount").sum(), total_orders=nw.len())
    )
    return _revenue_table(sums, key, avg_name)


def _revenue_table(sums: pl.DataFrame, key: str, avg_name: str) -> pl.DataFrame:
    """Exact sums per ``key`` (``total_revenue``, ``total_orders``) as a revenue table."""
    return sums.with_columns(
        total_revenue=_money(pl.col("total_revenue")),
        total_orders=pl.col("total_orders").cast(pl.Int64),
        **{avg_name: money_avg(pl.col("total_revenue"), pl.col("total_orders"))},
    ).sort(["total_revenue", key], descending=[True, False])


def revenue_by_country(metrics: IntoFrame) -> pl.DataFrame:
    """Revenue, orders and average basket per customer country (``Unknown`` for none).

    Summed from ``gold.customer_metrics``: each customer with orders brings their exact
    total spent and order count under their country. These are the sums of the orders
    grouped by their customer's country (silver holds only orders of known customers),
    without joining every order to its customer a second time.
    """
    buyers = lazy(metrics).filter(nw.col("order_count") > 0)
    sums = collect(
        buyers.group_by("country").agg(
            total_revenue=nw.col("total_spent").sum(), total_orders=nw.col("order_count").sum()
        )
    )
    return _revenue_table(sums, "country", "avg_basket")


def revenue_by_product(
    orders: IntoFrame, changes: TableChanges, previous: IntoFrame
) -> pl.DataFrame:
    """Revenue, orders and average price per product (``Unknown`` for none).

    From the ``previous`` table and the orders silver changed since it was built when
    those are known (:mod:`.changes`), else from every order.
    """
    if known(changes):
        product = pl.col("product").fill_null(UNKNOWN)
        sums = updated_sums(collect(lazy(previous)), changes, "product", product)
        return _revenue_table(sums, "product", "avg_price")
    named = lazy(orders).with_columns(nw.col("product").fill_null(UNKNOWN))
    return _revenue_by(named, "product", "avg_price")


def monthly_revenue(orders: IntoFrame, changes: TableChanges, previous: IntoFrame) -> pl.DataFrame:
    """Revenue, orders and average basket per calendar month ``YYYY-MM``.

    From the ``previous`` table and the orders silver changed since it was built when
    those are known (:mod:`.changes`), else from every order: grouped by year and month as
    integers, and only the few groups formatted as text (formatting every order's
    timestamp cost more than the sums themselves).
    """
    if known(changes):
        month = pl.col("order_ts").dt.strftime("%Y-%m")
        sums = updated_sums(collect(lazy(previous)), changes, "month", month)
        return _revenue_table(sums, "month", "avg_basket").sort("month")
    ts = nw.col("order_ts")
    sums = collect(
        lazy(orders)
        .with_columns(_year=ts.dt.year(), _month=ts.dt.month())
        .group_by("_year", "_month")
        .agg(total_revenue=nw.col("amount").sum(), total_orders=nw.len())
    )
    month_text = pl.date(pl.col("_year"), pl.col("_month"), 1).dt.to_string("%Y-%m")
    named = sums.select(month_text.alias("month"), "total_revenue", "total_orders")
    return _revenue_table(named, "month", "avg_basket").sort("month")


def _day_number(timestamp: nw.Expr) -> nw.Expr:
    """The proleptic Gregorian day number of a timestamp's date (``date.toordinal()``),
    from year and day of year: exact integer arithmetic every engine has."""
    year = timestamp.dt.year().cast(nw.Int64) - 1
    leap_days = year // 4 - year // 100 + year // 400
    return year * 365 + leap_days + timestamp.dt.ordinal_day().cast(nw.Int64)


#: The columns of ``gold.customer_metrics`` computed from the others, ``as_of`` and every
#: other customer; the rest are what a customer's silver row and orders give.
_SCORED = ("avg_basket", "recency_days", "rfm_score", "segment")
_PER_CUSTOMER = [c for c in GOLD["customer_metrics"].names() if c not in _SCORED]


def _per_customer(orders: nw.LazyFrame[Any], customers: nw.LazyFrame[Any]) -> pl.DataFrame:
    """Each customer of ``customers`` with the sums, count and first/last times of their
    ``orders`` (0 and null without orders), in one pass over the orders on the engine."""
    per_customer = orders.group_by("customer_id").agg(
        total_spent=nw.col("amount").sum(),
        order_count=nw.len(),
        first_order=nw.col("order_ts").min(),
        last_order=nw.col("order_ts").max(),
    )
    joined = collect(
        customers.join(per_customer, on="customer_id", how="left").with_columns(
            country=nw.col("country").fill_null(UNKNOWN),
            order_count=nw.col("order_count").fill_null(0).cast(nw.Int64),
        )
    )
    return joined.with_columns(total_spent=_money(pl.col("total_spent").fill_null(0))).select(
        _PER_CUSTOMER
    )


def _scored(per_customer: pl.DataFrame, as_of: dt.date, window: int) -> pl.DataFrame:
    """``gold.customer_metrics`` from the per-customer columns: basket, recency on
    ``as_of`` and the RFM score, which ranks every customer against the others."""
    recency = nw.lit(as_of.toordinal(), nw.Int64) - _day_number(nw.col("last_order"))
    dated = lazy(per_customer).with_columns(recency_days=recency.clip(lower_bound=0))
    out = collect(rfm.score(dated, window)).with_columns(
        avg_basket=money_avg(pl.col("total_spent"), pl.col("order_count")),
        recency_days=pl.col("recency_days").cast(pl.Int64),
    )
    return out.select(GOLD["customer_metrics"].names()).sort("customer_id")


def customer_metrics(
    orders: IntoFrame,
    customers: IntoFrame,
    order_changes: TableChanges,
    customer_changes: TableChanges,
    previous: IntoFrame,
    as_of: dt.date,
    params: dict[str, Any],
) -> KeyedChanges:
    """Per customer: spend, order count, basket, first/last order, recency and RFM segment,
    as the rows that differ from the ``previous`` table (and the customers it lost).

    When silver's changes are known, only the customers they touch are recomputed from
    silver (filtered to them); the others keep their previous sums and dates. Recency and
    the RFM scores are computed again for every customer: they depend on ``as_of`` and on
    every other customer.

    Customers without orders have ``total_spent`` 0, ``order_count`` 0, null basket, dates,
    recency and score, and the segment ``Inactive`` (see :mod:`.rfm` for the rule).
    ``recency_days`` is never negative: an order silver accepted within its tolerance
    after ``as_of`` counts as 0 days ago.
    """
    window = active_window(params)
    before = collect(lazy(previous))
    if known(order_changes, customer_changes) and before.width:
        ids = touched_customers(order_changes, customer_changes)
        touched = nw.col("customer_id").is_in(ids)
        recomputed = _per_customer(lazy(orders).filter(touched), lazy(customers).filter(touched))
        kept = before.filter(~pl.col("customer_id").is_in(ids)).select(_PER_CUSTOMER)
        per_customer = pl.concat([kept, recomputed])
    else:
        per_customer = _per_customer(lazy(orders), lazy(customers))
    return changed_rows(before, _scored(per_customer, as_of, window), ["customer_id"])


def segments(metrics: IntoFrame) -> pl.DataFrame:
    """Per RFM segment: customers, total spent and average basket (total spent over the
    segment's orders, rounded like every gold average), biggest total spent first."""
    sums = collect(
        lazy(metrics)
        .group_by("segment")
        .agg(
            customers=nw.len(),
            total_spent=nw.col("total_spent").sum(),
            orders=nw.col("order_count").sum(),
        )
    )
    out = (
        sums.with_columns(
            customers=pl.col("customers").cast(pl.Int64),
            total_spent=_money(pl.col("total_spent")),
            avg_basket=money_avg(pl.col("total_spent"), pl.col("orders")),
        )
        .select(GOLD["segments"].names())
        .sort(["total_spent", "segment"], descending=[True, False])
    )
    return out


def _month_before(day: dt.date) -> str:
    return (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def _growth(last: Decimal, previous: Decimal | None) -> float | None:
    """Growth in percent, rounded half to even to 2 decimals; null without a base."""
    if not previous:
        return None
    return float(((last / previous - 1) * 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


def kpis(
    metrics: IntoFrame,
    monthly: IntoFrame,
    as_of: dt.date,
    params: dict[str, Any],
) -> pl.DataFrame:
    """The one-row KPI table.

    Revenue and orders are the sums of the monthly table (every order is in one month).
    ``active_customers``: customers whose last order is at most ``active_window_days``
    before ``as_of``. ``revenue_growth_last_month``: growth in percent of the last complete
    month before ``as_of`` over the month before it (null when that month had no revenue).
    """
    window = active_window(params)
    last = _month_before(as_of)
    previous = _month_before(dt.date.fromisoformat(last + "-01"))
    months = collect(lazy(monthly).select("month", "total_revenue", "total_orders"))
    revenue = dict(zip(months["month"], months["total_revenue"], strict=True))
    growth = _growth(revenue.get(last, Decimal(0)), revenue.get(previous))
    totals = months.select(
        total=pl.col("total_revenue").cast(pl.Decimal(38, MONEY.scale)).sum(),
        count=pl.col("total_orders").sum(),
    ).select(
        total=_money(pl.col("total").fill_null(0)),
        count=pl.col("count").fill_null(0).cast(pl.Int64),
        avg=money_avg(pl.col("total").fill_null(0), pl.col("count")).fill_null(0),
    )
    active = rfm.is_active(nw.col("recency_days"), window).cast(nw.Int64).sum()
    customers = collect(lazy(metrics).select(nw.len(), active))
    out = pl.DataFrame(
        {
            "total_revenue": totals.get_column("total"),
            "total_orders": totals.get_column("count"),
            "total_customers": [int(customers.item(0, 0))],
            "active_customers": [int(customers.item(0, 1) or 0)],
            "avg_basket": totals.get_column("avg"),
            "revenue_growth_last_month": [growth],
            "as_of": [as_of],
        },
        schema=GOLD["kpis"],
    )
    return out
