"""The Gradio app of DESIGN §7: KPIs, Revenue, Customers and Sources tabs, one source switch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
import pandas as pd
import polars as pl

from ui import render
from ui.compare import compare_sources, latency_frame
from ui.config import Settings
from ui.sources import DataSource, GraphQLSource, LakeSource, SourceError

log = logging.getLogger(__name__)

ALL = "All"
T = TypeVar("T")
CSS = (Path(__file__).parent / "style.css").read_text()

CUSTOMER_COLUMNS = ["customer_id", "name", "email", "country", "segment", "total_spent",
                    "order_count", "avg_basket", "first_order", "last_order", "recency_days",
                    "rfm_score", "signup_date"]


def default_sources(settings: Settings) -> dict[str, DataSource]:
    lake = LakeSource(settings.project_path, settings.kedro_env)
    api = GraphQLSource(settings.api_url)
    return {lake.label: lake, api.label: api}


def _pandas(frame: pl.DataFrame) -> pd.DataFrame:
    return frame.to_pandas()


def _guard(source: DataSource, call: Callable[[], T]) -> tuple[T | None, str]:
    """Run ``call``; on failure return the banner saying what is wrong and what to do."""
    try:
        return call(), ""
    except SourceError as exc:
        log.warning("%s: %s", source.label, exc)
        return None, render.source_error(source.label, exc)
    except Exception as exc:  # show unexpected failures too, and keep the traceback in the log
        log.exception("%s failed", source.label)
        return None, render.message("error", f"Unexpected error from {source.label}.",
                                    f"{type(exc).__name__}: {exc}")


class Handlers:
    """Event handlers, one per public API endpoint of the app."""

    def __init__(self, sources: Mapping[str, DataSource], currency: str) -> None:
        self.sources = sources
        self.currency = currency

    def _source(self, label: str) -> DataSource:
        if label not in self.sources:
            raise gr.Error(f"Unknown source {label!r}: choose one of {list(self.sources)}")
        return self.sources[label]

    def where(self, label: str) -> str:
        return f"Reading from **{label}**: {self._source(label).describe()}"

    def kpis(self, label: str) -> str:
        source = self._source(label)
        kpis, error = _guard(source, source.kpis)
        return error if kpis is None else render.kpi_cards(kpis, self.currency, label)

    def revenue(self, label: str) -> tuple[Any, ...]:
        source = self._source(label)
        frames, error = _guard(source, lambda: (source.revenue_by_country(),
                                                source.revenue_by_product(),
                                                source.monthly_revenue()))
        if frames is None:
            return (error, None, None, None, None, None, None)
        country, product, monthly = frames
        country = country.sort("total_revenue", descending=True)
        product = product.sort("total_revenue", descending=True)
        trend = monthly.with_columns(pl.col("month").str.to_date("%Y-%m").alias("month_start"))
        return ("", _pandas(country), _pandas(country), _pandas(product), _pandas(product),
                _pandas(trend), _pandas(monthly))

    def lookup(self, label: str, query: str) -> tuple[str, pd.DataFrame | None]:
        source = self._source(label)
        text = (query or "").strip()
        if not text:
            return render.message("info", "Enter a customer id or an email address."), None
        if text.isdigit():
            what, call = f"id {text}", lambda: source.customer_by_id(int(text))
        elif "@" in text:
            what, call = f"email {text}", lambda: source.customer_by_email(text)
        else:
            return render.message("warning", f"“{text}” is neither an id nor an email.",
                                  "Enter a customer id (digits) or a full email address."), None
        customer, error = _guard(source, call)
        if error:
            return error, None
        if customer is None:
            return render.message(
                "warning", f"No customer with {what} in {label}.",
                "Check the id or email (Top customers below lists existing ones). A customer "
                "added to the sources after the last build appears once you rerun `kedro run`.",
            ), None
        details = pd.DataFrame(
            {"field": CUSTOMER_COLUMNS,
             "value": [_cell(getattr(customer, c)) for c in CUSTOMER_COLUMNS]}
        )
        return render.customer_card(customer, self.currency), details

    def top_customers(
        self, label: str, n: float, country: str | None, segment: str | None
    ) -> tuple[str, pd.DataFrame | None]:
        source = self._source(label)
        size = max(1, min(int(n or 20), 500))
        country_filter = None if country in (None, "", ALL) else country
        segment_filter = None if segment in (None, "", ALL) else segment
        frame, error = _guard(
            source, lambda: source.top_customers(size, country_filter, segment_filter)
        )
        if frame is None:
            return error, None
        shown = frame.select(CUSTOMER_COLUMNS[:-1]).with_row_index("rank", offset=1)
        note = "" if shown.height else render.message(
            "info", "No customer matches these filters.", "Choose another country or segment."
        )
        return note, _pandas(shown.with_columns(pl.col("rank").cast(pl.Int64)))

    def segments(self, label: str) -> tuple[str, pd.DataFrame | None, pd.DataFrame | None]:
        source = self._source(label)
        frame, error = _guard(source, source.segments)
        if frame is None:
            return error, None, None
        return "", _pandas(frame), _pandas(frame)

    def filters(self, label: str) -> tuple[Any, Any]:
        source = self._source(label)
        frames, _ = _guard(source, lambda: (source.revenue_by_country(), source.segments()))
        if frames is None:
            return gr.update(), gr.update()
        countries = sorted(frames[0]["country"].to_list())
        segments = sorted(frames[1]["segment"].to_list())
        return (gr.update(choices=[ALL, *countries]), gr.update(choices=[ALL, *segments]))

    def compare(
        self, repeats: float, progress: gr.Progress = gr.Progress()  # noqa: B008 - Gradio injects it
    ) -> tuple[Any, ...]:
        runs = max(1, min(int(repeats or 5), 50))
        sources = list(self.sources.values())

        def step(done: int, total: int, what: str) -> None:
            progress((done, total), desc=f"Loading {what}")

        results = compare_sources(sources, runs, on_step=step)
        frame = latency_frame(results)
        plot = frame.with_columns(
            (pl.col("view") + " · " + pl.col("source").str.split(" ").list.first()).alias("bar")
        )
        return (render.comparison(results, [s.label for s in sources], runs),
                _pandas(frame), _pandas(plot))


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return value.isoformat(sep=" ") if hasattr(value, "hour") else str(value)


def build_app(settings: Settings, sources: Mapping[str, DataSource] | None = None) -> gr.Blocks:
    """The app. ``sources`` defaults to the lake and the API described by ``settings``."""
    sources = dict(sources or default_sources(settings))
    h = Handlers(sources, settings.currency)
    first = next(iter(sources))
    table = {"interactive": False, "max_height": 420}

    with gr.Blocks(title="Medallion analytics") as app:
        with gr.Row(equal_height=True, elem_id="header"):
            gr.Markdown("# Medallion analytics\nGold tables of the lakehouse, from the lake "
                        "or from the GraphQL API.", elem_id="title")
            source = gr.Radio(list(sources), value=first, label="Source",
                              info="applies to every tab", elem_id="source-switch", scale=0,
                              min_width=320)
        where = gr.Markdown(h.where(first), elem_id="where")

        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("KPIs", id="kpis", elem_id="tab-kpis"):
                kpi_html = gr.HTML(elem_id="kpis")
                kpi_refresh = gr.Button("Refresh", size="sm", elem_id="kpi-refresh")

            with gr.Tab("Revenue", id="revenue", elem_id="tab-revenue"):
                revenue_status = gr.HTML(elem_id="revenue-status")
                with gr.Row():
                    by_country_plot = gr.BarPlot(
                        x="country", y="total_revenue", title="Revenue by country",
                        x_title="Country", y_title="Revenue", sort="-y", x_label_angle=-40,
                        tooltip="all", height=320, scale=3)
                    by_country = gr.Dataframe(label="By country", scale=2, **table)
                with gr.Row():
                    by_product_plot = gr.BarPlot(
                        x="product", y="total_revenue", title="Revenue by product",
                        x_title="Product", y_title="Revenue", sort="-y", x_label_angle=-40,
                        tooltip="all", height=320, scale=3)
                    by_product = gr.Dataframe(label="By product", scale=2, **table)
                with gr.Row():
                    monthly_plot = gr.LinePlot(
                        x="month_start", y="total_revenue", title="Monthly revenue",
                        x_title="Month", y_title="Revenue", tooltip=["month", "total_orders"],
                        height=320, scale=3)
                    monthly = gr.Dataframe(label="Monthly", scale=2, **table)
                revenue_refresh = gr.Button("Refresh", size="sm")

            with gr.Tab("Customers", id="customers", elem_id="tab-customers"):
                gr.Markdown("### Look up a customer")
                with gr.Row(equal_height=True):
                    query = gr.Textbox(label="Customer id or email", placeholder="e.g. 42 or "
                                       "jane.doe@example.com", elem_id="customer-query", scale=4)
                    lookup_btn = gr.Button("Look up", variant="primary", elem_id="lookup",
                                           scale=1)
                customer_html = gr.HTML(elem_id="customer")
                customer_details = gr.Dataframe(label="All metrics", **table)
                gr.Markdown("### Top customers")
                with gr.Row(equal_height=True):
                    top_n = gr.Slider(5, 200, value=20, step=5, label="How many")
                    country = gr.Dropdown([ALL], value=ALL, label="Country",
                                          allow_custom_value=True)
                    segment = gr.Dropdown([ALL], value=ALL, label="Segment",
                                          allow_custom_value=True)
                top_status = gr.HTML()
                top = gr.Dataframe(label="Top customers by total spent", **table)
                gr.Markdown("### Segments")
                segments_status = gr.HTML()
                with gr.Row():
                    segments_plot = gr.BarPlot(
                        x="segment", y="total_spent", title="Total spent by segment",
                        x_title="Segment", y_title="Total spent", sort="-y", tooltip="all",
                        height=300, scale=3)
                    segments_table = gr.Dataframe(label="Segments", scale=2, **table)

            with gr.Tab("Sources", id="sources", elem_id="tab-sources"):
                gr.Markdown("Loads every view from **both** sources several times, then shows "
                            "the latency of each (median and p25–p75 spread) and whether the "
                            "numbers are exactly the same.")
                with gr.Row(equal_height=True):
                    repeats = gr.Slider(1, 30, value=5, step=1, label="Loads per view and source")
                    compare_btn = gr.Button("Compare sources", variant="primary",
                                            elem_id="compare")
                compare_html = gr.HTML(elem_id="compare-result")
                with gr.Row():
                    latency_plot = gr.BarPlot(
                        x="bar", y="median_ms", color="source", title="Median latency (ms)",
                        x_title="View · source", y_title="ms", x_label_angle=-40,
                        tooltip="all", height=320, scale=3)
                    latency_table = gr.Dataframe(label="Latency (ms)", scale=2, **table)

        on_load = [app.load, source.change]
        gr.on(on_load, h.where, [source], [where], api_name="where", show_progress="hidden")
        gr.on([*on_load, kpi_refresh.click], h.kpis, [source], [kpi_html], api_name="kpis")
        gr.on([*on_load, revenue_refresh.click], h.revenue, [source],
              [revenue_status, by_country_plot, by_country, by_product_plot, by_product,
               monthly_plot, monthly], api_name="revenue")
        gr.on(on_load, h.filters, [source], [country, segment], api_name="filters",
              show_progress="hidden")
        gr.on([*on_load, top_n.release, country.change, segment.change], h.top_customers,
              [source, top_n, country, segment], [top_status, top], api_name="top_customers")
        gr.on(on_load, h.segments, [source], [segments_status, segments_plot, segments_table],
              api_name="segments")
        gr.on([lookup_btn.click, query.submit, source.change], h.lookup, [source, query],
              [customer_html, customer_details], api_name="customer")
        compare_btn.click(h.compare, [repeats], [compare_html, latency_table, latency_plot],
                          api_name="compare_sources", concurrency_limit=1)
    return app


def launch(settings: Settings, **kwargs: Any) -> gr.Blocks:
    app = build_app(settings)
    app.queue(default_concurrency_limit=8)
    app.launch(server_name=settings.host, server_port=settings.port, theme=gr.themes.Soft(),
               css=CSS, show_error=True, **kwargs)
    return app
