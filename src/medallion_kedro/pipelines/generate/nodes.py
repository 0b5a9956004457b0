"""Seeded, vectorised generators of the raw source exports (DESIGN §2).

Every value is drawn from ``numpy.random.default_rng([seed, stream])`` and dates count back
from ``as_of``, so a given ``seed`` and ``as_of`` always give the same files. Faker is only
used to draw a small pool of first and last names; rows combine them by index.

Dirty rows: each row is damaged with probability ``dirty_share``, the kind of damage drawn
uniformly from the kinds below, so every kind appears once the data set is big enough.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
from faker import Faker

from medallion_kedro.dates import parse_as_of

_NAME_POOL = 500
_SECONDS_PER_DAY = 86_400

#: Damage done to customer rows, by kind number.
CUSTOMER_DAMAGE = {
    1: "duplicate (re-exported later with a new email)",
    2: "null email",
    3: "impossible signup_date",
    4: "country spelled oddly (mapped back in silver)",
    5: "unknown country",
    6: "null name",
}
#: Damage done to order rows, by kind number.
ORDER_DAMAGE = {
    1: "duplicate (same row exported twice)",
    2: "null amount",
    3: "negative or zero amount",
    4: "impossible order_ts",
    5: "unknown customer",
    6: "null customer_id",
}


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _check_settings(count: int, name: str, dirty_share: float) -> None:
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {count!r}")
    if not 0.0 <= float(dirty_share) <= 0.5:
        raise ValueError(f"dirty_share must be between 0 and 0.5, got {dirty_share!r}")


def _damage(rng: np.random.Generator, n: int, share: float, kinds: int) -> np.ndarray:
    """0 for a clean row, else the kind of damage (1..kinds)."""
    hit = rng.random(n) < share
    return np.where(hit, rng.integers(1, kinds + 1, n), 0).astype(np.int8)


def _name_pool(seed: int) -> tuple[pl.Series, pl.Series]:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    firsts = pl.Series([fake.first_name() for _ in range(_NAME_POOL)])
    lasts = pl.Series([fake.last_name() for _ in range(_NAME_POOL)])
    return firsts, lasts


def _pick(values: list[str], rng: np.random.Generator, n: int) -> pl.Series:
    return pl.Series(values).gather(rng.integers(0, len(values), n))


def generate_customers(
    n_customers: int,
    seed: int,
    as_of: str,
    dirty_share: float,
    generator: dict[str, Any],
) -> pl.DataFrame:
    """Customers export: ids 1..n, names and emails from a Faker pool, signups before ``as_of``."""
    _check_settings(n_customers, "n_customers", dirty_share)
    rng = _rng(seed, 1)
    firsts, lasts = _name_pool(seed)
    n = n_customers
    days = int(generator["history_days"]) + 365
    base = pl.DataFrame(
        {
            "customer_id": pl.int_range(1, n + 1, eager=True).cast(pl.String),
            "first": firsts.gather(rng.integers(0, _NAME_POOL, n)),
            "last": lasts.gather(rng.integers(0, _NAME_POOL, n)),
            "signup_date": pl.Series(rng.integers(1, days, n)).cast(pl.Int64),
            "country": _pick(list(generator["countries"]), rng, n),
            "kind": _damage(rng, n, dirty_share, len(CUSTOMER_DAMAGE)),
            "unknown": _pick(list(generator["unknown_countries"]), rng, n),
        }
    )
    kind = pl.col("kind")
    rows = base.with_columns(
        name=pl.concat_str("first", pl.lit(" "), "last"),
        email=pl.concat_str("first", pl.lit("."), "last", "customer_id", pl.lit("@Example.com")),
        signup_date=(
            pl.lit(parse_as_of(as_of)) - pl.duration(days=pl.col("signup_date"))
        ).dt.strftime("%Y-%m-%d"),
    ).with_columns(
        email=pl.when(kind == 2).then(None).otherwise("email"),
        signup_date=pl.when(kind == 3).then(pl.lit("2025-02-30")).otherwise("signup_date"),
        country=pl.when(kind == 4)
        .then(_odd_country(generator))
        .when(kind == 5)
        .then("unknown")
        .otherwise("country"),
        name=pl.when(kind == 6).then(None).otherwise("name"),
    )
    resent = rows.filter(kind == 1).with_columns(email=pl.concat_str(pl.lit("new."), "email"))
    columns = ["customer_id", "name", "email", "signup_date", "country"]
    return pl.concat([rows.select(columns), resent.select(columns)])


def _odd_country(generator: dict[str, Any]) -> pl.Expr:
    """An odd spelling of the row's country: a known alias, else the name upper-cased."""
    odd = {str(k): str(v) for k, v in generator["odd_countries"].items()}
    return (
        pl.col("country")
        .replace_strict(odd, default=None, return_dtype=pl.String)
        .fill_null(pl.col("country").str.to_uppercase())
    )


def generate_orders(
    n_orders: int,
    n_customers: int,
    seed: int,
    as_of: str,
    dirty_share: float,
    generator: dict[str, Any],
) -> pl.DataFrame:
    """Orders export: ``n_orders`` orders over ``history_days`` before ``as_of`` (+ dirty rows)."""
    _check_settings(n_orders, "n_orders", dirty_share)
    rng = _rng(seed, 2)
    n = n_orders
    end = dt.datetime.combine(parse_as_of(as_of), dt.time())
    span = int(generator["history_days"]) * _SECONDS_PER_DAY
    cents = np.maximum(np.rint(rng.lognormal(3.8, 0.8, n) * 100), 100).astype(np.int64)
    base = pl.DataFrame(
        {
            "order_id": pl.int_range(1, n + 1, eager=True),
            "customer_id": rng.integers(1, n_customers + 1, n),
            "seconds": rng.integers(1, span, n),
            "cents": cents,
            "product": _pick(list(generator["products"]), rng, n),
            "kind": _damage(rng, n, dirty_share, len(ORDER_DAMAGE)),
        }
    )
    kind = pl.col("kind")
    amount = pl.concat_str(
        (pl.col("cents") // 100).cast(pl.String),
        pl.lit("."),
        (pl.col("cents") % 100).cast(pl.String).str.zfill(2),
    )
    rows = base.select(
        pl.col("order_id").cast(pl.String),
        customer_id=pl.when(kind == 5)
        .then(pl.col("customer_id") + n_customers)
        .otherwise("customer_id")
        .cast(pl.String),
        order_ts=(pl.lit(end) - pl.duration(seconds=pl.col("seconds"))).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
        amount=amount,
        product="product",
        kind=kind,
    ).with_columns(
        customer_id=pl.when(kind == 6).then(None).otherwise("customer_id"),
        order_ts=pl.when(kind == 4).then(pl.lit("2026-13-45 25:61:00")).otherwise("order_ts"),
        amount=pl.when(kind == 2)
        .then(None)
        .when(kind == 3)
        .then(
            pl.when(pl.col("order_id").str.ends_with("0"))
            .then(pl.lit("0.00"))
            .otherwise(pl.concat_str(pl.lit("-"), "amount"))
        )
        .otherwise("amount"),
    )
    columns = ["order_id", "customer_id", "order_ts", "amount", "product"]
    return pl.concat([rows.select(columns), rows.filter(kind == 1).select(columns)])
