"""Table rendering: labels, money with the currency (floats or decimals), raw values kept."""

from __future__ import annotations

from datetime import datetime
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


def test_table_view_shows_durations_and_days_as_written() -> None:
    frame = pl.DataFrame(
        {
            "seconds": [1.8, 12.25],
            "last_order": [datetime(2026, 10, 31), None],  # order days: no time of day
            "started_at": [datetime(2026, 12, 8, 0, 34, 12), datetime(2026, 12, 8, 0, 35)],
        }
    )
    html = render.table_view(frame, "€").to_html()
    assert ">1.8<" in html and ">12.25<" in html and "1.800000" not in html
    assert ">2026-10-31<" in html and "00:00:00" not in html.split("2026-10-31")[1][:20]
    assert ">2026-12-08 00:34:12<" in html and ">2026-12-08 00:35:00<" in html


def test_one_time_of_day_keeps_the_times_of_the_whole_column() -> None:
    frame = pl.DataFrame({"at": [datetime(2026, 10, 31), datetime(2026, 11, 1, 9, 30)]})
    html = render.table_view(frame, "€").to_html()
    assert ">2026-10-31 00:00:00<" in html and ">2026-11-01 09:30:00<" in html
