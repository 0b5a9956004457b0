from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from medallion_kedro.pipelines.silver import nodes
from medallion_kedro.pipelines.silver.incremental import Plan
from medallion_kedro.schemas import BRONZE_META, DUPLICATE_REASON, RAW_COLUMNS
from tests import handmade as hm

RULES = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "conf/base/parameters_silver.yml").read_text()
)["silver"]


def _bronze(rows: list[tuple[str | None, ...]], columns: list[str]) -> pl.DataFrame:
    """Bronze rows of the table whose key leads ``columns``: every source column
    (``RAW_COLUMNS``), ``columns`` from ``rows`` and the others a valid value of their
    silver type."""
    table = next(t for t, names in RAW_COLUMNS.items() if names[0] == columns[0])
    given = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")
    return hm.source_frame(table, given).with_columns(
        _ingested_at=pl.lit(dt.datetime(2026, 1, 1)),
        _source_file=pl.lit("f.csv"),
        _batch_id=pl.lit("b1"),
        _malformed=pl.lit(False),
        _source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
    )


#: The source columns each hand-written row below gives, in order.
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


def _flag_customers(bronze: pl.DataFrame, rules: dict[str, Any] = RULES) -> pl.DataFrame:
    return nodes.flag_customers(bronze, nodes.match_countries(bronze, rules), rules)


def _split(flagged: pl.DataFrame, bronze: pl.DataFrame, table: str) -> Any:
    return nodes.split_flagged(flagged, bronze, table, RULES)


def test_customers_are_typed_normalised_and_last_row_wins() -> None:
    bronze = _customers()
    silver, rejected, warnings = _split(_flag_customers(bronze), bronze, "customers")
    assert silver.sort("customer_id").select(CUSTOMER_COLS).rows() == [
        (1, "Ann", "ann2@x.io", dt.date(2024, 1, 3), "France"),
        (2, "Bo", "bo@x.io", dt.date(2024, 1, 2), None),
    ]
    reasons = dict(
        zip(rejected["customer_id"] + "/" + rejected["email"], rejected["reason"], strict=True)
    )
    assert reasons["3/cy@x"] == "invalid email"
    assert warnings.rows() == [
        (
            "customers",
            "2",
            "country",
            "narnia",
            "unknown country: kept as null (see quality.country_mappings)",
            "b1",
        )
    ]
    assert reasons["1/ANN@X.IO"] == DUPLICATE_REASON
    assert rejected.columns == [*RAW_COLUMNS["customers"], *BRONZE_META, "_source_row", "reason"]


def test_alias_mapping_and_case_folding() -> None:
    flagged = _flag_customers(_customers().head(1))
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
    silver, rejected, _ = _split(_flag_customers(bronze), bronze, "customers")
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
    silver, rejected, warnings = _split(
        nodes.flag_orders(bronze, customers, RULES), bronze, "orders"
    )
    assert silver.select(ORDER_COLS).rows() == [
        (10, 1, dt.datetime(2026, 1, 1, 10), Decimal("5.50"), "Gaming Console"),
        (16, 2, dt.datetime(2026, 1, 1, 10), Decimal("1.00"), None),
    ]
    assert warnings.select("key", "column", "reason").rows() == [
        ("16", "product", "missing product: kept as null")
    ]
    got = dict(zip(rejected["order_id"], rejected["reason"], strict=True))
    assert got["11"].startswith("unknown customer")
    assert got["12"].startswith("invalid order_ts")
    assert got["13"].startswith("invalid amount") and got["14"].startswith("invalid amount")
    assert got["15"].startswith("invalid customer_id")


def test_products_are_cleaned_once_per_spelling_and_looked_up_per_row() -> None:
    spellings = ["mouse", " MOUSE ", "mou\x00se", None, "\x01", "laptop", "mouse"]
    bronze = _bronze(
        [(str(i), "1", "2026-01-01 10:00:00", "1", p) for i, p in enumerate(spellings)],
        ORDER_COLS,
    )
    customers = pl.DataFrame({"customer_id": [1]})
    for frame in (bronze, bronze.lazy()):
        flagged = nodes.flag_orders(frame, customers, RULES)
        assert flagged["_t_product"].to_list() == [
            "Mouse", "Mouse", "Mouse", None, None, "Laptop", "Mouse",
        ]  # fmt: skip
        assert flagged["reason"].null_count() == len(spellings)  # kept, null when unusable


def _checked(bronze: pl.DataFrame, rules: dict[str, Any] = RULES) -> Any:
    countries = nodes.match_countries(bronze, rules)
    silver, rejected, warnings = _split(
        nodes.flag_customers(bronze, countries, rules), bronze, "customers"
    )
    return (silver, rejected, warnings), countries


def _count(
    table: str, bronze: pl.DataFrame, checked: Any, rules: dict[str, Any] = RULES
) -> dict[str, pl.DataFrame]:
    silver, rejected, warnings = checked
    plan = Plan(table, ("b1",), ("b1",), full=True)
    waiting = {"waiting": rejected.head(0).drop("reason")} if table == "orders" else {}
    return nodes.count_table(plan, bronze, silver, rejected, warnings, rules, **waiting)


def test_counts_of_a_table_as_written() -> None:
    bronze = _customers()
    checked, countries = _checked(bronze)
    out = _count("customers", bronze, checked)
    assert out["counts"].row(0, named=True) == {
        "table": "customers",
        "bronze_rows": 4,
        "silver_rows": 2,
        "rejected_rows": 1,
        "duplicates_removed": 1,
        "waiting_rows": 0,
        "warning_rows": 1,
        "balanced": True,
    }
    assert out["batches"].select("batch_id", "bronze_rows", "silver_rows").rows() == [("b1", 4, 2)]
    mappings = {r["raw_value"]: r for r in nodes.country_mappings(countries).iter_rows(named=True)}
    assert set(mappings) == {" u.k. ", "narnia", "FRANCE"}  # "France" is exact: not listed
    assert (mappings[" u.k. "]["canonical"], mappings[" u.k. "]["how"]) == (
        "United Kingdom",
        "alias",
    )
    assert (mappings["narnia"]["canonical"], mappings["narnia"]["how"]) == (None, "unknown")


def test_counts_fail_the_run_when_rows_are_lost() -> None:
    bronze = _customers()
    (silver, rejected, warnings), _ = _checked(bronze)
    with pytest.raises(
        nodes.ReconciliationError,
        match=r"silver.customers does not reconcile: bronze has 4 rows but silver 2 ",
    ):
        _count("customers", bronze, (silver, rejected.head(0), warnings))


def _orders(rows: list[tuple[str | None, ...]]) -> pl.DataFrame:
    return _bronze(rows, ORDER_COLS)


def _order_reasons(bronze: pl.DataFrame, as_of: str | None = "2026-11-01") -> dict[str, str]:
    customers = pl.DataFrame({"customer_id": [1]})
    _, rejected, _ = _split(nodes.flag_orders(bronze, customers, RULES, as_of), bronze, "orders")
    return dict(zip(rejected["order_id"], rejected["reason"], strict=True))


@pytest.mark.parametrize(
    "amount", ["inf", "-inf", "NaN", "1e308", "1E5", "12.345", "-3", "1,000", "0x10", ""]
)
def test_amounts_that_are_not_plain_2_decimal_numbers_are_rejected(amount: str) -> None:
    got = _order_reasons(_orders([("1", "1", "2026-01-01 10:00:00", amount, "mouse")]))
    assert got["1"] == "invalid amount: not a decimal number with at most 2 decimals"


def test_amount_bounds_zero_and_maximum() -> None:
    bronze = _orders(
        [
            ("1", "1", "2026-01-01 10:00:00", "0.00", "mouse"),
            ("2", "1", "2026-01-01 10:00:00", "1000000.01", "mouse"),
            ("3", "1", "2026-01-01 10:00:00", "1000000.00", "mouse"),
            ("4", "1", "2026-01-01 10:00:00", " 12.500 ", "mouse"),
        ]
    )
    got = _order_reasons(bronze)
    assert got["1"] == "invalid amount: not above zero"
    assert got["2"] == "invalid amount: above silver.max_amount 1000000.00"
    assert set(got) == {"1", "2"}
    customers = pl.DataFrame({"customer_id": [1]})
    silver, _, _ = _split(nodes.flag_orders(bronze, customers, RULES, None), bronze, "orders")
    assert silver["amount"].to_list() == [Decimal("1000000.00"), Decimal("12.50")]


def test_orders_after_as_of_plus_tolerance_are_rejected() -> None:
    bronze = _orders(
        [
            ("1", "1", "2099-01-01 00:00:00", "5", "mouse"),
            ("2", "1", "2026-11-02 00:00:00", "5", "mouse"),  # as_of + 1 day: tolerated
            ("3", "1", "2026-11-02 00:00:01", "5", "mouse"),
        ]
    )
    got = _order_reasons(bronze)
    assert set(got) == {"1", "3"}
    assert got["1"].startswith("invalid order_ts: after 2026-11-02 00:00")


def test_without_as_of_the_future_starts_now() -> None:
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    bronze = _orders([("1", "1", f"{tomorrow:%Y-%m-%d %H:%M:%S}", "5", "mouse")])
    assert _order_reasons(bronze, as_of=None)["1"].startswith("invalid order_ts: after")


def test_negative_future_tolerance_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="future_tolerance_days must be >= 0"):
        nodes.latest_allowed("2026-11-01", -1)


def test_long_text_is_rejected_and_quarantined_as_an_excerpt() -> None:
    huge = "x" * 5_000_000
    bronze = _customers().vstack(
        _bronze([("7", huge, "h@x.io", "2024-01-01", "France")], CUSTOMER_COLS)
    )
    silver, rejected, _ = _split(_flag_customers(bronze), bronze, "customers")
    assert 7 not in silver["customer_id"].to_list()
    row = rejected.filter(pl.col("customer_id") == "7").row(0, named=True)
    assert row["reason"] == "text too long: name over 1000 bytes (silver.max_text_bytes)"
    assert row["name"] == "x" * 200 + " … [5000000 bytes]"
    assert row["email"] == "h@x.io"


def test_control_characters_are_stripped_from_text() -> None:
    bronze = _bronze(
        [("1", "Jo\x00e\x07 Doe", "J\x00O@x.io", "2024-01-01", "Fra\x00nce")], CUSTOMER_COLS
    )
    silver, _, _ = _split(_flag_customers(bronze), bronze, "customers")
    assert silver.select(CUSTOMER_COLS).rows() == [
        (1, "Joe Doe", "jo@x.io", dt.date(2024, 1, 1), "France")
    ]
    assert "\x00" not in "".join(silver["name"].to_list())


def test_control_characters_in_a_number_reject_the_row() -> None:
    got = _order_reasons(_orders([("1", "1", "2026-01-01 10:00:00", "5\x00", "mouse")]))
    assert got["1"].startswith("invalid amount")


def _count_orders(bronze_orders: pl.DataFrame, rules: dict[str, Any] = RULES) -> Any:
    customers = pl.DataFrame({"customer_id": [1]})
    checked = _split(
        nodes.flag_orders(bronze_orders, customers, rules, "2026-11-01"), bronze_orders, "orders"
    )
    return _count("orders", bronze_orders, checked, rules)


def test_an_all_dirty_orders_file_fails_instead_of_giving_an_empty_silver() -> None:
    bronze = _orders([(str(i), "1", "2026-01-01 10:00:00", "abc", "mouse") for i in range(10)])
    with pytest.raises(
        nodes.RejectShareError,
        match=r"10 of 10 rows of batch b1 \(100%\).*10 x 'invalid amount.*"
        r"`kedro lake retract b1`",
    ):
        _count_orders(bronze)


def test_reject_share_at_the_threshold_passes_and_above_it_fails() -> None:
    rows = [
        (str(i), "1", "2026-01-01 10:00:00", "abc" if i < 5 else "5", "mouse") for i in range(10)
    ]
    report = _count_orders(_orders(rows))["counts"]
    assert report["rejected_rows"].item() == 5
    with pytest.raises(nodes.RejectShareError, match="max_reject_share=0.4"):
        _count_orders(_orders(rows), {**RULES, "max_reject_share": 0.4})


def test_orders_whose_customer_is_unknown_are_not_counted_by_the_reject_share_gate() -> None:
    rows = [(str(i), "1" if i < 3 else "9", "2026-01-01 10:00:00", "5", "mouse") for i in range(10)]
    bronze = _orders(rows)
    silver, rejected, warnings = _split(
        nodes.flag_orders(bronze, pl.DataFrame({"customer_id": [1]}), RULES, "2026-11-01"),
        bronze,
        "orders",
    )
    unknown = rejected["reason"].str.starts_with("unknown customer")
    waiting = rejected.filter(unknown).drop("reason")
    plan = Plan("orders", ("b1",), ("b1",), full=True)
    out = nodes.count_table(
        plan, bronze, silver, rejected.filter(~unknown), warnings, RULES, waiting=waiting
    )
    counts = out["counts"].row(0, named=True)
    assert (counts["silver_rows"], counts["rejected_rows"], counts["waiting_rows"]) == (3, 0, 7)


def test_countries_are_matched_on_distinct_values_with_row_counts() -> None:
    raws = ["UK", "UK", "Atlantis", None]
    bronze = _bronze(
        [(str(i), "A", "a@x.io", "2024-01-01", c) for i, c in enumerate(raws)], CUSTOMER_COLS
    )
    got = {
        r["raw_value"]: (r["canonical"], r["how"], r["rows"])
        for r in nodes.match_countries(bronze, RULES).iter_rows(named=True)
    }
    assert got == {
        "UK": ("United Kingdom", "alias", 2),
        "Atlantis": (None, "unknown", 1),
        None: (None, "unknown", 1),
    }
    silver, _, warnings = _split(_flag_customers(bronze), bronze, "customers")
    assert silver.height == 4
    assert dict(zip(warnings["key"], warnings["reason"], strict=True)) == {
        "2": "unknown country: kept as null (see quality.country_mappings)",
        "3": "missing country: kept as null",
    }


def test_alias_to_unknown_country_is_a_config_error() -> None:
    bad = {**RULES, "countries": {**RULES["countries"], "aliases": {"gaul": "Gallia"}}}
    with pytest.raises(ValueError, match=r"maps 'gaul' to 'Gallia'"):
        nodes.match_countries(_customers(), bad)


def test_duplicate_losers_follow_the_lineage_columns_not_the_row_order() -> None:
    """The last ingested valid row wins: by ingestion time, then source file, then source
    row; a later invalid row does not win; the physical order of the rows plays no part."""
    t1, t2 = dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2)
    rows = [  # key, reason, _ingested_at, _source_file, _source_row
        (1, None, t1, "a.csv", 1),
        (2, None, t1, "a.csv", 2),
        (3, None, t1, "a.csv", 3),
        (4, None, t1, "a.csv", 4),
        (3, None, t1, "a.csv", 5),
        (3, None, t1, "b.csv", 0),
        (1, None, t2, "a.csv", 0),
        (2, "invalid amount: not above zero", t2, "b.csv", 2),
    ]
    columns = ["_t_order_id", "reason", *nodes.LINEAGE]
    in_order = pl.DataFrame(rows, schema=columns, orient="row")
    losers = [(t1, "a.csv", 1), (t1, "a.csv", 3), (t1, "a.csv", 5)]
    for frame in (in_order, in_order.reverse(), in_order.sample(fraction=1, shuffle=True, seed=1)):
        found = nodes.duplicate_losers(frame, "_t_order_id").collect().to_native()
        assert sorted(found.rows()) == losers
    # The polars path marks the same rows, by row number in ingestion order.
    numbered = in_order.with_row_index("_row_number").with_columns(
        pl.col("reason").cast(pl.Enum(["invalid amount: not above zero", DUPLICATE_REASON]))
    )
    marked = nodes._flag_duplicates(numbered, "_t_order_id")
    duplicate = marked.filter(pl.col("reason") == DUPLICATE_REASON)
    assert sorted(duplicate.select(nodes.LINEAGE).rows()) == losers
