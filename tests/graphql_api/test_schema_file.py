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
    """The names of DESIGN §6 are a contract with the UI: they may grow, never change."""
    sdl = print_schema(schema)
    for line in (
        "kpis: Kpis!",
        "revenueByCountry(orderBy: RevenueOrder = REVENUE_DESC, limit: Int = null): "
        "[CountryRevenue!]!",
        "revenueByProduct(orderBy: RevenueOrder = REVENUE_DESC, limit: Int = null): "
        "[ProductRevenue!]!",
        "monthlyRevenue(from: String = null, to: String = null): [MonthlyRevenue!]!",
        "customer(id: Int!): Customer",
        "customers(filter: CustomerFilter = null, orderBy: CustomerOrder = TOTAL_SPENT_DESC, "
        "first: Int = 20, after: String = null): CustomerConnection!",
        "segments: [SegmentSummary!]!",
        "revenueGrowthLastMonth: Float",
        "signupDate: Date!",
        "firstOrder: DateTime",
        "rfmScore: String",
        "avgPrice: Float!",
    ):
        assert line in sdl, line
