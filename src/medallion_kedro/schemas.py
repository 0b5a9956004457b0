"""Data contracts: the columns and types of every table, layer by layer.

Raw sources and bronze are text; silver and gold are typed as below. The source tables are
declared once, in :data:`SOURCES` (each column's silver type, parse, bounds, reasons and
an example text); bronze's layout check, silver's rules, the generator's columns and the
tests' fixtures follow from it. The gold tables are declared once, in :data:`GOLD_TABLES`
(columns, types, meaning, business key, MongoDB indexes); the export, the API's types and
the app's views follow from it or are tested against it. Every save of a table with a
contract is checked against it by :class:`medallion_kedro.hooks.ContractHooks`, so nodes
only compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

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

#: Lineage columns bronze adds to every row: when the batch was ingested, the landing file
#: it came from, the batch's id and whether the row had the wrong number of fields.
INGESTED_AT = "_ingested_at"
SOURCE_FILE = "_source_file"
BATCH_ID = "_batch_id"
MALFORMED = "_malformed"
BRONZE_META: tuple[str, ...] = (INGESTED_AT, SOURCE_FILE, BATCH_ID, MALFORMED)
#: Position of a bronze row in its landing file (1 for the first data row).
SOURCE_ROW = "_source_row"

#: Money from silver on: exact decimals with 2 places (see ``pipelines/gold/nodes.py``).
MONEY = pl.Decimal(18, 2)

REASON = "reason"
DUPLICATE_REASON = "duplicate key: a later row with the same key wins"

#: How silver types a source column's text (see ``pipelines/silver/rules.py``).
ParseKind = Literal["int", "text", "email", "date", "timestamp", "amount", "title", "country"]
#: The ``silver`` parameter holding the format of each parse that takes one.
FORMAT_PARAMETER: dict[str, str] = {"date": "date_format", "timestamp": "timestamp_format"}
#: A limit on a typed value: ``positive`` (above zero), ``at_most`` / ``not_before`` a
#: ``silver`` parameter, ``not_after`` as_of plus ``silver.future_tolerance_days``.
BoundKind = Literal["positive", "at_most", "not_before", "not_after"]


class ContractError(ValueError):
    """A data contract in this module is incomplete or contradicts itself."""


@dataclass(frozen=True)
class Bound:
    """A limit a column's typed value keeps, else its row is rejected; ``why`` is the
    reason the limit exists (documentation, and the design notes' table)."""

    kind: BoundKind
    why: str
    #: The ``silver`` parameter giving the limit (``at_most``, ``not_before``).
    parameter: str | None = None


@dataclass(frozen=True)
class SourceColumn:
    """One column of a source table: its silver type, how its text is parsed, what makes
    the row invalid, and a valid source text (``example``).

    A ``required`` column whose parse gives null rejects its row with ``invalid`` (its
    ``{format}``, if any, filled from the parse's format parameter); a descriptive column
    (``required=False``) keeps its row, is null in silver and the row is listed in
    ``quality.warnings`` with ``invalid``. ``references`` names the table whose key the
    value must be (an orphan is rejected, after every column's own rules).
    """

    name: str
    dtype: PolarsDataType
    parse: ParseKind
    description: str
    invalid: str
    required: bool = True
    bounds: tuple[Bound, ...] = ()
    references: str | None = None
    #: A valid text of this column in a source export (what a fixture or example gives).
    example: str = ""

    def __post_init__(self) -> None:
        if self.parse not in get_args(ParseKind):
            raise ContractError(
                f"source column {self.name}: parse {self.parse!r} is not one of "
                f"{', '.join(get_args(ParseKind))} (medallion_kedro/schemas.py)"
            )
        if not self.example:
            raise ContractError(
                f"source column {self.name}: give a valid source text as example= "
                "(medallion_kedro/schemas.py)"
            )


#: Earliest dates silver accepts: a date before it (1900-01-01, 1970-01-01: a placeholder
#: or an epoch default of the source system) is a missing value written as a date.
_EARLIEST = Bound(
    "not_before",
    "a date before silver.earliest_date is a source system's placeholder or epoch default "
    "(1900-01-01, 1970-01-01), not a real date",
    parameter="earliest_date",
)

#: The source tables, column by column: the one declaration of what a source must give and
#: of the silver table it becomes. Bronze's layout check, silver's rules, the generator's
#: columns and the tests' fixtures derive from it.
SOURCES: dict[str, tuple[SourceColumn, ...]] = {
    "customers": (
        SourceColumn(
            "customer_id", pl.Int64, "int", "The customer id (business key).",
            "invalid customer_id: not a whole number", example="1",
        ),
        SourceColumn("name", pl.String, "text", "Full name.", "missing name", example="Ann Lee"),
        SourceColumn(
            "email", pl.String, "email", "Email address, lower-cased.", "invalid email",
            example="ann@example.com",
        ),
        SourceColumn(
            "signup_date", pl.Date, "date", "Day the customer signed up.",
            "invalid signup_date: not a date like {format}", bounds=(_EARLIEST,),
            example="2024-01-01",
        ),
        SourceColumn(
            "country", pl.String, "country",
            "Country name (ISO 3166), from any known spelling.",
            "unknown country: kept as null (see quality.country_mappings)",
            required=False, example="France",
        ),
    ),
    "orders": (
        SourceColumn(
            "order_id", pl.Int64, "int", "The order id (business key).",
            "invalid order_id: not a whole number", example="1",
        ),
        SourceColumn(
            "customer_id", pl.Int64, "int", "The customer who ordered.",
            "invalid customer_id: not a whole number", references="customers", example="1",
        ),
        SourceColumn(
            "order_ts", pl.Datetime("us"), "timestamp", "Time of the order.",
            "invalid order_ts: not a timestamp like {format}",
            bounds=(
                Bound(
                    "not_after",
                    "an order cannot be placed after the data was built (a wrong clock "
                    "or a wrong format)",
                ),
                _EARLIEST,
            ),
            example="2026-01-01 10:00:00",
        ),
        SourceColumn(
            "amount", MONEY, "amount", "Amount paid, exact to the cent.",
            "invalid amount: not a decimal number with at most 2 decimals",
            bounds=(
                Bound("positive", "an order pays something; refunds are not orders"),
                Bound(
                    "at_most",
                    "an amount above it is a typing or unit error (cents as units)",
                    parameter="max_amount",
                ),
            ),
            example="1.00",
        ),
        SourceColumn(
            "product", pl.String, "title", "Product name, title-cased.",
            "missing product: kept as null", required=False, example="Laptop",
        ),
    ),
}  # fmt: skip

#: Columns and types of each silver table (from :data:`SOURCES`).
SILVER: dict[str, pl.Schema] = {
    table: pl.Schema({c.name: c.dtype for c in columns}) for table, columns in SOURCES.items()
}

#: Column names of each source table once ``column_map`` has been applied: the silver
#: columns, as text (a source without ``column_map`` uses these names).
RAW_COLUMNS: dict[str, tuple[str, ...]] = {t: tuple(s.names()) for t, s in SILVER.items()}


def source_columns(frame: pl.DataFrame, table: str, who: str) -> pl.DataFrame:
    """``frame``'s source columns of ``table``, in contract order; a column the contract
    declares but ``frame`` lacks fails with its name and ``who`` must give it."""
    declared = [c.name for c in SOURCES[table]]
    missing = [c for c in declared if c not in frame.columns]
    if missing:
        names = ", ".join(f"{table}.{c}" for c in missing)
        raise ContractError(
            f"{who} gives no value for the source column(s) {names} that "
            "medallion_kedro/schemas.py SOURCES declares: add them there"
        )
    return frame.select(declared)


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


def _revenue_mart(
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
        _revenue_mart(
            "revenue_by_country",
            Column("country", pl.String, "Country name, one spelling per country."),
            Column("avg_basket", MONEY, "Average order amount in the country."),
            "Revenue of one country (the customer's country).",
            "country",
            "from the country",
        ),
        _revenue_mart(
            "revenue_by_product",
            Column("product", pl.String, "Product name, title-cased."),
            Column("avg_price", MONEY, "Average amount of the product's orders."),
            "Revenue of one product.",
            "product",
            "of the product",
        ),
        _revenue_mart(
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
