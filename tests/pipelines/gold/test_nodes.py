from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import polars as pl
import pytest

from medallion_kedro.datasets.table_changes import TableChanges
from medallion_kedro.pipelines.gold import nodes, rfm

D = Decimal
MONEY = pl.Decimal(18, 2)
WINDOW = {"active_window_days": 30}

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
        "amount": pl.Series([D("10.01"), D("0.01"), D("3.33"), D("100.00")], dtype=MONEY),
        "product": ["Laptop", "Mouse", "Mouse", None],
    }
)
CUSTOMERS = pl.DataFrame(
    {
        "customer_id": [1, 2, 3],
        "name": ["A", "B", "C"],
        "email": ["a@x.io", "b@x.io", "c@x.io"],
        "signup_date": [dt.date(2024, 1, 1)] * 3,
        "country": ["France", None, "Spain"],
    }
)
AS_OF = dt.date(2026, 11, 1)
#: No previous gold and no known changes: the nodes compute from every silver row.
FULL = TableChanges.unknown("no previous gold")
NO_GOLD = pl.DataFrame()


def customer_metrics(
    orders: pl.DataFrame, customers: pl.DataFrame, as_of: dt.date, params: dict[str, Any]
) -> pl.DataFrame:
    """The whole table, computed from every row (with no previous gold, every row is new)."""
    changes = nodes.customer_metrics(orders, customers, FULL, FULL, NO_GOLD, as_of, params)
    assert changes.keys.height == changes.rows.height
    return changes.rows


def test_money_is_exact_and_averages_round_half_to_even() -> None:
    by_product = {
        r["product"]: r
        for r in nodes.revenue_by_product(ORDERS, FULL, NO_GOLD).iter_rows(named=True)
    }
    assert by_product["Mouse"] == {
        "product": "Mouse",
        "total_revenue": D("3.34"),
        "total_orders": 2,
        "avg_price": D("1.67"),
    }
    assert by_product["Unknown"]["total_revenue"] == D("100.00")  # no product in silver


@pytest.mark.parametrize(
    ("cents", "count"),
    [(5, 10), (15, 10), (25, 10), (35, 10), (1, 3), (2, 3), (100000000000001, 3), (7, 2), (9, 2)],
)
def test_money_avg_matches_decimal_half_even(cents: int, count: int) -> None:
    total = D(cents) / 100
    frame = pl.DataFrame({"t": pl.Series([total], dtype=pl.Decimal(38, 2)), "n": [count]})
    got = frame.select(nodes.money_avg(pl.col("t"), pl.col("n"))).item()
    assert got == (total / count).quantize(D("0.01"), rounding=ROUND_HALF_EVEN)


def test_unknown_country_is_grouped_under_one_label() -> None:
    metrics = customer_metrics(ORDERS, CUSTOMERS, AS_OF, WINDOW)
    assert metrics["country"].to_list() == ["France", "Unknown", "Spain"]
    got = nodes.revenue_by_country(metrics)
    assert got.rows() == [  # Spain's customer has no order: no row
        ("Unknown", D("103.33"), 2, D("51.66")),  # 103.33 / 2 = 51.665, half to even
        ("France", D("10.02"), 2, D("5.01")),
    ]


def test_revenue_by_country_from_customer_metrics_is_the_sum_of_the_orders() -> None:
    """Independent: every order under its customer's country, summed with Decimal."""
    orders = pl.DataFrame(
        {
            "order_id": range(1, 9),
            "customer_id": [1, 1, 2, 3, 3, 3, 4, 5],
            "order_ts": [dt.datetime(2026, 10, d) for d in range(1, 9)],
            "amount": pl.Series(
                [D(a) for a in ("0.01", "0.02", "5.55", "1.00", "2.00", "3.01", "9.99", "0.05")],
                dtype=MONEY,
            ),
            "product": ["Mouse"] * 8,
        }
    )
    customers = pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "name": list("ABCDEF"),
            "email": [f"{c}@x.io" for c in "abcdef"],
            "signup_date": [dt.date(2024, 1, 1)] * 6,
            "country": ["France", "Spain", "France", None, None, "Italy"],
        }
    )
    country = dict(zip(customers["customer_id"], customers["country"], strict=True))
    expected: dict[str, list[Decimal]] = {}
    for customer, amount in zip(orders["customer_id"], orders["amount"], strict=True):
        expected.setdefault(country[customer] or "Unknown", []).append(amount)
    metrics = customer_metrics(orders, customers, AS_OF, WINDOW)
    got = nodes.revenue_by_country(metrics)
    assert {r[0]: r[1:] for r in got.rows()} == {
        name: (
            sum(amounts),
            len(amounts),
            (sum(amounts) / len(amounts)).quantize(D("0.01"), ROUND_HALF_EVEN),
        )
        for name, amounts in expected.items()
    }
    assert got["country"].to_list() == ["Unknown", "France", "Spain"]  # biggest revenue first


def test_monthly_revenue_is_sorted_by_month() -> None:
    monthly = nodes.monthly_revenue(ORDERS, FULL, NO_GOLD)
    assert monthly["month"].to_list() == ["2026-08", "2026-09", "2026-10"]
    assert monthly["total_orders"].to_list() == [1, 1, 2]


def test_customer_without_orders_is_inactive() -> None:
    metrics = customer_metrics(ORDERS, CUSTOMERS, AS_OF, WINDOW)
    c3 = metrics.filter(pl.col("customer_id") == 3).row(0, named=True)
    assert (c3["total_spent"], c3["order_count"], c3["segment"]) == (D("0.00"), 0, "Inactive")
    assert c3["avg_basket"] is None and c3["rfm_score"] is None and c3["recency_days"] is None
    c1 = metrics.filter(pl.col("customer_id") == 1).row(0, named=True)
    assert c1["recency_days"] == 31 and c1["first_order"] == dt.datetime(2026, 9, 5)
    assert (c1["total_spent"], c1["avg_basket"]) == (D("10.02"), D("5.01"))


def test_as_of_defaults_to_the_day_after_the_last_order(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=nodes.log.name):
        assert nodes.reference_date(None, ORDERS.lazy()) == dt.date(2026, 10, 21)
    assert "as_of 2026-10-21: the day after the latest valid order" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=nodes.log.name):
        assert nodes.reference_date("2026-11-01", ORDERS) == AS_OF
    assert "as_of 2026-11-01: from the as_of parameter" in caplog.text


def test_as_of_of_no_orders_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="--params as_of=YYYY-MM-DD"):
        nodes.reference_date(None, ORDERS.head(0))


def test_kpis_growth_of_last_complete_month() -> None:
    monthly = nodes.monthly_revenue(ORDERS, FULL, NO_GOLD)
    metrics = customer_metrics(ORDERS, CUSTOMERS, AS_OF, WINDOW)
    row = nodes.kpis(metrics, monthly, AS_OF, WINDOW).row(0, named=True)
    october, september = D("3.34"), D("10.01")
    growth = ((october / september - 1) * 100).quantize(D("0.01"), ROUND_HALF_EVEN)
    assert row["revenue_growth_last_month"] == float(growth) == -66.63
    assert row["active_customers"] == 1  # customer 2, 12 days; customer 1 is 31 days ago
    assert (row["total_orders"], row["total_customers"]) == (4, 3)
    assert (row["total_revenue"], row["avg_basket"]) == (D("113.35"), D("28.34"))
    assert row["as_of"] == AS_OF


def test_active_window_includes_its_last_day() -> None:
    """A last order exactly ``active_window_days`` before as_of is active (``<=``)."""
    monthly = nodes.monthly_revenue(ORDERS, FULL, NO_GOLD)
    metrics = customer_metrics(ORDERS, CUSTOMERS, AS_OF, WINDOW)
    assert metrics.filter(pl.col("customer_id") == 1)["recency_days"].item() == 31
    for window, active in ((30, 1), (31, 2)):
        params = {"active_window_days": window}
        got = nodes.kpis(metrics, monthly, AS_OF, params)["active_customers"].item()
        assert got == active, window
    recency = pl.DataFrame({"d": [9, 10, 11, 30, 31, 60, 61, 120, 121]})
    assert recency.select(rfm.recency_score(pl.col("d"), 30)).to_series().to_list() == [
        5,
        5,
        4,
        4,
        3,
        3,
        2,
        2,
        1,
    ]


@pytest.mark.parametrize("days", [-1, 1.5, "90", None, True])
def test_active_window_must_be_a_whole_number_of_days(days: object) -> None:
    with pytest.raises(ValueError, match="active_window_days must be a whole number of days >= 0"):
        customer_metrics(ORDERS, CUSTOMERS, AS_OF, {"active_window_days": days})


def test_recency_is_never_negative() -> None:
    metrics = customer_metrics(ORDERS, CUSTOMERS, dt.date(2026, 10, 19), WINDOW)
    assert metrics.filter(pl.col("customer_id") == 2)["recency_days"].item() == 0


def _shop(orders_per_customer: list[int], last_days_ago: list[int]) -> pl.DataFrame:
    rows = []
    for cid, (n, ago) in enumerate(zip(orders_per_customer, last_days_ago, strict=True), 1):
        for k in range(n):
            when = dt.datetime.combine(AS_OF, dt.time(12)) - dt.timedelta(days=ago + 3 * k)
            rows.append((cid * 1000 + k, cid, when, D("20.00") + cid, "Laptop"))
    schema = {
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "order_ts": pl.Datetime("us"),
        "amount": MONEY,
        "product": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _customers(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": list(range(1, n + 1)),
            "name": ["x"] * n,
            "email": ["x@x.io"] * n,
            "signup_date": [dt.date(2020, 1, 1)] * n,
            "country": ["France"] * n,
        }
    )


def _segments(orders: pl.DataFrame, n: int, window: int = 90) -> dict[int, tuple[int, str]]:
    metrics = customer_metrics(orders, _customers(n), AS_OF, {"active_window_days": window})
    return {
        r["customer_id"]: (r["recency_days"], r["segment"]) for r in metrics.iter_rows(named=True)
    }


def test_dense_data_never_calls_a_recent_customer_at_risk() -> None:
    """60 to 125 orders each, most within days: 10 days ago is not "At Risk"."""
    n = 50
    counts = [60 + (cid * 7) % 60 for cid in range(1, 49)] + [124, 125]
    ago = [1 + (i % 5) for i in range(40)] + [10, 20, 45, 89, 90, 91, 150, 200, 400, 700]
    got = _segments(_shop(counts, ago), n)
    for cid, (recency, segment) in got.items():
        if recency <= 90:
            assert segment not in {"At Risk", "Hibernating"}, (cid, recency, segment)
    assert got[41][0] == 10 and got[41][1] in {"Champions", "Loyal", "New"}
    assert got[45][0] == 90 and got[45][1] in {"Champions", "Loyal", "New"}
    assert got[46][0] == 91 and got[46][1] in {"Loyal", "Needs Attention"}
    assert got[49][1] == "At Risk" and got[50][1] == "At Risk"  # frequent, gone for a year


def test_sparse_data_gives_new_needs_attention_and_hibernating() -> None:
    """One or two orders each: recency decides, a second order lifts frequency."""
    counts = [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    ago = [5, 40, 90, 91, 100, 200, 365, 500, 700, 30]
    got = _segments(_shop(counts, ago), len(counts))
    assert {cid: seg for cid, (_, seg) in got.items()} == {
        1: "New",
        2: "New",
        3: "New",
        4: "Needs Attention",
        5: "Loyal",
        6: "Hibernating",
        7: "Hibernating",
        8: "At Risk",
        9: "Hibernating",
        10: "New",
    }


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


def test_gold_is_released_only_from_the_silver_its_reconciliation_counted() -> None:
    from medallion_kedro.pipelines.gold.nodes import UnreconciledSilverError, reconciled_silver

    orders = pl.DataFrame({"order_id": [1, 2, 3]}).lazy()
    customers = pl.DataFrame({"customer_id": [1, 2]})
    report = pl.DataFrame({"table": ["customers", "orders"], "silver_rows": [2, 3]})
    assert reconciled_silver(report, orders, customers) == (orders, customers)
    one_more = pl.concat([orders, pl.DataFrame({"order_id": [4]}).lazy()])
    with pytest.raises(UnreconciledSilverError, match="silver.orders holds 4 rows .* counted 3"):
        reconciled_silver(report, one_more, customers)
