"""HTML fragments of the app: KPI cards, the customer card, messages, the comparison.

Every value shown as HTML also carries ``data-field``/``data-value`` attributes with the
raw value, so tests (and anyone scraping the page) read numbers, not formatting.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import polars as pl
from babel.numbers import format_currency, format_decimal
from pandas.io.formats.style import Styler

from ui.compare import MAX_DIFFERENCES, ViewComparison
from ui.sources.base import Customer, Kpis, SourceUnavailableError


def _text(message: str) -> str:
    """Escape ``message`` and show `backticked` commands as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(message))


def message(kind: str, title: str, body: str = "") -> str:
    """A banner: ``kind`` is error, warning, info or ok."""
    role = ' role="alert"' if kind == "error" else ""
    detail = f" {_text(body)}" if body else ""
    return f'<div class="msg msg-{kind}"{role}><b>{html.escape(title)}</b>{detail}</div>'


def source_error(label: str, exc: Exception) -> str:
    down = isinstance(exc, SourceUnavailableError)
    title = f"{label} unavailable." if down else f"{label} error."
    return message("error", title, str(exc))


#: Column labels of every table the app shows (gold fields, the app's own columns).
LABELS = {
    "rank": "#",
    "customer_id": "Customer",
    "name": "Name",
    "email": "Email",
    "country": "Country",
    "segment": "Segment",
    "product": "Product",
    "month": "Month",
    "signup_date": "Signed up",
    "total_revenue": "Revenue",
    "total_spent": "Total spent",
    "total_orders": "Orders",
    "order_count": "Orders",
    "customers": "Customers",
    "avg_basket": "Avg. basket",
    "avg_price": "Avg. price",
    "first_order": "First order",
    "last_order": "Last order",
    "recency_days": "Recency (days)",
    "rfm_score": "RFM",
    "field": "Field",
    "value": "Value",
    "view": "View",
    "source": "Source",
    "runs": "Runs",
    "median_ms": "Median (ms)",
    "p25_ms": "p25 (ms)",
    "p75_ms": "p75 (ms)",
    "min_ms": "Min (ms)",
    "max_ms": "Max (ms)",
}
#: The field each label stands for (labels are unique per table).
FIELDS = {label: field for field, label in LABELS.items() if field != "order_count"}
MONEY = {"total_revenue", "total_spent", "avg_basket", "avg_price"}
COUNTS = {
    "total_orders",
    "order_count",
    "customers",
    "recency_days",
    "rows",
    "bronze_rows",
    "silver_rows",
    "rejected_rows",
    "duplicates_removed",
}
#: ``UI_CURRENCY`` may be a symbol or an ISO 4217 code; Babel formats by code.
CURRENCY_CODES = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF"}
LOCALE = "en"


def label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


def money_cell(value: Any, currency: str) -> str:
    """``value`` (float, int or ``Decimal``) as money in ``currency``, e.g. ``€4,065,551.26``."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    code = CURRENCY_CODES.get(currency, currency.upper())
    if len(code) == 3 and code.isalpha():
        return str(format_currency(Decimal(str(value)), code, locale=LOCALE))
    return f"{currency}\u202f{format_decimal(Decimal(str(value)), '#,##0.00', locale=LOCALE)}"


def _count_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return str(format_decimal(value, locale=LOCALE))


def table_view(frame: pl.DataFrame | pd.DataFrame, currency: str) -> Styler:
    """A table as the app shows it: readable labels, money in ``currency``, grouped counts.

    The cells keep their raw values (Gradio sends them with the formatted text beside),
    so sorting by a column sorts numbers, not strings.
    """
    data = frame.to_pandas() if isinstance(frame, pl.DataFrame) else frame
    fields = list(data.columns)
    shown = data.rename(columns={f: label(f) for f in fields})
    formats: dict[str, Any] = {}
    for field in fields:
        column = data[field]
        if field in MONEY:
            formats[label(field)] = lambda v, c=currency: money_cell(v, c)
        elif field in COUNTS:
            formats[label(field)] = _count_cell
        elif pd.api.types.is_float_dtype(column):
            formats[label(field)] = _number_cell
        elif pd.api.types.is_datetime64_any_dtype(column):
            formats[label(field)] = _time_format(column)
    return shown.style.format(formats, na_rep="–").hide(axis="index")


def _number_cell(value: Any) -> str:
    """A measure (seconds, milliseconds): grouped, one to three decimals."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return str(format_decimal(Decimal(str(round(value, 3))), "#,##0.0##", locale=LOCALE))


def _time_format(column: pd.Series) -> Any:
    """Times as ``YYYY-MM-DD HH:MM:SS``; a column of days (every value at midnight, as the
    order times of the source data are) as ``YYYY-MM-DD``, not an invented midnight."""
    values = column.dropna()
    days = bool((values == values.dt.normalize()).all())
    pattern = "%Y-%m-%d" if days else "%Y-%m-%d %H:%M:%S"

    def cell(value: Any) -> str:
        return "–" if value is None or pd.isna(value) else value.strftime(pattern)

    return cell


def money(value: float | None, currency: str) -> str:
    return money_cell(value, currency)


def compact(value: float, currency: str = "") -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{currency}\u202f{value / size:,.2f}\u202f{suffix}".strip()
    return f"{currency}\u202f{value:,.2f}".strip() if currency else f"{value:,.0f}"


def _raw(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _card(field: str, value: Any, label: str, shown: str, unit: str, extra: str = "") -> str:
    return (
        f'<div class="kpi-card{extra}" data-field="{field}" '
        f'data-value="{html.escape(_raw(value))}">'
        f'<div class="kpi-label">{html.escape(label)}</div>'
        f'<div class="kpi-value">{html.escape(shown)}</div>'
        f'<div class="kpi-unit">{html.escape(unit)}</div></div>'
    )


def kpi_cards(kpis: Kpis, currency: str, source: str) -> str:
    growth = kpis.revenue_growth_last_month
    if growth is None:
        growth_text, growth_class = "n/a", ""
    else:
        growth_text = f"{growth:+.1f}\u202f%"
        growth_class = " kpi-up" if growth >= 0 else " kpi-down"
    active_share = kpis.active_customers / kpis.total_customers if kpis.total_customers else 0.0
    cards = [
        _card(
            "total_revenue",
            kpis.total_revenue,
            "Revenue",
            compact(kpis.total_revenue, currency),
            money(kpis.total_revenue, currency),
        ),
        _card("total_orders", kpis.total_orders, "Orders", f"{kpis.total_orders:,}", "orders"),
        _card(
            "total_customers",
            kpis.total_customers,
            "Customers",
            f"{kpis.total_customers:,}",
            "customers",
        ),
        _card(
            "active_customers",
            kpis.active_customers,
            "Active customers",
            f"{kpis.active_customers:,}",
            f"customers · {active_share:.0%} of all",
        ),
        _card(
            "avg_basket",
            kpis.avg_basket,
            "Average basket",
            money(kpis.avg_basket, currency),
            "per order",
        ),
        _card(
            "revenue_growth_last_month",
            growth,
            "Last-month growth",
            growth_text,
            "revenue vs the month before",
            growth_class,
        ),
    ]
    as_of = f"{kpis.as_of.day} {kpis.as_of:%B %Y}"
    return (
        f'<div class="kpi-grid">{"".join(cards)}</div>'
        f'<div class="kpi-asof" data-field="as_of" data-value="{kpis.as_of.isoformat()}">'
        f"Figures as of <b>{as_of}</b> · source: {html.escape(source)}</div>"
    )


def customer_card(customer: Customer, currency: str) -> str:
    def item(label: str, value: str) -> str:
        return f"<div><span>{html.escape(label)}</span><b>{html.escape(value)}</b></div>"

    def when(value: datetime | None) -> str:
        return "–" if value is None else value.strftime("%Y-%m-%d %H:%M")

    return (
        f'<div class="customer-card" data-field="customer_id" data-value="{customer.customer_id}">'
        f"<h3>{html.escape(customer.name)} <small>#{customer.customer_id}</small> "
        f'<span class="segment">{html.escape(customer.segment)}</span></h3>'
        f"<p>{html.escape(customer.email)} · {html.escape(customer.country)} · "
        f"signed up {customer.signup_date.isoformat()}</p>"
        '<div class="customer-grid">'
        + item("Total spent", money(customer.total_spent, currency))
        + item("Orders", f"{customer.order_count:,}")
        + item("Average basket", money(customer.avg_basket, currency))
        + item("First order", when(customer.first_order))
        + item("Last order", when(customer.last_order))
        + item("Recency", "–" if customer.recency_days is None else f"{customer.recency_days} days")
        + item("RFM score", customer.rfm_score or "–")
        + "</div></div>"
    )


def comparison(results: Sequence[ViewComparison], labels: Sequence[str], repeats: int) -> str:
    """The side-by-side table of the Sources tab; disagreements in red with their fields."""
    failures: dict[str, list[str]] = {}
    for result in results:
        for label, error in result.errors.items():
            if error not in failures.setdefault(label, []):
                failures[label].append(error)
    head = "".join(
        f"<th>{html.escape(label)}<br><small>median · p25–p75</small></th>" for label in labels
    )
    body = [_comparison_row(result, labels) for result in results]
    agree = sum(r.agree for r in results)
    compared = sum(r.compared for r in results)
    if compared == len(results) and agree == compared:
        summary = message("ok", f"All {agree} views agree exactly.", "")
    elif compared:
        summary = message(
            "error",
            f"{compared - agree} of {compared} views differ.",
            "The differing fields are listed in red below.",
        )
    else:
        summary = ""
    down = {label for result in results for label in result.unavailable}
    banners = "".join(
        message(
            "error", f"{label} {'unavailable' if label in down else 'failed'}.", " ".join(errors)
        )
        for label, errors in failures.items()
    )
    note = (
        f'<p class="compare-note">Each view loaded {repeats}× per source, the sources '
        "taking turns; latency is measured in the app, end to end.</p>"
    )
    return (
        f"{banners}{summary}{note}"
        f'<table class="compare"><thead><tr><th>view</th>{head}'
        f"<th>same numbers?</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _comparison_row(result: ViewComparison, labels: Sequence[str]) -> str:
    cells = []
    for label in labels:
        if label in result.errors:
            cells.append('<td class="bad">failed (see above)</td>')
        elif label in result.latency:
            lat = result.latency[label]
            spread = f"{lat.p25:.1f}–{lat.p75:.1f} ms"
            cells.append(f"<td><b>{lat.median:.1f} ms</b><br><small>{spread}</small></td>")
        else:
            cells.append("<td>–</td>")
    if result.agree:
        verdict = '<td class="good">✔ identical</td>'
    elif not result.compared:
        verdict = '<td class="warn">not compared</td>'
    else:
        shown = "".join(f"<li>{html.escape(d)}</li>" for d in result.differences[:MAX_DIFFERENCES])
        more = len(result.differences) - MAX_DIFFERENCES
        shown += f"<li>… {more} more</li>" if more > 0 else ""
        fields = ", ".join(result.differing_fields)
        verdict = (
            f'<td class="bad" data-differing="{html.escape(fields)}">'
            f"✘ differ in: <b>{html.escape(fields)}</b><ul>{shown}</ul></td>"
        )
    row_class = ' class="row-bad"' if result.compared and not result.agree else ""
    return (
        f'<tr{row_class} data-view="{result.view}"><th>{result.view}</th>'
        f"{''.join(cells)}{verdict}</tr>"
    )
