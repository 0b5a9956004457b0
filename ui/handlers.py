"""The app's event handlers: what each tab shows, read from the chosen source.

Each public method is one endpoint of the app (see ``ui.app`` for the layout that wires them)
and returns the values of its components: banners, tables and plot frames.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import gradio as gr
import pandas as pd
import polars as pl

from medallion_kedro.schemas import GOLD
from ui import render
from ui.compare import compare_sources, latency_frame
from ui.source_handlers import SourceHandlers
from ui.sources import DataSource, SourceError
from ui.sources.base import SEGMENT_COLUMNS

log = logging.getLogger(__name__)

ALL = "All"
T = TypeVar("T")

#: Customer fields in the order the app shows them.
CUSTOMER_COLUMNS = [
    "customer_id",
    "name",
    "email",
    "country",
    "segment",
    "total_spent",
    "order_count",
    "avg_basket",
    "first_order",
    "last_order",
    "recency_days",
    "rfm_score",
    "signup_date",
]
#: The Top customers table: enough to pick a customer at 1280 px (the lookup shows the rest).
TOP_COLUMNS = [
    "rank",
    "customer_id",
    "name",
    "country",
    "segment",
    "total_spent",
    "order_count",
    "avg_basket",
    "last_order",
    "recency_days",
    "rfm_score",
]
LATENCY_COLUMNS = ["view", "source", "runs", "median_ms", "p25_ms", "p75_ms", "min_ms", "max_ms"]


def _pandas(frame: pl.DataFrame) -> pd.DataFrame:
    return frame.to_pandas()


def empty(columns: Sequence[str]) -> pd.DataFrame:
    """A table with headers (as labelled) and no rows, shown while loading or on failure."""
    return pd.DataFrame({render.label(c): pd.Series(dtype="object") for c in columns})


def _guard(source: DataSource, call: Callable[[], T]) -> tuple[T | None, str]:
    """Run ``call``; on failure return the banner saying what is wrong and what to do."""
    try:
        return call(), ""
    except SourceError as exc:
        log.warning("%s: %s", source.label, exc)
        return None, render.source_error(source.label, exc)
    except Exception as exc:  # show unexpected failures too, and keep the traceback in the log
        log.exception("%s failed", source.label)
        return None, render.message(
            "error", f"Unexpected error from {source.label}.", f"{type(exc).__name__}: {exc}"
        )


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return value.isoformat(sep=" ") if hasattr(value, "hour") else str(value)


class Handlers(SourceHandlers):
    """Event handlers, one per public API endpoint of the app."""

    def where(self, label: str) -> str:
        return f"Reading from **{label}**: {self._source(label).describe()}"

    def _view(self, frame: pl.DataFrame) -> Any:
        return render.table_view(frame, self.currency)

    def kpis(self, label: str) -> str:
        source = self._source(label)
        kpis, error = _guard(source, source.kpis)
        return error if kpis is None else render.kpi_cards(kpis, self.currency, label)

    def kpi_trend(self, label: str) -> pd.DataFrame | None:
        """Monthly revenue for the trend beside the KPI cards (none if the source fails)."""
        source = self._source(label)
        monthly, _ = _guard(source, source.monthly_revenue)
        return None if monthly is None else _pandas(monthly.sort("month"))

    def revenue(self, label: str) -> tuple[Any, ...]:
        source = self._source(label)
        frames, error = _guard(
            source,
            lambda: (
                source.revenue_by_country(),
                source.revenue_by_product(),
                source.monthly_revenue(),
            ),
        )
        if frames is None:
            country_cols, product_cols, month_cols = (
                GOLD[t].names()
                for t in ("revenue_by_country", "revenue_by_product", "monthly_revenue")
            )
            return (
                error,
                None,
                empty(country_cols),
                None,
                empty(product_cols),
                None,
                empty(month_cols),
            )
        country, product, monthly = frames
        country = country.sort(["total_revenue", "country"], descending=[True, False])
        product = product.sort(["total_revenue", "product"], descending=[True, False])
        return (
            "",
            _pandas(country),
            self._view(country),
            _pandas(product),
            self._view(product),
            _pandas(monthly),
            self._view(monthly),
        )

    def lookup(self, label: str, query: str) -> tuple[str, Any]:
        source = self._source(label)
        text = (query or "").strip()
        nothing = empty(["field", "value"])
        if not text:
            return render.message("info", "Enter a customer id or an email address."), nothing
        if text.isdigit():
            what, call = f"id {text}", lambda: source.customer_by_id(int(text))
        elif "@" in text:
            what, call = f"email {text}", lambda: source.customer_by_email(text)
        else:
            return render.message(
                "warning",
                f"“{text}” is neither a customer id nor an email address.",
                "Enter a customer id (digits only) or a full email address.",
            ), nothing
        customer, error = _guard(source, call)
        if error:
            return error, nothing
        if customer is None:
            return render.message(
                "warning",
                f"No customer with {what} in {label}.",
                "Check the id or the email (the Top customers table below lists existing "
                "customers). A customer added to the sources after the last build appears "
                "once you rebuild with `kedro run`.",
            ), nothing
        details = pd.DataFrame(
            {
                render.label("field"): [render.label(c) for c in CUSTOMER_COLUMNS],
                render.label("value"): [self._detail(customer, c) for c in CUSTOMER_COLUMNS],
            }
        )
        return render.customer_card(customer, self.currency), details

    def _detail(self, customer: Any, field: str) -> str:
        value = getattr(customer, field)
        return render.money_cell(value, self.currency) if field in render.MONEY else _cell(value)

    def top_customers(
        self, label: str, n: float, country: str | None, segment: str | None
    ) -> tuple[str, Any]:
        source = self._source(label)
        size = max(1, min(int(n or 20), 500))
        country_filter = None if country in (None, "", ALL) else country
        segment_filter = None if segment in (None, "", ALL) else segment
        frame, error = _guard(
            source, lambda: source.top_customers(size, country_filter, segment_filter)
        )
        if frame is None:
            return error, empty(TOP_COLUMNS)
        shown = (
            frame.with_row_index("rank", offset=1)
            .select(TOP_COLUMNS)
            .with_columns(pl.col("last_order").dt.date())
        )
        note = (
            ""
            if shown.height
            else render.message(
                "info", "No customer matches these filters.", "Choose another country or segment."
            )
        )
        return note, self._view(shown.with_columns(pl.col("rank").cast(pl.Int64)))

    def segments(self, label: str) -> tuple[str, pd.DataFrame | None, Any]:
        source = self._source(label)
        frame, error = _guard(source, source.segments)
        if frame is None:
            return error, None, empty(SEGMENT_COLUMNS)
        return "", _pandas(frame), self._view(frame)

    def filters(self, label: str) -> tuple[Any, Any]:
        source = self._source(label)
        frames, _ = _guard(source, lambda: (source.revenue_by_country(), source.segments()))
        if frames is None:
            return gr.update(choices=[ALL]), gr.update(choices=[ALL])
        countries = sorted(frames[0]["country"].to_list())
        segments = sorted(frames[1]["segment"].to_list())
        return gr.update(choices=[ALL, *countries]), gr.update(choices=[ALL, *segments])

    def compare(
        self,
        repeats: float,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects it
    ) -> tuple[str, Any, pd.DataFrame]:
        runs = max(1, min(int(repeats or 5), 50))
        sources = list(self.sources.values())

        def step(done: int, total: int, what: str) -> None:
            progress((done, total), desc=f"Loading {what}")

        results = compare_sources(sources, runs, on_step=step)
        frame = latency_frame(results)
        bars = frame.with_columns(
            pl.format("{} · {}", "view", pl.col("source").str.split(" ").list.first()).alias("bar")
        )
        html = render.comparison(results, [s.label for s in sources], runs)
        return html, self._view(frame), _pandas(bars)
