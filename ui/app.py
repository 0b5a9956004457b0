"""The Gradio app: KPIs, Revenue, Customers and Sources tabs, one source switch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import gradio as gr
import pandas as pd
import polars as pl

from medallion_kedro.schemas import GOLD
from ui import render
from ui.auth import login_check
from ui.compare import VIEWS, compare_sources, latency_frame
from ui.config import Settings
from ui.sources import DataSource, GraphQLSource, LakeSource, SourceError
from ui.sources.base import SEGMENT_COLUMNS
from ui.style import CSS

log = logging.getLogger(__name__)

ALL = "All"
T = TypeVar("T")

#: Customer fields in the order the app shows them.
CUSTOMER_COLUMNS = [
    "customer_id", "name", "email", "country", "segment", "total_spent", "order_count",
    "avg_basket", "first_order", "last_order", "recency_days", "rfm_score", "signup_date",
]  # fmt: skip
#: The Top customers table: enough to pick a customer at 1280 px (the lookup shows the rest).
TOP_COLUMNS = [
    "rank", "customer_id", "name", "country", "segment", "total_spent", "order_count",
    "avg_basket", "last_order", "recency_days", "rfm_score",
]  # fmt: skip
LATENCY_COLUMNS = ["view", "source", "runs", "median_ms", "p25_ms", "p75_ms", "min_ms", "max_ms"]


def default_sources(settings: Settings) -> dict[str, DataSource]:
    lake = LakeSource(settings.project_path, settings.kedro_env)
    api = GraphQLSource(settings.api_url, token=settings.api_token)
    return {lake.label: lake, api.label: api}


def _pandas(frame: pl.DataFrame) -> pd.DataFrame:
    return frame.to_pandas()


def _empty(columns: Sequence[str]) -> pd.DataFrame:
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
            lambda: (source.revenue_by_country(), source.revenue_by_product(),
                     source.monthly_revenue()),
        )  # fmt: skip
        if frames is None:
            country_cols, product_cols, month_cols = (
                GOLD[t].names() for t in ("revenue_by_country", "revenue_by_product",
                                          "monthly_revenue")
            )  # fmt: skip
            return (error, None, _empty(country_cols), None, _empty(product_cols), None,
                    _empty(month_cols))  # fmt: skip
        country, product, monthly = frames
        country = country.sort(["total_revenue", "country"], descending=[True, False])
        product = product.sort(["total_revenue", "product"], descending=[True, False])
        return ("", _pandas(country), self._view(country), _pandas(product), self._view(product),
                _pandas(monthly), self._view(monthly))  # fmt: skip

    def lookup(self, label: str, query: str) -> tuple[str, Any]:
        source = self._source(label)
        text = (query or "").strip()
        nothing = _empty(["field", "value"])
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
            {render.label("field"): [render.label(c) for c in CUSTOMER_COLUMNS],
             render.label("value"): [self._detail(customer, c) for c in CUSTOMER_COLUMNS]}
        )  # fmt: skip
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
            return error, _empty(TOP_COLUMNS)
        shown = (
            frame.with_row_index("rank", offset=1)
            .select(TOP_COLUMNS)
            .with_columns(pl.col("last_order").dt.date())
        )
        note = "" if shown.height else render.message(
            "info", "No customer matches these filters.", "Choose another country or segment."
        )  # fmt: skip
        return note, self._view(shown.with_columns(pl.col("rank").cast(pl.Int64)))

    def segments(self, label: str) -> tuple[str, pd.DataFrame | None, Any]:
        source = self._source(label)
        frame, error = _guard(source, source.segments)
        if frame is None:
            return error, None, _empty(SEGMENT_COLUMNS)
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


def _table(label: str, scale: int | None = None, value: pd.DataFrame | None = None) -> Any:
    """A read-only table; click a header to sort. Cells wrap, so no column is cut off."""
    return gr.Dataframe(
        value=value, label=label, scale=scale, interactive=False, max_height=420, wrap=True
    )


def _bar(x: str, y: str, title: str, x_title: str, y_title: str, **kwargs: Any) -> gr.BarPlot:
    options: dict[str, Any] = {"sort": "-y", "tooltip": "all", "height": 320, "scale": 3,
                               "y_lim": [0, None], "x_label_angle": -40, **kwargs}  # fmt: skip
    return gr.BarPlot(x=x, y=y, title=title, x_title=x_title, y_title=y_title, **options)


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
                list(sources), value=first, label="Source", info="applies to every tab",
                elem_id="source-switch", scale=0, min_width=340,
            )  # fmt: skip
        where = gr.Markdown(h.where(first), elem_id="where")

        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("KPIs", id="kpis", elem_id="tab-kpis"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=460):
                        kpi_html = gr.HTML(render.message("info", "Loading…"), elem_id="kpis")
                    with gr.Column(scale=2, min_width=360):
                        kpi_trend = gr.LinePlot(
                            x="month", y="total_revenue", title="Monthly revenue",
                            x_title="Month", y_title="Revenue", tooltip="all", x_label_angle=-60,
                            height=300, y_lim=[0, None], elem_id="kpi-trend",
                        )  # fmt: skip
                kpi_refresh = gr.Button("Refresh", size="sm", elem_id="kpi-refresh")

            with gr.Tab("Revenue", id="revenue", elem_id="tab-revenue"):
                revenue_status = gr.HTML(elem_id="revenue-status")
                with gr.Row():
                    by_country_plot = _bar(
                        "country", "total_revenue", "Revenue by country", "Country", "Revenue"
                    )
                    by_country = _table("By country", 3, _empty(GOLD["revenue_by_country"].names()))
                with gr.Row():
                    by_product_plot = _bar(
                        "product", "total_revenue", "Revenue by product", "Product", "Revenue"
                    )
                    by_product = _table("By product", 3, _empty(GOLD["revenue_by_product"].names()))
                with gr.Row():
                    monthly_plot = gr.LinePlot(
                        x="month", y="total_revenue", title="Monthly revenue", x_title="Month",
                        y_title="Revenue", tooltip="all", x_label_angle=-60, height=320,
                        scale=3, y_lim=[0, None],
                    )  # fmt: skip
                    monthly = _table("Monthly", 3, _empty(GOLD["monthly_revenue"].names()))
                revenue_refresh = gr.Button("Refresh", size="sm")

            with gr.Tab("Customers", id="customers", elem_id="tab-customers"):
                gr.Markdown("### Look up a customer")
                with gr.Row(equal_height=True):
                    query = gr.Textbox(
                        label="Customer id or email", placeholder="e.g. 42 or ada@example.com",
                        elem_id="customer-query", scale=4,
                    )  # fmt: skip
                    lookup_btn = gr.Button(
                        "Look up", variant="primary", elem_id="lookup", scale=1, min_width=120
                    )
                customer_html = gr.HTML(elem_id="customer")
                customer_details = _table("All metrics", value=_empty(["field", "value"]))
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
                top = _table("Top customers by total spent", value=_empty(TOP_COLUMNS))
                gr.Markdown("### Segments")
                segments_status = gr.HTML()
                with gr.Row():
                    segments_plot = _bar(
                        "segment", "total_spent", "Total spent by segment", "Segment",
                        "Total spent", x_label_angle=0,
                    )  # fmt: skip
                    segments_table = _table("Segments", 2, _empty(SEGMENT_COLUMNS))

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
                latency_plot = _bar(
                    "bar", "median_ms", "Median latency", "View · source", "ms",
                    color="source", sort=_bar_order(sources),
                )  # fmt: skip
                latency_table = _table("Latency (ms)", value=_empty(LATENCY_COLUMNS))

        on_load = [app.load, source.change]
        gr.on(on_load, h.where, [source], [where], api_name="where", show_progress="hidden")
        gr.on([*on_load, kpi_refresh.click], h.kpis, [source], [kpi_html], api_name="kpis")
        gr.on([*on_load, kpi_refresh.click], h.kpi_trend, [source], [kpi_trend],
              api_name="kpi_trend", show_progress="hidden")  # fmt: skip
        gr.on(
            [*on_load, revenue_refresh.click], h.revenue, [source],
            [revenue_status, by_country_plot, by_country, by_product_plot, by_product,
             monthly_plot, monthly],
            api_name="revenue",
        )  # fmt: skip
        gr.on(on_load, h.filters, [source], [country, segment], api_name="filters",
              show_progress="hidden")  # fmt: skip
        gr.on(
            [*on_load, top_n.release, country.change, segment.change], h.top_customers,
            [source, top_n, country, segment], [top_status, top], api_name="top_customers",
        )  # fmt: skip
        gr.on(on_load, h.segments, [source], [segments_status, segments_plot, segments_table],
              api_name="segments")  # fmt: skip
        gr.on(
            [lookup_btn.click, query.submit, source.change], h.lookup, [source, query],
            [customer_html, customer_details], api_name="customer",
        )  # fmt: skip
        compare_btn.click(
            h.compare, [repeats], [compare_html, latency_table, latency_plot],
            api_name="compare_sources", concurrency_limit=1,
        )  # fmt: skip
    return app


def launch(settings: Settings, **kwargs: Any) -> gr.Blocks:
    """Build, queue and serve the app on ``settings.host:settings.port``."""
    app = build_app(settings)
    app.queue(default_concurrency_limit=8)
    if settings.users:  # a login page first; the users come from configuration
        kwargs.setdefault("auth", login_check(settings.users))
        kwargs.setdefault("auth_message", "Sign in with the account you were given.")
    app.launch(
        server_name=settings.host, server_port=settings.port, theme=gr.themes.Soft(), css=CSS,
        show_error=True, **kwargs,
    )  # fmt: skip
    return app
