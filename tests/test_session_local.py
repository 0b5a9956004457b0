"""Whole ``kedro run`` sessions on a temporary local lake, checked against hand-made data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from medallion_kedro.lake import current_file
from tests import expected_gold as expected
from tests import handmade as hm
from tests.kedro_run import kedro_run

LAKEHOUSE = ["bronze", "silver", "gold"]


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lake"
    monkeypatch.setenv("LAKE_PATH", str(root))
    return root


def _read(lake: Path, layer: str, table: str) -> pl.DataFrame:
    return pl.read_parquet(current_file(str(lake), layer, table))


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

    customers = _read(lake, "silver", "customers").sort("customer_id")
    assert customers.rows() == hm.SILVER_CUSTOMERS
    orders = _read(lake, "silver", "orders").sort("order_id")
    assert [r[:3] + (r[4],) for r in orders.rows()] == [o[:3] + (o[4],) for o in hm.SILVER_ORDERS]
    assert orders["amount"].to_list() == [float(o[3]) for o in hm.SILVER_ORDERS]

    rejected = _read(lake, "quality", "rejected_orders")
    reasons = dict(zip(rejected["order_id"], rejected["reason"], strict=True))
    for order_id, reason in hm.REJECTED_ORDERS.items():
        assert reasons[order_id].startswith(reason), (order_id, reasons[order_id])
    assert rejected.filter(pl.col("reason").str.starts_with("duplicate")).height == 1
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
    assert recon["customers"]["duplicates_removed"] == hm.DUPLICATE_CUSTOMERS
    assert all(r["balanced"] for r in recon.values())

    _check_gold(lake)


def _check_gold(lake: Path) -> None:
    approx = pytest.approx
    country_of = {c[0]: c[4] for c in hm.SILVER_CUSTOMERS}
    by_country = expected.revenue_by(hm.SILVER_ORDERS, lambda o: country_of[o[1]])
    got = _by(_read(lake, "gold", "revenue_by_country"), "country")
    assert set(got) == set(by_country)
    for country, exp in by_country.items():
        assert got[country]["total_revenue"] == approx(exp["total_revenue"])
        assert got[country]["total_orders"] == exp["total_orders"]
        assert got[country]["avg_basket"] == approx(exp["avg"])

    by_product = expected.revenue_by(hm.SILVER_ORDERS, lambda o: o[4])
    got = _by(_read(lake, "gold", "revenue_by_product"), "product")
    assert {p: (g["total_revenue"], g["total_orders"], g["avg_price"]) for p, g in got.items()} == {
        p: (e["total_revenue"], e["total_orders"], e["avg"]) for p, e in by_product.items()
    }

    monthly = expected.revenue_by(hm.SILVER_ORDERS, lambda o: o[2].strftime("%Y-%m"))
    got_monthly = _read(lake, "gold", "monthly_revenue")
    assert got_monthly["month"].to_list() == sorted(monthly)
    for row in got_monthly.iter_rows(named=True):
        assert row["total_revenue"] == approx(monthly[row["month"]]["total_revenue"])
        assert row["avg_basket"] == approx(monthly[row["month"]]["avg"])

    metrics = expected.customer_metrics(hm.SILVER_CUSTOMERS, hm.SILVER_ORDERS, hm.AS_OF)
    got = _by(_read(lake, "gold", "customer_metrics"), "customer_id")
    assert set(got) == set(metrics)
    for cid, exp in metrics.items():
        row = got[cid]
        for field, value in exp.items():
            assert row[field] == (approx(value) if isinstance(value, float) else value), (
                cid,
                field,
                row[field],
                value,
            )

    kpis = _read(lake, "gold", "kpis")
    assert kpis.height == 1
    for field, value in expected.kpis(hm.SILVER_CUSTOMERS, hm.SILVER_ORDERS, hm.AS_OF).items():
        got_value = kpis[field][0]
        assert got_value == (approx(value) if isinstance(value, float) else value), field


def test_french_layout_builds_the_same_tables(lake: Path) -> None:
    """`kedro run --env fr_layout` on clients.csv / achats.csv gives the same silver and gold."""
    fr_customers = hm.CUSTOMERS_CSV.replace(
        "customer_id,name,email,signup_date,country", "id_client,nom,email,date_inscription,pays"
    )
    fr_orders = hm.ORDERS_CSV.replace(
        "order_id,customer_id,order_ts,amount,product",
        "id_achat,id_client,date_achat,montant,produit",
    )
    hm.write_landing(lake, fr_customers, fr_orders, names=("clients.csv", "achats.csv"))
    kedro_run(LAKEHOUSE, env="fr_layout", params={"as_of": hm.AS_OF.isoformat()})

    assert set(_read(lake, "bronze", "customers")["_source_file"]) == {"clients.csv"}
    assert _read(lake, "silver", "customers").sort("customer_id").rows() == hm.SILVER_CUSTOMERS
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
        assert bronze == silver + rejected.height
        row = recon[table]
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
