"""The base of the app's event handlers: the data sources the user picks from."""

from __future__ import annotations

from collections.abc import Mapping

import gradio as gr

from ui.sources import DataSource


class SourceHandlers:
    """Handlers that read from the source chosen by its label in the app."""

    def __init__(self, sources: Mapping[str, DataSource], currency: str) -> None:
        self.sources = sources
        self.currency = currency

    def _source(self, label: str) -> DataSource:
        if label not in self.sources:
            raise gr.Error(f"Unknown source {label!r}: choose one of {list(self.sources)}")
        return self.sources[label]
