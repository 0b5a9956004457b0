"""The committed ``graphql_api/schema.graphql`` is what ``strawberry export-schema`` prints."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from graphql_api.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "graphql_api" / "schema.graphql"
REGENERATE = (
    "strawberry export-schema graphql_api.schema:schema --output graphql_api/schema.graphql"
)


def test_committed_schema_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == print_schema(schema) + "\n", f"schema.graphql is stale: run `{REGENERATE}`"


def test_schema_keeps_the_design_contract() -> None:
    """The names the app reads are a contract with it: they may grow; a change updates both."""
    sdl = print_schema(schema)
    for line in (
        "kpis: Kpis!",
        "revenueByCountry(orderBy: RevenueOrder = null, limit: Int = null): [CountryRevenue!]!",
        "revenueByProduct(orderBy: RevenueOrder = null, limit: Int = null): [ProductRevenue!]!",
        "monthlyRevenue(from: String = null, to: String = null): [MonthlyRevenue!]!",
        "customer(customerId: Int!): Customer",
        "customers(filter: CustomerFilter = null, orderBy: CustomerOrder = null, "
        "first: Int = null, after: String = null, last: Int = null, before: String = null): "
        "CustomerConnection!",
        "node(",
        "type Customer implements Node {",
        "segment: Segment!",
        "hasPreviousPage: Boolean!",
        "segments: [SegmentSummary!]!",
        "revenueGrowthLastMonth: Float",
        "signupDate: Date!",
        "firstOrder: DateTime",
        "rfmScore: String",
        "avgPrice: Float!",
    ):
        assert line in sdl, line
