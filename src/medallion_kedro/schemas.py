"""Data contracts: the columns and types of every table, layer by layer.

Raw sources and bronze are text; silver and gold are typed as below. The gold tables are
declared once, in :data:`GOLD_TABLES` (columns, types, meaning, business key, MongoDB
indexes); the export, the API's types and the app's views follow from it or are tested
against it. Every save of a table with a contract is checked against it by
:class:`medallion_kedro.hooks.ContractHooks`, so nodes only compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl
from polars._typing import PolarsDataType

TABLES = ("customers", "orders")

#: What a node may receive for a table: a frame, or a lazy scan of a lake table.
Frame = pl.DataFrame | pl.LazyFrame
F = TypeVar("F", pl.DataFrame, pl.LazyFrame)


def _schema(columns: dict[str, PolarsDataType]) -> pl.Schema:
    return pl.Schema(columns)


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

#: Column names of each source table once ``column_map`` has been applied: the silver
#: columns, as text (a source without ``column_map`` uses these names).
RAW_COLUMNS: dict[str, tuple[str, ...]] = {t: tuple(s.names()) for t, s in SILVER.items()}

RECONCILIATION = _schema(
    {
        "table": pl.String,
        "bronze_rows": pl.Int64,
        "silver_rows": pl.Int64,
        "rejected_rows": pl.Int64,
        "duplicates_removed": pl.Int64,
        "waiting_rows": pl.Int64,
        "warning_rows": pl.Int64,
        "balanced": pl.Boolean,
    }
)

#: One row per live batch (landing file) of each table, with where its rows went.
BATCH_RECONCILIATION = _schema(
    {
        "batch_id": pl.String,
        "table": pl.String,
        "source_file": pl.String,
        "bronze_rows": pl.Int64,
        "silver_rows": pl.Int64,
        "rejected_rows": pl.Int64,
        "duplicates_removed": pl.Int64,
        "waiting_rows": pl.Int64,
        "applied_at": pl.Datetime("us"),
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


@dataclass(frozen=True)
class Column:
    """One column of a gold table: its name, type and meaning (also the API's field text)."""

    name: str
    dtype: PolarsDataType
    description: str
    #: Whether the column may hold nulls (the API's field is then optional).
    nullable: bool = False


@dataclass(frozen=True)
class GoldTable:
    """The contract of one gold table, read by every part that touches it.

    The gold pipeline's saves are checked against :attr:`schema`; the MongoDB export takes
    its ``_id`` and indexes from :attr:`key` and :attr:`indexes`
    (:meth:`export_spec`); the API's types and the app's views are tested against the
    columns (``tests/test_contracts.py``).
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    #: Business key, the ``_id`` of its MongoDB documents (unique index); ``None`` for a
    #: one-row table, stored under the fixed ``_id`` :attr:`name`.
    key: str | None
    #: Further MongoDB indexes serving the API: ``{"keys": {field: 1 | -1}, ...}``.
    indexes: tuple[dict[str, Any], ...] = ()

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"gold.{self.name} has no column {name!r} (medallion_kedro/schemas.py)")

    def export_spec(self) -> dict[str, Any]:
        """This table's entry in the export's ``collections`` (key or fixed id, indexes)."""
        if self.key is None:
            return {"fixed_id": self.name, "indexes": list(self.indexes)}
        unique = {"keys": {self.key: 1}, "unique": True}
        return {"key": self.key, "indexes": [unique, *self.indexes]}


def _revenue_table(
    name: str,
    key: Column,
    avg: Column,
    description: str,
    what: str,
    orders: str,
    *,
    by_revenue: bool = True,
) -> GoldTable:
    """A revenue mart: its key, total revenue, order count and an average, per ``what``."""
    return GoldTable(
        name=name,
        description=description,
        columns=(
            key,
            Column("total_revenue", MONEY, f"Sum of the {what}'s order amounts."),
            Column("total_orders", pl.Int64, f"Number of orders {orders}."),
            avg,
        ),
        key=key.name,
        indexes=({"keys": {"total_revenue": -1}},) if by_revenue else (),
    )


_NO_ORDERS = "; null without orders."

#: Every gold table, by name: the one declaration of the gold contract.
GOLD_TABLES: dict[str, GoldTable] = {
    t.name: t
    for t in (
        _revenue_table(
            "revenue_by_country",
            Column("country", pl.String, "Country name, one spelling per country."),
            Column("avg_basket", MONEY, "Average order amount in the country."),
            "Revenue of one country (the customer's country).",
            "country",
            "from the country",
        ),
        _revenue_table(
            "revenue_by_product",
            Column("product", pl.String, "Product name, title-cased."),
            Column("avg_price", MONEY, "Average amount of the product's orders."),
            "Revenue of one product.",
            "product",
            "of the product",
        ),
        _revenue_table(
            "monthly_revenue",
            Column("month", pl.String, "The month, written YYYY-MM."),
            Column("avg_basket", MONEY, "Average order amount in the month."),
            "Revenue of one calendar month.",
            "month",
            "in the month",
            by_revenue=False,
        ),
        GoldTable(
            name="customer_metrics",
            description="One customer with their purchase metrics and RFM segment.",
            columns=(
                Column("customer_id", pl.Int64, "The customer id (business key)."),
                Column("name", pl.String, "Full name."),
                Column("email", pl.String, "Email address, lower-cased; unique."),
                Column("signup_date", pl.Date, "Day the customer signed up."),
                Column("country", pl.String, "Country name, one spelling per country."),
                Column("total_spent", MONEY, "Sum of the customer's order amounts."),
                Column("order_count", pl.Int64, "Number of valid orders."),
                Column(
                    "avg_basket",
                    MONEY,
                    "Average order amount; null for a customer without orders.",
                    nullable=True,
                ),
                Column(
                    "first_order",
                    pl.Datetime("us"),
                    "Time of the first order" + _NO_ORDERS,
                    nullable=True,
                ),
                Column(
                    "last_order",
                    pl.Datetime("us"),
                    "Time of the last order" + _NO_ORDERS,
                    nullable=True,
                ),
                Column(
                    "recency_days",
                    pl.Int64,
                    "Days from the last order to the `asOf` date" + _NO_ORDERS,
                    nullable=True,
                ),
                Column(
                    "rfm_score",
                    pl.String,
                    "Recency, frequency and monetary scores (1 to 5 each), e.g. '545'" + _NO_ORDERS,
                    nullable=True,
                ),
                Column(
                    "segment",
                    pl.String,
                    "Segment derived from the RFM score; INACTIVE without orders.",
                ),
            ),
            key="customer_id",
            indexes=(
                {"keys": {"email": 1}},
                {"keys": {"country": 1}},
                {"keys": {"segment": 1}},
                # the API's customer pages: ORDER BY total_spent DESC, customer_id (keyset)
                {"keys": {"total_spent": -1, "customer_id": 1}},
            ),
        ),
        GoldTable(
            name="segments",
            description="Customers of one RFM segment, counted and summed.",
            columns=(
                Column("segment", pl.String, "The segment."),
                Column("customers", pl.Int64, "Number of customers in the segment."),
                Column("total_spent", MONEY, "Sum of the segment's total spent."),
                Column(
                    "avg_basket",
                    MONEY,
                    "Average order amount in the segment; null when it has no orders.",
                    nullable=True,
                ),
            ),
            key="segment",
        ),
        GoldTable(
            name="kpis",
            description="Headline figures of the whole business at the `asOf` date.",
            columns=(
                Column("total_revenue", MONEY, "Sum of all valid order amounts."),
                Column("total_orders", pl.Int64, "Number of valid orders."),
                Column("total_customers", pl.Int64, "Number of known customers."),
                Column(
                    "active_customers",
                    pl.Int64,
                    "Customers whose last order is at most 90 days (gold's "
                    "`active_window_days`) before `asOf`.",
                ),
                Column("avg_basket", MONEY, "Average order amount."),
                Column(
                    "revenue_growth_last_month",
                    pl.Float64,
                    "Revenue growth of the last full month before `asOf` over the month "
                    "before it, in percent (8.5 = +8.5 %); null when that month had no "
                    "revenue.",
                    nullable=True,
                ),
                Column("as_of", pl.Date, "The reference date the data was built for."),
            ),
            key=None,
        ),
    )
}

#: Columns and types of each gold table (from :data:`GOLD_TABLES`).
GOLD: dict[str, pl.Schema] = {name: t.schema for name, t in GOLD_TABLES.items()}

#: Business key of each gold table (the ``_id`` of its MongoDB documents).
GOLD_KEYS: dict[str, str | None] = {name: t.key for name, t in GOLD_TABLES.items()}


def export_collections() -> dict[str, dict[str, Any]]:
    """The export's ``collections``: every gold table with its key and indexes."""
    return {name: t.export_spec() for name, t in GOLD_TABLES.items()}


class SchemaError(ValueError):
    """A frame does not match its data contract."""


def check_schema(df: F, expected: pl.Schema, what: str) -> F:
    """Return ``df`` unchanged if its columns and types are ``expected``; raise otherwise.

    A lazy frame is checked on its schema alone, without running the query.
    """
    actual = df.collect_schema()
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


#: Contracts of the quality tables that have a fixed shape (the rejected rows keep their
#: source's text columns).
QUALITY: dict[str, pl.Schema] = {
    "reconciliation": RECONCILIATION,
    "batch_reconciliation": BATCH_RECONCILIATION,
    "warnings": WARNINGS,
    "country_mappings": COUNTRY_MAPPINGS,
}
#: Contract of each layer's tables, by layer: what a dataset ``<layer>.<table>`` must hold.
CONTRACTS: dict[str, dict[str, pl.Schema]] = {"silver": SILVER, "gold": GOLD, "quality": QUALITY}


def contract_of(dataset: str) -> pl.Schema | None:
    """The contract of catalog dataset ``dataset`` (``gold.kpis``), or None if it has none."""
    layer, _, table = dataset.partition(".")
    return CONTRACTS.get(layer, {}).get(table)
