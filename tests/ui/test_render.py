"""Table rendering: labels, money with the currency (floats or decimals), raw values kept."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from ui import render


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (4065551.26, "€", "€4,065,551.26"),
        (Decimal("4065551.26"), "€", "€4,065,551.26"),
        (Decimal("0.1") + Decimal("0.2"), "EUR", "€0.30"),
        (12, "$", "$12.00"),
        (1234.5, "GBP", "£1,234.50"),
        (None, "€", "–"),
        (float("nan"), "€", "–"),
    ],
)
def test_money_is_formatted_with_the_currency(value: object, currency: str, shown: str) -> None:
    assert render.money_cell(value, currency) == shown


def test_a_currency_babel_does_not_know_is_written_before_the_amount() -> None:
    assert render.money_cell(3, "Kr") == "Kr\u202f3.00"


def test_table_view_labels_columns_formats_money_and_keeps_raw_values() -> None:
    frame = pl.DataFrame(
        {
            "country": ["France", "Japan"],
            "total_revenue": [Decimal("4065551.26"), Decimal("12.00")],
            "total_orders": [12345, 7],
        },
        schema_overrides={"total_revenue": pl.Decimal(18, 2)},
    )
    view = render.table_view(frame, "€")
    assert list(view.data.columns) == ["Country", "Revenue", "Orders"]
    assert view.data["Revenue"].tolist() == [Decimal("4065551.26"), Decimal("12.00")]
    html = view.to_html()
    assert "€4,065,551.26" in html and "12,345" in html and "total_revenue" not in html


def test_every_label_maps_back_to_one_field() -> None:
    for field, label in render.LABELS.items():
        assert render.FIELDS[label] in {field, "total_orders"}, label
