"""The Gradio app's layout: KPIs, Revenue, Customers and Sources tabs, one source switch.

The components are laid out here and wired to the handlers of ``ui.handlers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gradio as gr

from medallion_kedro.schemas import GOLD
from ui import render
from ui.auth import check_exposure, exposure_guard, login_check
from ui.compare import VIEWS
from ui.config import Settings
from ui.handlers import ALL, CUSTOMER_COLUMNS, LATENCY_COLUMNS, TOP_COLUMNS, Handlers, empty
from ui.pipeline_tab import PipelineHandlers, build_pipeline_tab
from ui.sources import DataSource, GraphQLSource, LakeSource
from ui.sources.base import SEGMENT_COLUMNS
from ui.style import CSS
from ui.widgets import bar, table

__all__ = ["CUSTOMER_COLUMNS", "build_app", "default_sources", "launch"]


def default_sources(settings: Settings) -> dict[str, DataSource]:
    lake = LakeSource(settings.project_path, settings.kedro_env)
    api = GraphQLSource(settings.api_url, token=settings.api_token)
    return {lake.label: lake, api.label: api}


def _monthly_line(**kwargs: Any) -> gr.LinePlot:
    """Monthly revenue as a line (the KPI trend and the Revenue tab's plot)."""
    return gr.LinePlot(
        x="month",
        y="total_revenue",
        title="Monthly revenue",
        x_title="Month",
        y_title="Revenue",
        tooltip="all",
        x_label_angle=-60,
        y_lim=[0, None],
        **kwargs,
    )


def _bar_order(sources: Mapping[str, DataSource]) -> list[str]:
    """Bars of the latency plot grouped by view, in the order the views are loaded."""
    return [f"{view} · {label.split(' ')[0]}" for view in VIEWS for label in sources]


def build_app(settings: Settings, sources: Mapping[str, DataSource] | None = None) -> gr.Blocks:
    """The app. ``sources`` defaults to the lake and the API described by ``settings``."""
    sources = dict(sources or default_sources(settings))
    h = Handlers(sources, settings.currency)
    first = next(iter(sources))

    with gr.Blocks(title="Medallion analytics") as app:
        with gr.Row(equal_height=True, elem_id="header"):
            gr.Markdown(
                "# Medallion analytics\nGold tables of the lakehouse: revenue, customers and "
                "their segments.",
                elem_id="title",
            )
            source = gr.Radio(
                list(sources),
                value=first,
                label="Source",
                info="applies to every tab",
                elem_id="source-switch",
                scale=0,
                min_width=340,
            )
        where = gr.Markdown(h.where(first), elem_id="where")
        provenance = gr.HTML(elem_id="provenance")  # which run and export every tab reads
        on_load = [app.load, source.change]

        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("KPIs", id="kpis", elem_id="tab-kpis"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=460):
                        kpi_html = gr.HTML(render.message("info", "Loading…"), elem_id="kpis")
                    with gr.Column(scale=2, min_width=360):
                        kpi_trend = _monthly_line(height=300, elem_id="kpi-trend")
                kpi_refresh = gr.Button("Refresh", size="sm", elem_id="kpi-refresh")

            with gr.Tab("Revenue", id="revenue", elem_id="tab-revenue"):
                revenue_status = gr.HTML(elem_id="revenue-status")
                with gr.Row():
                    by_country_plot = bar(
                        "country", "total_revenue", "Revenue by country", "Country", "Revenue"
                    )
                    by_country = table("By country", 3, empty(GOLD["revenue_by_country"].names()))
                with gr.Row():
                    by_product_plot = bar(
                        "product", "total_revenue", "Revenue by product", "Product", "Revenue"
                    )
                    by_product = table("By product", 3, empty(GOLD["revenue_by_product"].names()))
                with gr.Row():
                    monthly_plot = _monthly_line(height=320, scale=3)
                    monthly = table("Monthly", 3, empty(GOLD["monthly_revenue"].names()))
                revenue_refresh = gr.Button("Refresh", size="sm")

            with gr.Tab("Customers", id="customers", elem_id="tab-customers"):
                gr.Markdown("### Look up a customer")
                with gr.Row(equal_height=True):
                    query = gr.Textbox(
                        label="Customer id or email",
                        placeholder="e.g. 42 or ada@example.com",
                        elem_id="customer-query",
                        scale=4,
                    )
                    lookup_btn = gr.Button(
                        "Look up", variant="primary", elem_id="lookup", scale=1, min_width=120
                    )
                customer_html = gr.HTML(elem_id="customer")
                customer_details = table("All metrics", value=empty(["field", "value"]))
                gr.Markdown("### Top customers")
                with gr.Row(equal_height=True):
                    top_n = gr.Slider(5, 200, value=20, step=5, label="How many")
                    country = gr.Dropdown(
                        [ALL], value=ALL, label="Country", allow_custom_value=True
                    )
                    segment = gr.Dropdown(
                        [ALL], value=ALL, label="Segment", allow_custom_value=True
                    )
                top_status = gr.HTML()
                top = table("Top customers by total spent", value=empty(TOP_COLUMNS))
                gr.Markdown("### Segments")
                segments_status = gr.HTML()
                with gr.Row():
                    segments_plot = bar(
                        "segment",
                        "total_spent",
                        "Total spent by segment",
                        "Segment",
                        "Total spent",
                        x_label_angle=0,
                    )
                    segments_table = table("Segments", 2, empty(SEGMENT_COLUMNS))

            with gr.Tab("Sources", id="sources", elem_id="tab-sources"):
                gr.Markdown(
                    "Loads every view from **both** sources several times, then shows the "
                    "latency of each (median and p25–p75 spread) and whether the numbers "
                    "are exactly the same."
                )
                with gr.Row(equal_height=True):
                    repeats = gr.Slider(1, 30, value=5, step=1, label="Loads per view and source")
                    compare_btn = gr.Button(
                        "Compare sources", variant="primary", elem_id="compare", min_width=160
                    )
                compare_html = gr.HTML(elem_id="compare-result")
                latency_plot = bar(
                    "bar",
                    "median_ms",
                    "Median latency",
                    "View · source",
                    "ms",
                    color="source",
                    sort=_bar_order(sources),
                )
                latency_table = table("Latency (ms)", value=empty(LATENCY_COLUMNS))

            pipeline = PipelineHandlers(sources, settings.currency)
            build_pipeline_tab(pipeline, source, on_load)

        gr.on(on_load, pipeline.provenance, [source], [provenance], api_name="provenance")
        gr.on(on_load, h.where, [source], [where], api_name="where", show_progress="hidden")
        gr.on([*on_load, kpi_refresh.click], h.kpis, [source], [kpi_html], api_name="kpis")
        gr.on(
            [*on_load, kpi_refresh.click],
            h.kpi_trend,
            [source],
            [kpi_trend],
            api_name="kpi_trend",
            show_progress="hidden",
        )
        gr.on(
            [*on_load, revenue_refresh.click],
            h.revenue,
            [source],
            [
                revenue_status,
                by_country_plot,
                by_country,
                by_product_plot,
                by_product,
                monthly_plot,
                monthly,
            ],
            api_name="revenue",
        )
        gr.on(
            on_load,
            h.filters,
            [source],
            [country, segment],
            api_name="filters",
            show_progress="hidden",
        )
        gr.on(
            [*on_load, top_n.release, country.change, segment.change],
            h.top_customers,
            [source, top_n, country, segment],
            [top_status, top],
            api_name="top_customers",
        )
        gr.on(
            on_load,
            h.segments,
            [source],
            [segments_status, segments_plot, segments_table],
            api_name="segments",
        )
        gr.on(
            [lookup_btn.click, query.submit, source.change],
            h.lookup,
            [source, query],
            [customer_html, customer_details],
            api_name="customer",
        )
        compare_btn.click(
            h.compare,
            [repeats],
            [compare_html, latency_table, latency_plot],
            api_name="compare_sources",
            concurrency_limit=1,
        )
    return app


def launch(settings: Settings, **kwargs: Any) -> gr.Blocks:
    """Build, queue and serve the app on ``settings.host:settings.port``."""
    check_exposure(settings.host, settings.users)
    kwargs.setdefault("app_kwargs", exposure_guard(settings.users))
    app = build_app(settings)
    app.queue(default_concurrency_limit=8)
    if settings.users:  # a login page first; the users come from configuration
        kwargs.setdefault("auth", login_check(settings.users))
        kwargs.setdefault("auth_message", "Sign in with the account you were given.")
    app.launch(
        server_name=settings.host,
        server_port=settings.port,
        theme=gr.themes.Soft(),
        css=CSS,
        show_error=True,
        **kwargs,
    )
    return app
