"""The app's read-only tables and bar charts, with the options every tab shares."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd


def table(
    label: str, scale: int | None = None, value: pd.DataFrame | None = None, **options: Any
) -> Any:
    """A read-only table; click a header to sort. Cells wrap, so no column is cut off."""
    settings: dict[str, Any] = {"max_height": 420, **options}
    return gr.Dataframe(
        value=value, label=label, scale=scale, interactive=False, wrap=True, **settings
    )


def bar(x: str, y: str, title: str, x_title: str, y_title: str, **options: Any) -> gr.BarPlot:
    """Bars, largest first unless ``sort`` says otherwise, from zero up."""
    settings: dict[str, Any] = {
        "sort": "-y",
        "tooltip": "all",
        "height": 320,
        "scale": 3,
        "y_lim": [0, None],
        "x_label_angle": -40,
        **options,
    }
    return gr.BarPlot(x=x, y=y, title=title, x_title=x_title, y_title=y_title, **settings)
