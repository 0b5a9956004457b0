"""Silver: type and validate bronze rows, deduplicate, quarantine what fails, reconcile.

A row's ``reason`` is the first rule it breaks (null when it passes every rule). Duplicates
are rows that pass every rule but have a later valid row with the same key: the last
ingested row wins (bronze keeps ingestion order). Nothing is dropped: each bronze row ends
in ``silver.<table>`` or in ``quality.rejected_<table>`` with its original text and reason.
"""

from __future__ import annotations

import logging
from typing import Any

import polars as pl

from medallion_kedro.pipelines.silver import rules as r
from medallion_kedro.schemas import (
    BRONZE_META,
    DUPLICATE_REASON,
    KEYS,
    RAW_COLUMNS,
    REASON,
    RECONCILIATION,
    ROW_NUMBER,
    SILVER,
    Frame,
    check_schema,
)

log = logging.getLogger(__name__)

TYPED = "_t_"
MALFORMED_REASON = "malformed row: wrong number of fields"


class ReconciliationError(RuntimeError):
    """Rows were lost or invented between bronze and silver."""


def _typed(column: str) -> str:
    return TYPED + column


def _reasons(checks: list[tuple[pl.Expr, str]]) -> pl.Enum:
    return pl.Enum(list(dict.fromkeys([*(why for _, why in checks), DUPLICATE_REASON])))


def _flag(
    bronze: Frame, typed: dict[str, pl.Expr], checks: list[tuple[pl.Expr, str]], table: str
) -> pl.DataFrame:
    """Add typed columns and the ``reason`` of the first failed check, then flag duplicates."""
    flagged = (
        bronze.lazy()
        .with_row_index(ROW_NUMBER)
        .select(ROW_NUMBER, **{_typed(c): e for c, e in typed.items()})
        .with_columns(r.first_failure(checks, _reasons(checks)).alias(REASON))
    )
    return _flag_duplicates(flagged.collect(engine="streaming"), _typed(KEYS[table]))


def _flag_duplicates(flagged: pl.DataFrame, key: str) -> pl.DataFrame:
    """Mark valid rows whose key has a later valid row as duplicates.

    Sorting the valid keys finds the few repeated ones cheaply; only their rows go through
    the (costly) hash-based "last distinct" check.
    """
    valid = pl.col(REASON).is_null()
    keys = flagged.select(pl.col(key).filter(valid).sort()).to_series()
    repeated = keys.filter(keys == keys.shift(1)).unique()
    if repeated.is_empty():
        return flagged
    candidates = flagged.filter(valid & pl.col(key).is_in(repeated.implode())).select(
        ROW_NUMBER, key
    )
    losers = candidates.filter(~pl.col(key).is_last_distinct()).get_column(ROW_NUMBER)
    return flagged.with_columns(
        pl.when(pl.col(ROW_NUMBER).is_in(losers.implode()))
        .then(pl.lit(DUPLICATE_REASON, dtype=flagged.schema[REASON]))
        .otherwise(pl.col(REASON))
        .alias(REASON)
    )


def flag_customers(bronze: Frame, rules: dict[str, Any]) -> pl.DataFrame:
    """Type, normalise and check customers (country mapped, email lower-cased)."""
    lookup = r.country_lookup(rules["countries"], rules["country_aliases"])
    t = {
        "customer_id": r.parse_int("customer_id"),
        "name": r.text("name"),
        "email": r.parse_email("email"),
        "signup_date": r.parse_date("signup_date", rules["date_format"]),
        "country": r.parse_country("country", lookup),
        "_malformed": pl.col("_malformed"),
    }
    missing = {c: pl.col(_typed(c)).is_null() for c in t}
    checks = [
        (pl.col(_typed("_malformed")), MALFORMED_REASON),
        (missing["customer_id"], "invalid customer_id: not a whole number"),
        (missing["name"], "missing name"),
        (missing["email"], "invalid email"),
        (missing["signup_date"], f"invalid signup_date: not a date like {rules['date_format']}"),
        (missing["country"], "unknown country: add it to silver.countries or country_aliases"),
    ]
    return _flag(bronze, t, checks, "customers")


def flag_orders(bronze: Frame, customers: pl.DataFrame, rules: dict[str, Any]) -> pl.DataFrame:
    """Type and check orders; an order whose customer is not in silver is an orphan."""
    t = {
        "order_id": r.parse_int("order_id"),
        "customer_id": r.parse_int("customer_id"),
        "order_ts": r.parse_timestamp("order_ts", rules["timestamp_format"]),
        "amount": r.parse_amount("amount"),
        "product": r.title("product"),
        "_malformed": pl.col("_malformed"),
    }
    missing = {c: pl.col(_typed(c)).is_null() for c in t}
    known = pl.col(_typed("customer_id")).is_in(customers.get_column("customer_id").implode())
    checks = [
        (pl.col(_typed("_malformed")), MALFORMED_REASON),
        (missing["order_id"], "invalid order_id: not a whole number"),
        (missing["customer_id"], "invalid customer_id: not a whole number"),
        (
            missing["order_ts"],
            f"invalid order_ts: not a timestamp like {rules['timestamp_format']}",
        ),
        (missing["amount"], "invalid amount: not a positive number"),
        (missing["product"], "missing product"),
        (~known, "unknown customer: customer_id is not in silver.customers"),
    ]
    return _flag(bronze, t, checks, "orders")


def split_flagged(
    flagged: pl.DataFrame, bronze: Frame, table: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Valid rows as typed silver columns; the others as their bronze text plus ``reason``.

    ``flagged`` holds only row numbers, typed values and reasons; the few rejected rows
    take their original text back from bronze by row number.
    """
    valid = pl.col(REASON).is_null()
    silver = flagged.filter(valid).select(pl.col(_typed(c)).alias(c) for c in SILVER[table].names())
    reasons = flagged.filter(~valid).select(ROW_NUMBER, pl.col(REASON).cast(pl.String))
    rejected = (
        bronze.lazy()
        .with_row_index(ROW_NUMBER)
        .filter(pl.col(ROW_NUMBER).is_in(reasons.get_column(ROW_NUMBER).implode()))
        .join(reasons.lazy(), on=ROW_NUMBER, how="left", maintain_order="left")
        .select(*RAW_COLUMNS[table], *BRONZE_META, REASON)
        .collect(engine="streaming")
    )
    return check_schema(silver, SILVER[table], f"silver.{table}"), rejected


def _rows(frame: Frame) -> int:
    """Row count; a lazy Parquet scan answers from the file footer without reading data."""
    return int(frame.lazy().select(pl.len()).collect().item())


def _balance(
    table: str, bronze: Frame, silver: pl.DataFrame, rejected: pl.DataFrame
) -> dict[str, Any]:
    duplicates = rejected.filter(pl.col(REASON) == DUPLICATE_REASON).height
    bronze_rows = _rows(bronze)
    return {
        "table": table,
        "bronze_rows": bronze_rows,
        "silver_rows": silver.height,
        "rejected_rows": rejected.height - duplicates,
        "duplicates_removed": duplicates,
        "balanced": bronze_rows == silver.height + rejected.height,
    }


def reconcile(
    bronze_customers: Frame,
    silver_customers: pl.DataFrame,
    rejected_customers: pl.DataFrame,
    bronze_orders: Frame,
    silver_orders: pl.DataFrame,
    rejected_orders: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Check ``bronze = silver + rejected + duplicates`` per table, then release the tables.

    Silver and quarantine tables pass through this node unchanged, so nothing is written to
    the lake's silver or quality layers when a count does not reconcile.
    """
    report = pl.DataFrame(
        [
            _balance("customers", bronze_customers, silver_customers, rejected_customers),
            _balance("orders", bronze_orders, silver_orders, rejected_orders),
        ],
        schema=RECONCILIATION,
        orient="row",
    )
    for row in report.iter_rows(named=True):
        log.info("reconciliation %s", row)
        if not row["balanced"]:
            raise ReconciliationError(
                f"silver.{row['table']} does not reconcile: bronze has {row['bronze_rows']} "
                f"rows but silver {row['silver_rows']} + rejected {row['rejected_rows']} + "
                f"duplicates {row['duplicates_removed']} = "
                f"{row['silver_rows'] + row['rejected_rows'] + row['duplicates_removed']}. "
                "Nothing was written to silver; this is a bug in the silver rules."
            )
    return silver_customers, rejected_customers, silver_orders, rejected_orders, report
