"""Data contracts: the columns and types of every table, layer by layer.

Raw sources and bronze are text; silver and gold are typed as below. Nodes check their
outputs against these contracts with :func:`check_schema`, so a change in one place
fails loudly instead of drifting.
"""

from __future__ import annotations

import polars as pl
from polars._typing import PolarsDataType

TABLES = ("customers", "orders")

#: What a node may receive for a table: a frame, or a lazy scan of a lake table.
Frame = pl.DataFrame | pl.LazyFrame


def _schema(columns: dict[str, PolarsDataType]) -> pl.Schema:
    return pl.Schema(columns)


#: Column names of each source table once ``column_map`` has been applied.
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "name", "email", "signup_date", "country"),
    "orders": ("order_id", "customer_id", "order_ts", "amount", "product"),
}

#: Business key of each table.
KEYS: dict[str, str] = {"customers": "customer_id", "orders": "order_id"}

#: Lineage columns bronze adds to every row.
BRONZE_META: tuple[str, ...] = ("_ingested_at", "_source_file", "_batch_id", "_malformed")
#: Position of the row in its source file, so "last ingested wins" is well defined.
ROW_NUMBER = "_row_number"

#: Money from silver on: exact decimals with 2 places (see ``pipelines/gold/nodes.py``).
MONEY = pl.Decimal(18, 2)

REASON = "reason"
DUPLICATE_REASON = "duplicate key: a later row with the same key wins"

SILVER: dict[str, pl.Schema] = {
    "customers": _schema(
        {
            "customer_id": pl.Int64,
            "name": pl.String,
            "email": pl.String,
            "signup_date": pl.Date,
            "country": pl.String,
        }
    ),
    "orders": _schema(
        {
            "order_id": pl.Int64,
            "customer_id": pl.Int64,
            "order_ts": pl.Datetime("us"),
            "amount": MONEY,
            "product": pl.String,
        }
    ),
}

RECONCILIATION = _schema(
    {
        "table": pl.String,
        "bronze_rows": pl.Int64,
        "silver_rows": pl.Int64,
        "rejected_rows": pl.Int64,
        "duplicates_removed": pl.Int64,
        "warning_rows": pl.Int64,
        "balanced": pl.Boolean,
    }
)

#: Rows kept in silver with a descriptive value that could not be recognised.
WARNINGS = _schema(
    {
        "table": pl.String,
        "key": pl.String,
        "column": pl.String,
        "raw_value": pl.String,
        "reason": pl.String,
        "batch_id": pl.String,
    }
)

#: Every raw country spelling that was not the canonical name as written.
COUNTRY_MAPPINGS = _schema(
    {
        "raw_value": pl.String,
        "canonical": pl.String,
        "how": pl.String,
        "score": pl.Float64,
        "rows": pl.Int64,
    }
)

GOLD: dict[str, pl.Schema] = {
    "revenue_by_country": _schema(
        {
            "country": pl.String,
            "total_revenue": MONEY,
            "total_orders": pl.Int64,
            "avg_basket": MONEY,
        }
    ),
    "revenue_by_product": _schema(
        {
            "product": pl.String,
            "total_revenue": MONEY,
            "total_orders": pl.Int64,
            "avg_price": MONEY,
        }
    ),
    "monthly_revenue": _schema(
        {
            "month": pl.String,
            "total_revenue": MONEY,
            "total_orders": pl.Int64,
            "avg_basket": MONEY,
        }
    ),
    "customer_metrics": _schema(
        {
            "customer_id": pl.Int64,
            "name": pl.String,
            "email": pl.String,
            "signup_date": pl.Date,
            "country": pl.String,
            "total_spent": MONEY,
            "order_count": pl.Int64,
            "avg_basket": MONEY,
            "first_order": pl.Datetime("us"),
            "last_order": pl.Datetime("us"),
            "recency_days": pl.Int64,
            "rfm_score": pl.String,
            "segment": pl.String,
        }
    ),
    "kpis": _schema(
        {
            "total_revenue": MONEY,
            "total_orders": pl.Int64,
            "total_customers": pl.Int64,
            "active_customers": pl.Int64,
            "avg_basket": MONEY,
            "revenue_growth_last_month": pl.Float64,
            "as_of": pl.Date,
        }
    ),
}

#: Business key of each gold table (the ``_id`` of its MongoDB documents).
GOLD_KEYS: dict[str, str | None] = {
    "revenue_by_country": "country",
    "revenue_by_product": "product",
    "monthly_revenue": "month",
    "customer_metrics": "customer_id",
    "kpis": None,  # one row, stored under a fixed key
}


class SchemaError(ValueError):
    """A frame does not match its data contract."""


def check_schema(df: pl.DataFrame, expected: pl.Schema, what: str) -> pl.DataFrame:
    """Return ``df`` unchanged if its columns and types are ``expected``; raise otherwise."""
    actual = df.schema
    if list(actual.names()) != list(expected.names()):
        raise SchemaError(
            f"{what}: columns {list(actual.names())} do not match the contract "
            f"{list(expected.names())} in medallion_kedro/schemas.py"
        )
    wrong = {n: (str(actual[n]), str(t)) for n, t in expected.items() if actual[n] != t}
    if wrong:
        detail = ", ".join(f"{n} is {a}, expected {e}" for n, (a, e) in wrong.items())
        raise SchemaError(f"{what}: {detail} (contract in medallion_kedro/schemas.py)")
    return df
