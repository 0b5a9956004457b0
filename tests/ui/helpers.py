"""Reading the app's outputs (as gradio_client returns them) back into plain values."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Any

import polars as pl

from ui.render import FIELDS

_FIELD = re.compile(r'data-field="(\w+)" data-value="([^"]*)"')


def html_fields(fragment: str) -> dict[str, str]:
    """``data-field`` -> ``data-value`` of every value the app rendered as HTML."""
    return {k: html.unescape(v) for k, v in _FIELD.findall(fragment)}


def table(value: dict[str, Any]) -> pl.DataFrame:
    """A gr.Dataframe output as a polars frame, its labelled columns named by field again
    (raw cell values: the app sends the formatted text beside them)."""
    headers = [FIELDS.get(h, h) for h in value["headers"]]
    rows = value["data"]
    return pl.DataFrame(rows, schema=headers, orient="row", infer_schema_length=None)


def shown(value: Any) -> str:
    """How the app writes a customer field in its "All metrics" table."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def top_of(customers: pl.DataFrame, n: int, **filters: str) -> list[int]:
    for column, value in filters.items():
        customers = customers.filter(pl.col(column) == value)
    ranked = customers.sort(["total_spent", "customer_id"], descending=[True, False])
    return ranked["customer_id"].head(n).to_list()
