from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml

from medallion_kedro.pipelines.silver import nodes
from medallion_kedro.schemas import BRONZE_META, DUPLICATE_REASON

RULES = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "conf/base/parameters_silver.yml").read_text()
)["silver"]


def _bronze(rows: list[tuple[str | None, ...]], columns: list[str]) -> pl.DataFrame:
    df = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")
    return df.with_columns(
        _ingested_at=pl.lit(dt.datetime(2026, 1, 1)),
        _source_file=pl.lit("f.csv"),
        _batch_id=pl.lit("b1"),
        _malformed=pl.lit(False),
    )


CUSTOMER_COLS = ["customer_id", "name", "email", "signup_date", "country"]
ORDER_COLS = ["order_id", "customer_id", "order_ts", "amount", "product"]


def _customers() -> pl.DataFrame:
    return _bronze(
        [
            ("1", " Ann ", "ANN@X.IO", "2024-01-01", " u.k. "),
            ("2", "Bo", "bo@x.io", "2024-01-02", "narnia"),
            ("1", "Ann", "ann2@x.io", "2024-01-03", "FRANCE"),
            ("3", "Cy", "cy@x", "2024-01-04", "France"),
        ],
        CUSTOMER_COLS,
    )


def test_customers_are_typed_normalised_and_last_row_wins() -> None:
    bronze = _customers()
    silver, rejected = nodes.split_flagged(nodes.flag_customers(bronze, RULES), bronze, "customers")
    assert silver.rows() == [(1, "Ann", "ann2@x.io", dt.date(2024, 1, 3), "France")]
    reasons = dict(
        zip(rejected["customer_id"] + "/" + rejected["email"], rejected["reason"], strict=True)
    )
    assert reasons["2/bo@x.io"].startswith("unknown country")
    assert reasons["3/cy@x"] == "invalid email"
    assert reasons["1/ANN@X.IO"] == DUPLICATE_REASON
    assert rejected.columns == [*CUSTOMER_COLS, *BRONZE_META, "reason"]


def test_alias_mapping_and_case_folding() -> None:
    flagged = nodes.flag_customers(_customers().head(1), RULES)
    assert flagged["_t_country"].to_list() == ["United Kingdom"]
    assert flagged["_t_name"].to_list() == ["Ann"]


def test_an_invalid_later_row_does_not_displace_a_valid_one() -> None:
    bronze = _bronze(
        [
            ("5", "Eve", "e@x.io", "2024-01-01", "Spain"),
            ("5", "Eve", "e@x.io", "not a date", "Spain"),
        ],
        CUSTOMER_COLS,
    )
    silver, rejected = nodes.split_flagged(nodes.flag_customers(bronze, RULES), bronze, "customers")
    assert silver["signup_date"].to_list() == [dt.date(2024, 1, 1)]
    assert rejected["reason"].to_list()[0].startswith("invalid signup_date")


def test_orders_rules_and_orphans() -> None:
    customers = pl.DataFrame({"customer_id": [1, 2]})
    bronze = _bronze(
        [
            ("10", "1", "2026-01-01 10:00:00", "5.5", " gaming console "),
            ("11", "3", "2026-01-01 10:00:00", "5.5", "mouse"),
            ("12", "1", "2026-01-01", "5.5", "mouse"),
            ("13", "2", "2026-01-01 10:00:00", "0", "mouse"),
            ("14", "2", "2026-01-01 10:00:00", "abc", "mouse"),
            ("15", None, "2026-01-01 10:00:00", "1", "mouse"),
            ("16", "2", "2026-01-01 10:00:00", "1", "  "),
        ],
        ORDER_COLS,
    )
    silver, rejected = nodes.split_flagged(
        nodes.flag_orders(bronze, customers, RULES), bronze, "orders"
    )
    assert silver.rows() == [(10, 1, dt.datetime(2026, 1, 1, 10), 5.5, "Gaming Console")]
    got = dict(zip(rejected["order_id"], rejected["reason"], strict=True))
    assert got["11"].startswith("unknown customer")
    assert got["12"].startswith("invalid order_ts")
    assert got["13"].startswith("invalid amount") and got["14"].startswith("invalid amount")
    assert got["15"].startswith("invalid customer_id")
    assert got["16"] == "missing product"


def test_reconcile_passes_tables_through_and_counts() -> None:
    bronze = _customers()
    silver, rejected = nodes.split_flagged(nodes.flag_customers(bronze, RULES), bronze, "customers")
    out = nodes.reconcile(bronze, silver, rejected, bronze.lazy(), silver, rejected)
    assert out[0] is silver and out[1] is rejected
    report = out[4]
    assert report.row(0, named=True) == {
        "table": "customers",
        "bronze_rows": 4,
        "silver_rows": 1,
        "rejected_rows": 2,
        "duplicates_removed": 1,
        "balanced": True,
    }


def test_reconcile_fails_the_run_when_rows_are_lost() -> None:
    bronze = _customers()
    silver, rejected = nodes.split_flagged(nodes.flag_customers(bronze, RULES), bronze, "customers")
    with pytest.raises(
        nodes.ReconciliationError,
        match=r"silver.customers does not reconcile: bronze has 4 rows but silver 1 ",
    ):
        nodes.reconcile(bronze, silver, rejected.head(1), bronze, silver, rejected)


def test_alias_to_unknown_country_is_a_config_error() -> None:
    bad = {**RULES, "country_aliases": {"gaul": "Gallia"}}
    with pytest.raises(ValueError, match=r"map to \['Gallia'\].*silver.countries"):
        nodes.flag_customers(_customers(), bad)
