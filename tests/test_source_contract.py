"""The source contract (``schemas.SOURCES``): silver's rules, the generator, the landing
layouts and the tests' fixtures derive from it, and a piece forgotten when a source column
is added fails with a message of ours naming the column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml

from medallion_kedro import schemas
from medallion_kedro.pipelines.bronze.nodes import SourceLayoutError, ingest
from medallion_kedro.pipelines.generate.nodes import generate_customers, to_source_layout
from medallion_kedro.pipelines.silver import nodes
from medallion_kedro.schemas import SOURCES, ContractError, SourceColumn
from tests import handmade as hm

CONF = Path(__file__).resolve().parents[1] / "conf"
RULES = yaml.safe_load((CONF / "base/parameters_silver.yml").read_text())["silver"]
FR = yaml.safe_load((CONF / "fr_layout/parameters_bronze.yml").read_text())["bronze"]["sources"]
#: A source column the contract does not declare (yet).
FAX = SourceColumn(
    "fax", pl.String, "text", "Fax number.", "missing fax", required=False, example="0"
)


def test_silver_schema_and_raw_columns_come_from_the_sources() -> None:
    for table, columns in SOURCES.items():
        assert schemas.SILVER[table] == pl.Schema({c.name: c.dtype for c in columns})
        assert schemas.RAW_COLUMNS[table] == tuple(c.name for c in columns)
        assert all(c.example for c in columns)


def test_an_unknown_parse_is_refused_naming_the_column() -> None:
    with pytest.raises(ContractError, match=r"source column phone: parse 'phone_number'"):
        SourceColumn("phone", pl.String, "phone_number", "Phone.", "bad phone", example="0")  # type: ignore[arg-type]


def test_a_column_without_an_example_is_refused_naming_it() -> None:
    """The fixtures fill a column a test does not give with its example: one must exist."""
    with pytest.raises(ContractError, match=r"source column phone: give a valid source text"):
        SourceColumn("phone", pl.String, "text", "Phone.", "missing phone")


def test_a_column_the_generator_does_not_give_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.pipelines.generate.test_nodes import GEN

    monkeypatch.setitem(SOURCES, "customers", (*SOURCES["customers"], FAX))
    with pytest.raises(ContractError, match=r"generator .* customers\.fax"):
        generate_customers(10, 1, 0.0, GEN)


def test_a_layout_map_that_misses_a_source_column_is_named() -> None:
    french = {**FR["customers"], "column_map": dict(FR["customers"]["column_map"])}
    del french["column_map"]["pays"]
    raw = pl.DataFrame({k: ["1"] for k in french["column_map"]})
    with pytest.raises(SourceLayoutError, match=r"nothing maps to customers\.country"):
        ingest(raw, french, {"batch_id": "b", "ingested_at": "2026-01-01T00:00:00"}, "customers")
    frame = pl.DataFrame({c: ["1"] for c in schemas.RAW_COLUMNS["customers"]})
    with pytest.raises(ValueError, match=r"nothing maps to country"):
        to_source_layout(frame, french)


def test_fixtures_fill_the_columns_a_test_does_not_give() -> None:
    text = hm.with_source_columns("customer_id,name\n1,Ann\n", "customers")
    header, row = text.splitlines()
    others = [c for c in SOURCES["customers"] if c.name not in ("customer_id", "name")]
    assert header.split(",") == ["customer_id", "name", *(c.name for c in others)]
    assert row.split(",") == ["1", "Ann", *(c.example for c in others)]


def _bronze(table: str, given: dict[str, list[str]]) -> pl.DataFrame:
    frame = pl.DataFrame(given, schema=dict.fromkeys(given, pl.String))
    return hm.source_frame(table, frame).with_columns(
        _ingested_at=pl.lit(dt.datetime(2026, 1, 1)),
        _source_file=pl.lit("f.csv"),
        _batch_id=pl.lit("b1"),
        _malformed=pl.lit(False),
    )


def test_dates_before_the_earliest_date_are_rejected_with_the_parameter() -> None:
    customers = _bronze(
        "customers",
        {"customer_id": ["1", "2", "3"], "signup_date": ["1900-01-01", "1970-01-01", "2024-01-01"]},
    )
    flagged = nodes.flag_customers(customers, nodes.match_countries(customers, RULES), RULES)
    earliest = RULES["earliest_date"]
    reasons = flagged.sort("_t_customer_id")["reason"].cast(pl.String).to_list()
    assert reasons == [f"invalid signup_date: before {earliest} (silver.earliest_date)"] * 2 + [
        None
    ]
    orders = _bronze(
        "orders",
        {"order_id": ["1", "2"], "order_ts": ["1970-01-01 00:00:00", "2026-01-01 10:00:00"]},
    )
    flagged = nodes.flag_orders(orders, pl.DataFrame({"customer_id": [1]}), RULES, "2026-11-01")
    reasons = flagged.sort("_t_order_id")["reason"].cast(pl.String).to_list()
    assert reasons == [f"invalid order_ts: before {earliest} (silver.earliest_date)", None]


def test_a_bound_without_its_parameter_names_it() -> None:
    orders = _bronze("orders", {"order_id": ["1"]})
    rules = {k: v for k, v in RULES.items() if k != "earliest_date"}
    with pytest.raises(ContractError, match=r"order_ts is bounded by silver.earliest_date"):
        nodes.flag_orders(orders, pl.DataFrame({"customer_id": [1]}), rules, "2026-11-01")
