"""Whole ``kedro run`` sessions on a temporary local lake, checked against hand-made data."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml

from medallion_kedro.lake import read_table
from tests import expected_gold as expected
from tests import handmade as hm
from tests.kedro_run import kedro_run

FR_LAYOUT = Path(__file__).resolve().parents[1] / "conf/fr_layout/parameters_bronze.yml"

LAKEHOUSE = ["bronze", "silver", "gold"]


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lake"
    monkeypatch.setenv("LAKE_PATH", str(root))
    return root


def _read(lake: Path, layer: str, table: str) -> pl.DataFrame:
    return read_table(str(lake), layer, table)


def _by(df: pl.DataFrame, key: str) -> dict[object, dict[str, object]]:
    return {row[key]: row for row in df.iter_rows(named=True)}


def test_handmade_lake_builds_expected_gold(lake: Path) -> None:
    hm.write_landing(lake)
    kedro_run(LAKEHOUSE, params={"as_of": hm.AS_OF.isoformat()})

    bronze = _read(lake, "bronze", "orders")
    assert bronze.height == len(hm.ORDERS_CSV.splitlines()) - 1
    assert all(bronze.schema[c] == pl.String for c in ("order_id", "amount", "order_ts"))
    assert set(bronze["_source_file"]) == {"orders.csv"}
    assert bronze["_batch_id"].n_unique() == 1 and bronze["_ingested_at"].null_count() == 0

    assert hm.expected_rows(_read(lake, "silver", "customers"), "customers") == hm.SILVER_CUSTOMERS
    orders = _read(lake, "silver", "orders")
    assert hm.expected_rows(orders, "orders") == hm.SILVER_ORDERS
    assert orders.schema["amount"] == pl.Decimal(18, 2)

    rejected = _read(lake, "quality", "rejected_orders")
    reasons = dict(zip(rejected["order_id"], rejected["reason"], strict=True))
    for order_id, reason in hm.REJECTED_ORDERS.items():
        assert reasons[order_id].startswith(reason), (order_id, reasons[order_id])
    assert rejected.filter(pl.col("reason").str.starts_with("duplicate")).height == 1
    waiting = _read(lake, "quality", "waiting_orders")
    assert waiting["order_id"].to_list() == hm.WAITING_ORDERS
    rejected_customers = _read(lake, "quality", "rejected_customers")
    reasons = dict(
        zip(rejected_customers["customer_id"], rejected_customers["reason"], strict=True)
    )
    for customer_id, reason in hm.REJECTED_CUSTOMERS.items():
        assert reasons[customer_id].startswith(reason), (customer_id, reasons[customer_id])

    recon = _by(_read(lake, "quality", "reconciliation"), "table")
    assert recon["orders"]["bronze_rows"] == 16
    assert recon["orders"]["silver_rows"] == len(hm.SILVER_ORDERS)
    assert recon["orders"]["rejected_rows"] == len(hm.REJECTED_ORDERS)
    assert recon["orders"]["duplicates_removed"] == hm.DUPLICATE_ORDERS
    assert recon["orders"]["waiting_rows"] == len(hm.WAITING_ORDERS)
    assert recon["customers"]["duplicates_removed"] == hm.DUPLICATE_CUSTOMERS
    # counted independently from the files each table was written to
    for table in ("customers", "orders"):
        written = _read(lake, "silver", table).height
        quarantined = _read(lake, "quality", f"rejected_{table}").height
        waits = waiting.height if table == "orders" else 0
        assert _read(lake, "bronze", table).height == written + quarantined + waits, table
        assert recon[table]["silver_rows"] == written
    warnings = _read(lake, "quality", "warnings")
    got_warnings = {
        (w["table"], w["key"], w["column"], w["raw_value"]): w["reason"]
        for w in warnings.iter_rows(named=True)
    }
    assert set(got_warnings) == {w[:4] for w in hm.WARNINGS}
    for table, key, column, raw, reason in hm.WARNINGS:
        assert got_warnings[(table, key, column, raw)].startswith(reason)
    assert recon["customers"]["warning_rows"] == 1 and recon["orders"]["warning_rows"] == 1

    _check_gold(lake)


def _check_gold(lake: Path) -> None:
    country_of = {c[0]: c[4] or expected.UNKNOWN for c in hm.SILVER_CUSTOMERS}
    by_country = expected.revenue_by(hm.SILVER_ORDERS, lambda o: country_of[o[1]])
    got = _by(_read(lake, "gold", "revenue_by_country"), "country")
    assert set(got) == set(by_country)
    for country, exp in by_country.items():
        assert got[country]["total_revenue"] == exp["total_revenue"]
        assert got[country]["total_orders"] == exp["total_orders"]
        assert got[country]["avg_basket"] == exp["avg"]

    by_product = expected.revenue_by(hm.SILVER_ORDERS, lambda o: o[4] or expected.UNKNOWN)
    got = _by(_read(lake, "gold", "revenue_by_product"), "product")
    assert {p: (g["total_revenue"], g["total_orders"], g["avg_price"]) for p, g in got.items()} == {
        p: (e["total_revenue"], e["total_orders"], e["avg"]) for p, e in by_product.items()
    }

    monthly = expected.revenue_by(hm.SILVER_ORDERS, lambda o: o[2].strftime("%Y-%m"))
    got_monthly = _read(lake, "gold", "monthly_revenue")
    assert got_monthly["month"].to_list() == sorted(monthly)
    for row in got_monthly.iter_rows(named=True):
        assert row["total_revenue"] == monthly[row["month"]]["total_revenue"]
        assert row["avg_basket"] == monthly[row["month"]]["avg"]

    metrics = expected.customer_metrics(hm.SILVER_CUSTOMERS, hm.SILVER_ORDERS, hm.AS_OF)
    got = _by(_read(lake, "gold", "customer_metrics"), "customer_id")
    assert set(got) == set(metrics)
    for cid, exp in metrics.items():
        row = got[cid]
        for field, value in exp.items():
            assert row[field] == value, (
                cid,
                field,
                row[field],
                value,
            )

    segments = _read(lake, "gold", "segments")
    want = expected.segments(metrics)
    assert segments["segment"].to_list() == list(want)
    assert {r["segment"]: r for r in segments.iter_rows(named=True)} == want

    kpis = _read(lake, "gold", "kpis")
    assert kpis.height == 1
    for field, value in expected.kpis(hm.SILVER_CUSTOMERS, hm.SILVER_ORDERS, hm.AS_OF).items():
        got_value = kpis[field][0]
        assert got_value == value, field


def test_french_layout_builds_the_same_tables(lake: Path) -> None:
    """`kedro run --env fr_layout` on clients.csv / achats.csv gives the same silver and gold."""
    sources = yaml.safe_load(FR_LAYOUT.read_text(encoding="utf-8"))["bronze"]["sources"]

    def in_french(text: str, table: str) -> str:
        """The hand-made file with the French headers of conf/fr_layout."""
        header, rest = text.split("\n", 1)
        french = {ours: theirs for theirs, ours in sources[table]["column_map"].items()}
        return ",".join(french[c] for c in header.split(",")) + "\n" + rest

    fr_customers = in_french(hm.CUSTOMERS_CSV, "customers")
    fr_orders = in_french(hm.ORDERS_CSV, "orders")
    hm.write_landing(lake, fr_customers, fr_orders, names=("clients.csv", "achats.csv"))
    kedro_run(LAKEHOUSE, env="fr_layout", params={"as_of": hm.AS_OF.isoformat()})

    assert set(_read(lake, "bronze", "customers")["_source_file"]) == {"clients.csv"}
    assert hm.expected_rows(_read(lake, "silver", "customers"), "customers") == hm.SILVER_CUSTOMERS
    _check_gold(lake)


def test_generate_then_lakehouse_reconciles_dirty_data(lake: Path) -> None:
    params = {"n_customers": 300, "n_orders": 5000, "dirty_share": 0.2, "seed": 7}
    kedro_run(["generate"], params=params)
    kedro_run(LAKEHOUSE, params=params)

    recon = _by(_read(lake, "quality", "reconciliation"), "table")
    for table in ("customers", "orders"):
        bronze = _read(lake, "bronze", table).height
        silver = _read(lake, "silver", table).height
        rejected = _read(lake, "quality", f"rejected_{table}")
        row = recon[table]
        assert bronze == silver + rejected.height + row["waiting_rows"]
        assert (row["bronze_rows"], row["silver_rows"]) == (bronze, silver)
        assert row["rejected_rows"] + row["duplicates_removed"] == rejected.height
        assert row["duplicates_removed"] > 0 and row["rejected_rows"] > 0
    reasons = set(_read(lake, "quality", "rejected_orders")["reason"].str.extract(r"^(\w+ \w+)"))
    assert {
        "invalid amount",
        "invalid order_ts",
        "unknown customer",
        "duplicate key",
        "invalid customer_id",
    } <= reasons
    kpis = _read(lake, "gold", "kpis")
    assert kpis["total_orders"][0] == _read(lake, "silver", "orders").height
    _check_exact_money(lake)

    first = {t: _read(lake, "gold", t) for t in GOLD_TABLES}
    kedro_run(["gold"], params=params)
    for table, frame in first.items():
        again = _read(lake, "gold", table)
        assert again.schema == frame.schema and again.rows() == frame.rows(), table


GOLD_TABLES = (
    "revenue_by_country",
    "revenue_by_product",
    "monthly_revenue",
    "customer_metrics",
    "kpis",
)


def _check_exact_money(lake: Path) -> None:
    """Every gold total adds up to the silver amounts, to the cent, as exact decimals."""
    silver = sum(_read(lake, "silver", "orders")["amount"].to_list(), Decimal(0))
    sums = {
        table: sum(_read(lake, "gold", table)[column].to_list(), Decimal(0))
        for table, column in (
            ("revenue_by_country", "total_revenue"),
            ("revenue_by_product", "total_revenue"),
            ("monthly_revenue", "total_revenue"),
            ("customer_metrics", "total_spent"),
            ("kpis", "total_revenue"),
        )
    }
    assert silver > 0
    assert sums == dict.fromkeys(sums, silver)
    for table in GOLD_TABLES:
        frame = _read(lake, "gold", table)
        money = [c for c, t in frame.schema.items() if isinstance(t, pl.Decimal)]
        assert money, table
        assert all(frame.schema[c] == pl.Decimal(18, 2) for c in money), table


#: The shape of a real French export: these spellings, one unknown country, 2024-2025.
FR_COUNTRIES = [
    "Germany", "France", "Netherland", "Italy", "Spain", "Belgium", "UK", "Canada",
    "Switzerland", "Atlantis",
]  # fmt: skip
FR_GOLD_COUNTRIES = {
    "Germany", "France", "Netherlands", "Italy", "Spain", "Belgium", "United Kingdom",
    "Canada", "Switzerland", "Unknown",
}  # fmt: skip


def _french_export(n_customers: int = 60, n_orders: int = 900) -> tuple[str, str]:
    """``clients.csv`` and ``achats.csv`` with the headers of conf/fr_layout."""
    sources = yaml.safe_load(FR_LAYOUT.read_text(encoding="utf-8"))["bronze"]["sources"]
    ids = range(1, n_customers + 1)
    clients = {
        "customer_id": [str(i) for i in ids],
        "name": [f"Client {i}" for i in ids],
        "email": [f"client{i}@example.fr" for i in ids],
        "signup_date": ["2023-12-01"] * n_customers,
        "country": [FR_COUNTRIES[i % 10] for i in ids],
    }
    start = dt.datetime(2024, 1, 1, 9, 30)
    when = [start + dt.timedelta(days=j * 547 // n_orders, minutes=j) for j in range(n_orders)]
    cents = [1999 + (j * 7919) % 50000 for j in range(n_orders)]
    achats = {
        "order_id": [str(5000 + j) for j in range(n_orders)],
        "customer_id": [str(j % n_customers + 1) for j in range(n_orders)],
        "order_ts": [f"{w:%Y-%m-%d %H:%M:%S}" for w in when],
        "amount": [f"{c // 100}.{c % 100:02d}" for c in cents],
        "product": [f"produit {j % 7}" for j in range(n_orders)],
    }
    return (
        hm.source_csv("customers", clients, sources["customers"]["column_map"]),
        hm.source_csv("orders", achats, sources["orders"]["column_map"]),
    )


def test_french_export_of_the_past_keeps_every_row_and_dates_gold_from_the_data(
    lake: Path,
) -> None:
    """No parameters; data ending in mid-2025; odd and unknown country spellings."""
    clients, achats = _french_export()
    hm.write_landing(lake, clients, achats, names=("clients.csv", "achats.csv"))
    kedro_run(LAKEHOUSE, env="fr_layout")

    assert _read(lake, "silver", "customers").height == 60
    assert _read(lake, "silver", "orders").height == 900
    assert _read(lake, "quality", "rejected_customers").height == 0
    assert _read(lake, "quality", "rejected_orders").height == 0
    countries = set(_read(lake, "gold", "revenue_by_country")["country"])
    assert countries == FR_GOLD_COUNTRIES
    kpis = _read(lake, "gold", "kpis").row(0, named=True)
    last_order = max(_read(lake, "silver", "orders")["order_ts"])
    assert kpis["as_of"] == last_order.date() + dt.timedelta(days=1)
    assert kpis["as_of"] < dt.date(2025, 8, 1)
    assert kpis["active_customers"] > 0
    assert kpis["revenue_growth_last_month"] is not None
    warnings = _read(lake, "quality", "warnings")
    assert set(warnings["raw_value"]) == {"Atlantis"}
    assert warnings.height == 6 and set(warnings["column"]) == {"country"}
    mappings = _by(_read(lake, "quality", "country_mappings"), "raw_value")
    assert (mappings["Netherland"]["canonical"], mappings["Netherland"]["how"]) == (
        "Netherlands",
        "fuzzy",
    )
    assert (mappings["UK"]["canonical"], mappings["UK"]["how"]) == ("United Kingdom", "alias")
    assert mappings["Atlantis"]["how"] == "unknown" and mappings["Atlantis"]["rows"] == 6
    assert "Switzerland" not in mappings  # exact: nothing to audit
    _check_exact_money(lake)


def test_an_all_dirty_orders_file_fails_and_writes_no_silver(lake: Path) -> None:
    dirty = hm.csv_text(
        "orders",
        [
            f"{i},1,2026-10-01 10:00:00,{amount},laptop"
            for i, amount in enumerate(["inf", "NaN", "1e308", "-1", "abc", "12.345"])
        ],
    )
    hm.write_landing(lake, orders=dirty)
    with pytest.raises(
        Exception,
        match=r"silver.orders: 6 of 6 rows of batch (\w+) \(100%\) were rejected.*"
        r"`kedro lake retract \1`",
    ):
        kedro_run(LAKEHOUSE)
    published = json.loads((lake / "_lake.json").read_text())["tables"]
    assert {"bronze.customers", "bronze.orders"} <= set(published)  # bronze commits on its own
    assert not [key for key in published if not key.startswith("bronze.")]
