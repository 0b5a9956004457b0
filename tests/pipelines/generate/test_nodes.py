from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from medallion_kedro import settings
from medallion_kedro.pipelines.generate.damage import CustomerDamage, OrderDamage
from medallion_kedro.pipelines.generate.nodes import (
    generate_customers,
    generate_orders,
    to_source_layout,
)
from medallion_kedro.pipelines.silver.countries import CountryMatcher

CONF = Path(__file__).resolve().parents[3] / "conf"
#: The parameters as a run reads them (the odd country spellings include silver's aliases).
PARAMS = settings.CONFIG_LOADER_CLASS(str(CONF), **settings.CONFIG_LOADER_ARGS)["parameters"]
GEN = PARAMS["generator"]
LAST_DAY = dt.date(2026, 10, 31)  # the day before generator.reference_date
N_ORDERS, N_CUSTOMERS = 200_000, 20_000


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    """The export as the landing CSV holds it, every value as text (as bronze reads it)."""
    return pl.read_csv(io.StringIO(frame.write_csv()), infer_schema=False)


def _orders(n: int = 20_000, share: float = 0.1, seed: int = 1, gen: Any = GEN) -> pl.DataFrame:
    return _text(generate_orders(n, 500, seed, share, gen))


@pytest.fixture(scope="module")
def shop() -> tuple[pl.DataFrame, pl.DataFrame]:
    """A clean shop with the default model: (customers, orders typed, one row per order)."""
    customers = generate_customers(N_CUSTOMERS, 11, 0.0, GEN).with_columns(
        pl.col("customer_id").cast(pl.Int64), pl.col("signup_date").str.to_date()
    )
    orders = generate_orders(N_ORDERS, N_CUSTOMERS, 11, 0.0, GEN).with_columns(
        pl.col("order_id", "customer_id").cast(pl.Int64),
        pl.col("order_ts").str.to_datetime("%Y-%m-%d %H:%M:%S"),
        pl.col("amount").cast(pl.Float64),
    )
    return customers, orders


def _orders_per_customer(orders: pl.DataFrame) -> pl.DataFrame:
    return orders.group_by("customer_id").agg(
        n=pl.len(), first=pl.col("order_ts").min(), last=pl.col("order_ts").max()
    )


def test_same_seed_gives_the_same_files() -> None:
    assert _orders().equals(_orders())
    assert generate_customers(300, 3, 0.1, GEN).equals(generate_customers(300, 3, 0.1, GEN))
    assert not _orders(seed=2).equals(_orders(seed=1))


def test_clean_orders_are_all_valid_text() -> None:
    orders = _orders(share=0.0)
    assert orders.height == 20_000
    assert orders.columns == ["order_id", "customer_id", "order_ts", "amount", "product"]
    assert orders.null_count().sum_horizontal().item() == 0
    assert orders["order_id"].n_unique() == orders.height
    amounts = orders["amount"].cast(pl.Float64)
    assert amounts.min() >= 1.0  # type: ignore[operator]
    assert orders["amount"].str.contains(r"^\d+\.\d\d$").all()
    ts = orders["order_ts"].str.to_datetime("%Y-%m-%d %H:%M:%S")
    assert ts.dt.date().max() == LAST_DAY and str(ts.min()) >= "2024-11-01"
    assert ts.is_sorted(), "order ids follow time, as a shop's would"
    ids = orders["customer_id"].cast(pl.Int64)
    assert ids.min() >= 1 and ids.max() <= 500  # type: ignore[operator]


@pytest.mark.parametrize(("n", "reference"), [(3, "2026-11-01"), (5_000, "2025-03-01")])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_history_ends_clean_the_day_before_the_reference_date(
    n: int, reference: str, seed: int
) -> None:
    """Gold infers as_of as the day after the latest valid order: that must be the reference."""
    gen = {**GEN, "reference_date": reference}
    orders = _text(generate_orders(n, 50, seed, 0.5, gen))
    customers = _text(generate_customers(50, seed, 0.5, gen))
    ts = orders["order_ts"].str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    latest = orders.filter(ts == ts.max()).unique()
    day_before = dt.date.fromisoformat(reference) - dt.timedelta(days=1)
    assert latest["order_ts"].str.slice(0, 10).to_list() == [str(day_before)]
    assert latest["amount"].cast(pl.Float64, strict=False).min() >= 1.0  # type: ignore[operator]
    owner = customers.filter(pl.col("customer_id") == latest["customer_id"])
    assert owner.height == 1 and owner.null_count().sum_horizontal().item() == 0
    assert owner["country"].is_in(list(GEN["countries"])).all()
    assert owner["signup_date"].str.to_date(strict=False).is_not_null().all()


def test_activity_is_heavy_tailed(shop: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    """Many one-time buyers, a few very frequent ones (uniform draws give neither)."""
    counts = _orders_per_customer(shop[1])["n"].sort(descending=True)
    one_time = (counts == 1).mean()
    top_1_percent = counts.head(counts.len() // 100).sum() / N_ORDERS
    assert one_time > 0.2, one_time  # ~0.3; uniformly, 10 orders each: 0.0005
    assert top_1_percent > 0.1, top_1_percent  # ~0.24; uniformly: ~0.02
    assert counts[0] > 50 * counts.median()  # type: ignore[operator]
    assert 0 < 1 - counts.len() / N_CUSTOMERS < 0.1  # a few never order


def test_customers_churn(shop: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    per = _orders_per_customer(shop[1]).filter(pl.col("n") >= 5)
    gone = (per["last"] < dt.datetime(2026, 8, 1)).mean()
    assert 0.2 < gone < 0.8, gone  # regulars who stopped ordering, and regulars still here


def test_seasonality(shop: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    ts = shop[1]["order_ts"]
    monthly = ts.dt.month().value_counts().sort("order_ts")["count"]
    average = monthly.mean()
    assert monthly[10] > 1.2 * average and monthly[11] > 1.3 * average  # type: ignore[operator]
    assert monthly.head(10).max() < monthly[10]  # type: ignore[operator]
    weekday = ts.dt.weekday().value_counts().sort("order_ts")["count"]  # Monday is 1
    assert weekday[6] > 1.2 * weekday[5]  # Sunday's evening shopping beats Saturday
    hour = ts.dt.hour().value_counts().sort("order_ts")["count"]
    assert hour[20] > 5 * hour[4]


def test_prices_follow_the_product(shop: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    by = shop[1].group_by("product").agg(mean=pl.col("amount").mean(), n=pl.len())
    mean = dict(by.select("product", "mean").iter_rows())
    count = dict(by.select("product", "n").iter_rows())
    assert mean["drone"] > 10 * mean["mouse"] and mean["laptop"] > 10 * mean["charger"]
    assert count["charger"] > 4 * count["drone"]  # popularity is weighted too
    spread = shop[1].filter(pl.col("product") == "laptop")["amount"]
    assert spread.std() > 0.2 * spread.mean()  # type: ignore[operator]


def test_countries_are_weighted(shop: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    count = dict(shop[0]["country"].value_counts().iter_rows())
    assert set(count) == set(GEN["countries"])
    assert count["Germany"] > 10 * count["India"]


def test_signup_comes_before_the_first_order(shop: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    customers, orders = shop
    joined = _orders_per_customer(orders).join(customers, on="customer_id")
    assert joined.height == orders["customer_id"].n_unique()
    assert (joined["signup_date"] <= joined["first"].dt.date()).all()
    assert (customers["signup_date"] < dt.date(2026, 11, 1)).all()
    assert (joined["signup_date"] < joined["first"].dt.date()).mean() > 0.5
    new = joined.filter(pl.col("signup_date") >= dt.date(2024, 11, 1))
    wait = (new["first"].dt.date() - new["signup_date"]).dt.total_days()
    assert wait.median() < 28, wait.median()  # new customers buy soon after signing up


def _dirty_orders() -> tuple[pl.DataFrame, dict[OrderDamage, Callable[[pl.DataFrame], bool]]]:
    orders = _orders(share=0.2)
    amount = orders["amount"]
    return orders, {
        OrderDamage.DUPLICATE: lambda o: bool(o["order_id"].is_duplicated().any()),
        OrderDamage.NULL_AMOUNT: lambda o: bool(amount.is_null().any()),
        OrderDamage.NON_POSITIVE_AMOUNT: lambda o: bool(
            amount.str.starts_with("-").any() and (amount == "0.00").any()
        ),
        OrderDamage.IMPOSSIBLE_ORDER_TS: lambda o: bool(
            o["order_ts"].str.starts_with("2026-13").any()
        ),
        OrderDamage.UNKNOWN_CUSTOMER: lambda o: bool(
            (o["customer_id"].cast(pl.Int64, strict=False) > 500).any()
        ),
        OrderDamage.NULL_CUSTOMER_ID: lambda o: bool(o["customer_id"].is_null().any()),
    }


def test_every_kind_of_dirty_order_appears() -> None:
    orders, checks = _dirty_orders()
    assert set(checks) == set(OrderDamage) - {OrderDamage.CLEAN}, "a damage kind has no check"
    assert orders.height > 20_000  # duplicates are extra rows
    assert [kind.name for kind, check in checks.items() if not check(orders)] == []
    assert orders["amount"].drop_nulls().str.contains(r"^-?\d+\.\d\d$").all()  # 2 decimals


def test_every_kind_of_dirty_customer_appears() -> None:
    customers = _text(generate_customers(3_000, 5, 0.3, GEN))
    countries = set(customers["country"].drop_nulls())
    checks: dict[CustomerDamage, bool] = {
        CustomerDamage.DUPLICATE: bool(customers["customer_id"].is_duplicated().any()),
        CustomerDamage.NULL_EMAIL: bool(customers["email"].is_null().any()),
        CustomerDamage.IMPOSSIBLE_SIGNUP_DATE: bool(
            (customers["signup_date"] == "2025-02-30").any()
        ),
        CustomerDamage.ODD_COUNTRY: {"Netherland", "Deutschland", "U.K.", "  france"} <= countries,
        CustomerDamage.UNKNOWN_COUNTRY: set(GEN["unknown_countries"]) <= countries,
        CustomerDamage.NULL_NAME: bool(customers["name"].is_null().any()),
    }
    assert set(checks) == set(CustomerDamage) - {CustomerDamage.CLEAN}, "a kind has no check"
    assert [kind.name for kind, ok in checks.items() if not ok] == []
    assert "PORTUGAL" in countries  # a country without listed spellings is upper-cased


def test_source_layout_writes_the_environments_headers() -> None:
    fr = yaml.safe_load((CONF / "fr_layout/parameters_bronze.yml").read_text())["bronze"]
    orders = to_source_layout(_orders(n=10), fr["sources"]["orders"])
    assert orders.columns == list(fr["sources"]["orders"]["column_map"])
    assert orders.columns[:2] == ["id_achat", "id_client"]
    customers = to_source_layout(generate_customers(5, 1, 0.0, GEN), fr["sources"]["customers"])
    assert customers.columns == list(fr["sources"]["customers"]["column_map"])
    assert to_source_layout(orders, {"file": "orders.csv"}) is orders  # no map: as generated
    partial = copy.deepcopy(fr["sources"]["orders"])
    del partial["column_map"]["produit"]
    with pytest.raises(ValueError, match=r"achats\.csv .* map one source column to each"):
        to_source_layout(_orders(n=10), partial)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n_orders must be a whole number >= 1"),
        ({"share": 0.9}, "dirty_share must be between 0 and 0.5"),
        (
            {"gen": {**GEN, "reference_date": "yesterday"}},
            r"generator.reference_date='yesterday' is not a date: use YYYY-MM-DD",
        ),
        (
            {"gen": {**GEN, "seasonality": {**GEN["seasonality"], "month": [1.0] * 11}}},
            r"generator.seasonality.month must be 12 positive numbers",
        ),
        (
            {"gen": {**GEN, "products": {"mouse": {"price": 29, "weight": 0}}}},
            r"generator.products must map each name to a positive weight",
        ),
    ],
)
def test_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _orders(**kwargs)


def test_fr_layout_catalog_and_sources_name_the_same_files() -> None:
    """Generate writes through the catalog; bronze records and names ``file``: they agree."""
    catalog = yaml.safe_load((CONF / "fr_layout/catalog.yml").read_text())
    sources = yaml.safe_load((CONF / "fr_layout/parameters_bronze.yml").read_text())
    for table, source in sources["bronze"]["sources"].items():
        assert Path(catalog[f"landing.{table}"]["filepath"]).name == source["file"], table


def test_every_odd_country_spelling_maps_back_to_its_country_in_silver() -> None:
    """The generator's dirt and silver's matching share one alias list."""
    rules = PARAMS["silver"]["countries"]
    matcher = CountryMatcher(
        rules["aliases"],
        fuzzy_min_score=rules["fuzzy_min_score"],
        fuzzy_min_length=rules["fuzzy_min_length"],
    )
    odd = GEN["odd_countries"]
    assert all(alias in odd[country] for alias, country in rules["aliases"].items())
    wrong = {
        spelling: matcher.match(spelling).canonical
        for country in GEN["countries"]
        for spelling in odd.get(country, [])
        if matcher.match(spelling).canonical != country
    }
    assert wrong == {}
