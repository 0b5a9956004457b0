from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from medallion_kedro.pipelines.generate.nodes import generate_customers, generate_orders

PARAMS = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "conf/base/parameters_generate.yml").read_text()
)
GEN = PARAMS["generator"]


def _orders(n: int = 20_000, share: float = 0.1, seed: int = 1) -> pl.DataFrame:
    return generate_orders(n, 500, seed, "2026-11-01", share, GEN)


def test_same_seed_and_as_of_give_the_same_files() -> None:
    assert _orders().equals(_orders())
    assert generate_customers(300, 3, "2026-11-01", 0.1, GEN).equals(
        generate_customers(300, 3, "2026-11-01", 0.1, GEN)
    )
    assert not _orders(seed=2).equals(_orders(seed=1))


def test_clean_orders_are_all_valid_text() -> None:
    orders = _orders(share=0.0)
    assert orders.height == 20_000
    assert orders.columns == ["order_id", "customer_id", "order_ts", "amount", "product"]
    assert all(dtype == pl.String for dtype in orders.dtypes)
    assert orders["order_id"].n_unique() == orders.height
    amounts = orders["amount"].cast(pl.Float64)
    assert amounts.min() >= 1.0  # type: ignore[operator]
    assert orders["amount"].str.contains(r"^\d+\.\d\d$").all()
    ts = orders["order_ts"].str.to_datetime("%Y-%m-%d %H:%M:%S")
    assert str(ts.max()) < "2026-11-01" and str(ts.min()) >= "2024-11-01"
    ids = orders["customer_id"].cast(pl.Int64)
    assert ids.min() >= 1 and ids.max() <= 500  # type: ignore[operator]


def test_every_kind_of_dirty_order_appears() -> None:
    orders = _orders(share=0.2)
    amount = orders["amount"]
    assert orders.height > 20_000  # duplicates are extra rows
    assert orders["order_id"].is_duplicated().any()
    assert amount.is_null().any()
    assert (amount.str.starts_with("-").any()) and (amount == "0.00").any()
    assert orders["order_ts"].str.starts_with("2026-13").any()
    assert orders["customer_id"].is_null().any()
    assert (orders["customer_id"].cast(pl.Int64, strict=False) > 500).any()


def test_every_kind_of_dirty_customer_appears() -> None:
    customers = generate_customers(2_000, 5, "2026-11-01", 0.3, GEN)
    assert customers["customer_id"].is_duplicated().any()
    assert customers["email"].is_null().any() and customers["name"].is_null().any()
    assert (customers["signup_date"] == "2025-02-30").any()
    countries = set(customers["country"].drop_nulls())
    assert countries & set(GEN["unknown_countries"])
    assert countries - set(GEN["countries"]) - set(GEN["unknown_countries"])  # odd spellings


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n_orders must be a whole number >= 1"),
        ({"share": 0.9}, "dirty_share must be between 0 and 0.5"),
    ],
)
def test_bad_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _orders(**kwargs)  # type: ignore[arg-type]
