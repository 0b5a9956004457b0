"""The Sources tab's comparison and its rendering, on in-memory results."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl
import pytest

from ui import render
from ui.compare import Latency, ViewComparison, differences, latency_frame, to_records
from ui.sources.base import Kpis

KPIS = Kpis(1234.5, 10, 4, 3, 123.45, 8.02, date(2026, 10, 31))


def test_latency_median_and_quartiles() -> None:
    lat = Latency((4.0, 1.0, 3.0, 2.0, 100.0))
    assert lat.median == 3.0
    assert (lat.p25, lat.p75) == (2.0, 4.0)
    assert lat.spread == 2.0
    assert Latency((7.0,)).p25 == Latency((7.0,)).p75 == 7.0


def test_identical_views_have_no_differences() -> None:
    frame = pl.DataFrame({"country": ["France", "Spain"], "total_revenue": [1.5, 2.25]})
    assert differences(to_records(frame), to_records(frame.reverse()), ("a", "b")) == ([], [])
    assert differences(to_records(KPIS), to_records(replace(KPIS)), ("a", "b")) == ([], [])


def test_differences_name_the_fields_and_keys() -> None:
    left = pl.DataFrame({"country": ["France", "Spain"], "total_revenue": [1.5, 2.25]})
    right = pl.DataFrame({"country": ["France", "Italy"], "total_revenue": [1.51, 9.0]})
    found, fields = differences(to_records(left), to_records(right), ("lake", "api"))
    assert fields == ["total_revenue", "(rows)"]
    assert found == [
        "France · total_revenue: 1.5 vs 1.51",
        "Italy: only in api",
        "Spain: only in lake",
    ]
    found, fields = differences(
        to_records(KPIS), to_records(replace(KPIS, total_orders=11)), ("lake", "api")
    )
    assert fields == ["total_orders"] and found == ["kpis · total_orders: 10 vs 11"]


def test_top_customers_compare_their_rank_too() -> None:
    top = pl.DataFrame({"customer_id": [1, 2], "total_spent": [5.0, 5.0]})
    _, fields = differences(to_records(top), to_records(top.reverse()), ("a", "b"))
    assert fields == ["rank"]


def test_a_disagreement_is_red_with_its_fields() -> None:
    agree = ViewComparison("kpis", {"a": Latency((1.0,)), "b": Latency((2.0,))})
    differ = ViewComparison(
        "revenue_by_country",
        {"a": Latency((1.0, 2.0)), "b": Latency((3.0, 4.0))},
        differences=["France · total_revenue: 1.5 vs 1.51"],
        differing_fields=["total_revenue"],
    )
    html = render.comparison([agree, differ], ["a", "b"], 2)
    assert "1 of 2 views differ." in html
    assert '<tr class="row-bad" data-view="revenue_by_country">' in html
    assert 'class="bad" data-differing="total_revenue"' in html
    assert "France · total_revenue: 1.5 vs 1.51" in html
    assert '<tr data-view="kpis">' in html and "✔ identical" in html
    assert latency_frame([agree, differ]).height == 4


@pytest.mark.parametrize(("growth", "shown"), [(8.02, "+8.0"), (-3.456, "-3.5"), (None, "n/a")])
def test_kpi_cards_show_units_and_growth(growth: float | None, shown: str) -> None:
    html = render.kpi_cards(replace(KPIS, revenue_growth_last_month=growth), "€", "Lake")
    assert shown in html and "as of <b>31 October 2026</b>" in html
    assert "€1,234.50" in html and "per order" in html and "75% of all" in html
