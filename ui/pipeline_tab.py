"""The Pipeline tab, and the provenance line every tab shows under the header.

Run history (status, duration, rows by stage), rows rejected by reason over runs, the
reconciliation of the last run, a sample of quarantined rows, and the freshness of gold,
from the lake (Kedro catalog) or from the API (what the export published with gold).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import gradio as gr
import pandas as pd
import polars as pl

from ui import render
from ui.source_handlers import SourceHandlers
from ui.sources import DataSource, GraphQLSource, LakeSource, SourceError
from ui.sources.pipeline import (
    QUALITY_COLUMNS,
    RECONCILIATION_COLUMNS,
    RUN_COLUMNS,
    Provenance,
    pipeline_of,
)
from ui.widgets import bar, table

log = logging.getLogger(__name__)

RUNS_SHOWN = 20
QUARANTINE_SHOWN = 10


def short(run_id: str | None) -> str:
    return "–" if not run_id else run_id if len(run_id) <= 24 else f"{run_id[:8]}…{run_id[-6:]}"


def age(at: datetime | None, now: datetime | None = None) -> str:
    """``at`` as an age in plain words, e.g. ``3 h 12 min ago``."""
    if at is None:
        return "at an unknown time"
    seconds = max(0, int(((now or datetime.now(UTC)) - at).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h ago"
    if hours:
        return f"{hours} h {minutes} min ago"
    return f"{minutes} min ago" if minutes else f"{seconds} s ago"


def _when(at: datetime | None) -> str:
    return "–" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def describe(label: str, p: Provenance) -> str:
    """One sentence: which run (and export) a source serves and how fresh it is."""
    gold = (
        f"gold of lake run `{short(p.gold_run)}`, committed {_when(p.gold_committed_at)} "
        f"({age(p.gold_committed_at)})"
    )
    if p.export_run is None:
        return f"{label} serves {gold}."
    return (
        f"{label} serves export `{short(p.export_run)}` (published {_when(p.exported_at)}, "
        f"{age(p.exported_at)}) of {gold}."
    )


def _provenance(source: DataSource) -> tuple[Provenance | None, str]:
    try:
        return pipeline_of(source).provenance(), ""
    except SourceError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - shown, and logged with its traceback
        log.exception("provenance of %s", source.label)
        return None, f"{type(exc).__name__}: {exc}"


def mismatch(lake: Provenance, api: Provenance) -> str | None:
    """The plain-words warning when the lake and the API serve different runs, else None."""
    if lake.gold_run == api.gold_run and lake.gold_run is not None:
        return None
    return (
        f"The lake and the API serve different runs. The lake's gold tables come from run "
        f"{short(lake.gold_run)} (committed {_when(lake.gold_committed_at)}); the API serves "
        f"export {short(api.export_run)}, made from gold run {short(api.gold_run)} "
        f"(committed {_when(api.gold_committed_at)}). The two sources can show different "
        "numbers until `kedro run --pipelines export` publishes the lake's gold to MongoDB."
    )


class PipelineHandlers(SourceHandlers):
    """Handlers of the Pipeline tab and of the provenance line."""

    def provenance(self, label: str) -> str:
        """Which run the chosen source serves; and whether lake and API agree on it."""
        source = self._source(label)
        mine, error = _provenance(source)
        lines = [
            render.message("info", "Data being read:", describe(label, mine))
            if mine is not None
            else render.message("warning", f"Cannot tell which run {label} serves.", error)
        ]
        lake = next((s for s in self.sources.values() if isinstance(s, LakeSource)), None)
        api = next((s for s in self.sources.values() if isinstance(s, GraphQLSource)), None)
        if lake is not None and api is not None:
            lake_p = mine if source is lake else _provenance(lake)[0]
            api_p = mine if source is api else _provenance(api)[0]
            if lake_p is not None and api_p is not None:
                warning = mismatch(lake_p, api_p)
                if warning:
                    lines.append(render.message("warning", "Different runs.", warning))
        return "".join(lines)

    def view(self, label: str) -> tuple[Any, ...]:
        source = self._source(label)
        pipeline = pipeline_of(source)
        messages: list[str] = []

        def attempt(what: str, call: Any, empty: Any) -> Any:
            try:
                return call()
            except SourceError as exc:
                messages.append(
                    render.message("error", f"{what}: {label} cannot answer.", str(exc))
                )
                return empty

        runs = attempt("Run history", lambda: pipeline.runs(RUNS_SHOWN), None)
        quality = attempt("Data quality", lambda: pipeline.quality(RUNS_SHOWN), None)
        recon_run, recon = attempt("Reconciliation", pipeline.reconciliation, (None, None))
        sample = attempt("Quarantine", lambda: pipeline.quarantine(QUARANTINE_SHOWN), None)
        fresh = attempt("Freshness", pipeline.provenance, None)

        freshness = (
            render.message(
                "ok" if fresh.gold_committed_at else "warning",
                f"Gold built {age(fresh.gold_committed_at)}",
                f"by lake run `{short(fresh.gold_run)}` at {_when(fresh.gold_committed_at)}"
                + (
                    f"; exported {age(fresh.exported_at)} as export `{short(fresh.export_run)}`"
                    if fresh.export_run
                    else ""
                )
                + ".",
            )
            if fresh is not None
            else ""
        )
        runs_view = self._table(runs, RUN_COLUMNS)
        chart = _rejected_by_run(quality) if quality is not None and quality.height else None
        recon_title = (
            f"Reconciliation of run `{short(recon_run)}`: bronze = silver + rejected + "
            "duplicates removed"
            if recon_run
            else "No run has reconciled data yet."
        )
        quarantine = (
            render.message(
                "info",
                "Quarantined rows are not published by the API",
                "they hold the raw text of rejected rows; switch to the lake source to see them.",
            )
            if sample is None and not any("Quarantine" in m for m in messages)
            else ""
        )
        return (
            "".join(messages) + freshness,
            runs_view,
            chart,
            self._table(quality, QUALITY_COLUMNS),
            f"#### {recon_title}",
            self._table(recon, RECONCILIATION_COLUMNS),
            quarantine,
            self._table(sample, ("table", "key", "values", "reason")),
        )

    def _table(self, frame: pl.DataFrame | None, columns: tuple[str, ...]) -> Any:
        if frame is None:
            return pd.DataFrame({render.label(c): pd.Series(dtype="object") for c in columns})
        ids = [c for c in ("run_id", "export_run_id") if c in frame.columns]
        shown = frame.with_columns(
            pl.col(pl.Datetime("us", "UTC")).dt.strftime("%Y-%m-%d %H:%M:%S"),
            *(_short_id(c) for c in ids),
            *([pl.col("seconds").round(1)] if "seconds" in frame.columns else []),
        )
        return render.table_view(shown, self.currency)


def _rejected_by_run(quality: pl.DataFrame) -> pd.DataFrame:
    """Rejected rows by run and ``table: reason``, for the bar chart, oldest run first.

    A run is labelled by its start to the second and the end of its id (a UUIDv7 starts
    with its time, so its head would not tell two runs of one minute apart); rows are
    summed per run id, never per label. A reason is named by its head, the text before
    its first colon (``duplicate key``), so the legend is not cut; the table beside the
    chart gives each reason whole.
    """
    run = pl.format(
        "{} ·{}", pl.col("started_at").dt.strftime("%m-%d %H:%M:%S"), pl.col("run_id").str.slice(-4)
    )
    return (
        quality.filter(pl.col("kind") == "rejected")
        .with_columns(
            run.alias("run"),
            pl.format("{}: {}", "table", pl.col("reason").str.split(":").list.first()).alias(
                "reason"
            ),
        )
        .group_by("run_id", "started_at", "run", "reason")
        .agg(pl.col("rows").sum())
        .sort("started_at", "run_id", "reason")
        .select("run", "reason", "rows")
        .to_pandas()
    )


def _short_id(column: str) -> pl.Expr:
    """The run ids of ``column`` shortened as :func:`short` does."""
    ids = pl.col(column)
    shortened = pl.concat_str(ids.str.slice(0, 8), pl.lit("…"), ids.str.slice(-6))
    return pl.when(ids.str.len_chars() > 24).then(shortened).otherwise(ids).alias(column)


def build_pipeline_tab(h: PipelineHandlers, source: gr.Radio, on_load: list[Any]) -> None:
    """The Pipeline tab (call inside ``gr.Tabs``) and its events."""
    with gr.Tab("Pipeline", id="pipeline", elem_id="tab-pipeline"):
        status = gr.HTML(elem_id="pipeline-status")
        gr.Markdown("### Runs")
        # widths for the columns of RUN_COLUMNS, so the table fits 1280 px and rows by
        # stage (the longest text) wraps instead of pushing the others out of view
        runs = table(
            "Last runs, newest first",
            elem_id="pipeline-runs",
            column_widths=["12%", "9%", "11%", "14%", "7%", "27%", "12%", "8%"],
        )
        # the chart takes the whole width, so its legend's reasons are not cut
        chart = bar(
            "run",
            "rows",
            "Rows rejected by reason, per run",
            "Run",
            "Rows",
            sort=None,  # runs in time order
            color="reason",
            elem_id="pipeline-rejected",
        )
        quality = table("Rejected and warned rows by reason", max_height=320)
        recon_title = gr.Markdown()
        recon = table("Reconciliation", elem_id="pipeline-reconciliation")
        gr.Markdown("### Quarantined rows (sample)")
        quarantine_note = gr.HTML()
        quarantine = table("Rows rejected by silver, with their reason", max_height=320)
        refresh = gr.Button("Refresh", size="sm", elem_id="pipeline-refresh")
    outputs = [status, runs, chart, quality, recon_title, recon, quarantine_note, quarantine]
    gr.on([*on_load, refresh.click], h.view, [source], outputs, api_name="pipeline")
