"""Data sources of the app: one interface (:class:`DataSource`), two implementations."""

from __future__ import annotations

from ui.sources.base import (
    Customer,
    DataSource,
    Kpis,
    SourceError,
    SourceUnavailableError,
)
from ui.sources.graphql import GraphQLSource
from ui.sources.lake import LakeSource

__all__ = [
    "Customer",
    "DataSource",
    "GraphQLSource",
    "Kpis",
    "LakeSource",
    "SourceError",
    "SourceUnavailableError",
]
