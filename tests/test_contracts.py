"""The gold contract (``medallion_kedro.schemas.GOLD_TABLES``) and the parts that follow it.

Each drift fails naming the table and the column, so the fix is obvious: the contract or
the part that serves it is wrong.
"""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLType

from graphql_api.schema import schema
from medallion_kedro.datasets import MongoExportDataset
from medallion_kedro.schemas import GOLD, GOLD_TABLES, export_collections
from ui.sources import base

#: The API type serving each gold table (a table may also be served by none).
SERVED_BY = {
    "kpis": "Kpis",
    "revenue_by_country": "CountryRevenue",
    "revenue_by_product": "ProductRevenue",
    "monthly_revenue": "MonthlyRevenue",
    "customer_metrics": "Customer",
    "segments": "SegmentSummary",
}
#: The GraphQL scalar of each polars type of the contract.
SCALARS = {
    pl.Decimal: "Float",
    pl.Float64: "Float",
    pl.Int64: "Int",
    pl.String: "String",
    pl.Date: "Date",
    pl.Datetime: "DateTime",
}
#: Columns the API serves as an enum of their values instead of the text.
ENUMS = {"segment": "Segment"}


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.title() for part in rest)


def _graphql_type(name: str) -> GraphQLObjectType:
    found = schema._schema.get_type(name)
    assert isinstance(found, GraphQLObjectType), f"the API has no object type {name}"
    return found


def _named(field_type: GraphQLType) -> tuple[str, bool]:
    """(type name, nullable) of a field's GraphQL type."""
    nullable = not isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return str(getattr(inner, "name", inner)), nullable


def drift(table: str, type_name: str) -> list[str]:
    """How the API type ``type_name`` differs from ``gold.<table>``, column by column."""
    fields = _graphql_type(type_name).fields
    problems = []
    for column in GOLD_TABLES[table].columns:
        where = f"gold.{table}.{column.name} (API {type_name}.{_camel(column.name)})"
        field = fields.get(_camel(column.name))
        if field is None:
            problems.append(f"{where}: no such field")
            continue
        got, nullable = _named(field.type)
        want = ENUMS.get(column.name) or SCALARS[column.dtype.base_type()]
        if got != want:
            problems.append(f"{where}: the API says {got}, the contract {column.dtype}")
        if nullable != column.nullable:
            problems.append(
                f"{where}: nullable is {nullable} in the API, {column.nullable} in the contract"
            )
        if field.description is None or column.description not in field.description:
            problems.append(f"{where}: description is not the contract's")
    return problems


@pytest.mark.parametrize("table", sorted(SERVED_BY))
def test_api_type_follows_the_gold_contract(table: str) -> None:
    assert drift(table, SERVED_BY[table]) == []


def test_drift_names_the_table_and_the_column() -> None:
    """The check above can fail: the kpis contract against the monthly type drifts."""
    problems = drift("kpis", "MonthlyRevenue")
    assert "gold.kpis.total_customers (API MonthlyRevenue.totalCustomers): no such field" in (
        problems
    )


@pytest.mark.parametrize(
    ("record", "table"), [(base.Kpis, "kpis"), (base.Customer, "customer_metrics")]
)
def test_app_records_have_the_contract_columns(record: type, table: str) -> None:
    fields = [f.name for f in dataclasses.fields(record)]
    assert fields == GOLD[table].names(), f"ui/sources/base.py {record.__name__} vs gold.{table}"


def test_app_frames_have_the_contract_columns() -> None:
    assert {name: s.names() for name, s in base.GOLD.items()} == {
        name: s.names() for name, s in GOLD.items()
    }


def test_export_publishes_every_gold_table_under_its_key() -> None:
    dataset = MongoExportDataset(database="contract", credentials={"uri": "mongodb://x"})
    assert dataset._describe()["collections"] == sorted(GOLD_TABLES)
    for name, spec in export_collections().items():
        key = GOLD_TABLES[name].key
        if key is None:
            assert spec["fixed_id"] == name
        else:
            assert spec["key"] == key and {"keys": {key: 1}, "unique": True} in spec["indexes"]
            assert key in GOLD[name].names(), f"gold.{name}: key {key} is not a column"


def test_saves_are_checked_against_the_contract_of_their_dataset() -> None:
    from kedro.pipeline import node

    from medallion_kedro.hooks import ContractHooks
    from medallion_kedro.schemas import SchemaError
    from medallion_kedro.settings import HOOKS

    assert any(isinstance(h, ContractHooks) for h in HOOKS)
    hooks, kpis = ContractHooks(), node(len, "x", "gold.kpis", name="kpis")
    good = pl.DataFrame(schema=GOLD["kpis"])
    hooks.before_dataset_saved("gold.kpis", good, kpis)
    hooks.before_dataset_saved("gold.kpis", good.lazy(), kpis)
    hooks.before_dataset_saved("bronze.orders", pl.DataFrame({"x": [1]}), kpis)  # no contract
    bad = good.with_columns(pl.col("total_orders").cast(pl.Float64))
    with pytest.raises(SchemaError, match=r"gold\.kpis \(output of node kpis\): total_orders is"):
        hooks.before_dataset_saved("gold.kpis", bad.lazy(), kpis)
    with pytest.raises(SchemaError, match=r"silver\.orders .*do not match"):
        hooks.before_dataset_saved("silver.orders", bad, kpis)
